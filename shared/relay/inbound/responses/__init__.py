"""OpenAI Responses (`/v1/responses`): passed through to OpenAI and Azure channels, converted
through chat completions for every other channel (shared.relay.inbound.responses.relay)."""
