"""The OpenAI family: every channel type whose API type is openai."""
