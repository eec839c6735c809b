"""Inbound API formats other than OpenAI chat completions (Gemini's native API, OpenAI's Responses,
Anthropic's Messages). Each converts its request into the chat body the relay pipeline
(shared.relay.text) already serves and converts the pipeline's answer back on the way out, so that
auth, channel choice, failover, limits, QUOTA_STRICT, billing and logs are those of
/v1/chat/completions. One package per format, each with the same parts: a request converter
(format -> chat request), an answer converter (chat answer -> format), a stream converter (chat
chunks -> format events), the format's error shape, and a pass-through path for channels that speak
the format natively.
"""
