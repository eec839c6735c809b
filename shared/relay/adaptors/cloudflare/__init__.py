"""Cloudflare Workers AI (type 37): account-scoped URLs. Not relayed yet: `adaptor=None` makes the engine answer "channel type … is not supported yet"."""
