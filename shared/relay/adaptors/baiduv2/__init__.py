"""Baidu Qianfan V2 (type 47): OpenAI-protocol chat on /v2."""
