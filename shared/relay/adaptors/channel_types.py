"""The channel type ids (reference §3.8) whose URL or header rules an adaptor needs to know."""

from __future__ import annotations

OPENAI = 1
AZURE = 3
ANTHROPIC = 14
OPENROUTER = 20
GEMINI = 24
MINIMAX = 27
BAICHUAN = 26
DOUBAO = 40
NOVITA = 41
BAIDU_V2 = 47
ALI_BAILIAN = 49
OPENAI_COMPATIBLE = 50
GEMINI_OPENAI_COMPATIBLE = 51

# API type ids (reference §3.8, `relay/apitype`).
API_OPENAI = 0
API_ANTHROPIC = 1
API_GEMINI = 9
