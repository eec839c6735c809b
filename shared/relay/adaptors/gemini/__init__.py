"""Google Gemini generateContent API (channel type 24)."""
