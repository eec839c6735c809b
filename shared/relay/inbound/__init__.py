"""Inbound API formats other than OpenAI's: each converts its request into the OpenAI body the relay
pipeline (shared.relay.text) already serves, and converts the pipeline's answer back on the way out.

A format package offers: a request converter (its body -> an OpenAI chat/embeddings body), an answer
converter (OpenAI JSON -> its JSON), a stream converter (OpenAI SSE -> its SSE) and its error shape;
shared.relay.inbound.gemini.reply joins them into one ASGI `send` wrapper.
"""
