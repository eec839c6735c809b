"""Azure OpenAI (type 3): deployment URLs with an api-version, and the `api-key` header."""
