"""Any OpenAI-compatible server (type 50): its base URL is used as typed, and the client's /v1 is dropped"""
