"""Inbound API formats other than OpenAI chat completions, each converted to and from the chat
pipeline (shared.relay.text) so that auth, channel choice, failover, limits, billing and logs are
the ones /v1/chat/completions has. One package per format, each with the same parts:
`convert_request` (format -> chat request), `convert_answer` (chat answer -> format),
a stream converter (chat chunks -> format events) and the format's error shape."""
