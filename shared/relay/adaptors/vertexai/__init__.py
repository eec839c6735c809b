"""Google Vertex AI (type 42): Gemini and Claude with a service-account token. Not relayed yet: `adaptor=None` makes the engine answer "channel type … is not supported yet"."""
