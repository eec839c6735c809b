"""Billing: ratios, prompt-token estimation, quota arithmetic."""
