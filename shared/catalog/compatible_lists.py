"""Model lists of the providers reached through the OpenAI adaptor (relay/adaptor/<provider>/
constants.go and openai/compatible.go). Pure data: tuples, never mutated."""

from __future__ import annotations

AI360 = ("360GPT_S2_V9", "embedding-bert-512-v1", "embedding_s1_v1", "semantic_similarity_s1_v1")

MOONSHOT = ("moonshot-v1-8k", "moonshot-v1-32k", "moonshot-v1-128k")

BAICHUAN = ("Baichuan2-Turbo", "Baichuan2-Turbo-192k", "Baichuan-Text-Embedding")

MINIMAX = ("abab6.5-chat", "abab6.5s-chat", "abab6-chat", "abab5.5-chat", "abab5.5s-chat")

DOUBAO = (
    "Doubao-pro-128k", "Doubao-pro-32k", "Doubao-pro-4k",
    "Doubao-lite-128k", "Doubao-lite-32k", "Doubao-lite-4k",
    "Doubao-embedding",
)

MISTRAL = (
    "open-mistral-7b", "open-mixtral-8x7b", "mistral-small-latest", "mistral-medium-latest",
    "mistral-large-latest", "mistral-embed",
)

GROQ = (
    "gemma-7b-it",
    "gemma2-9b-it",
    "llama-3.1-70b-versatile",
    "llama-3.1-8b-instant",
    "llama-3.2-11b-text-preview",
    "llama-3.2-11b-vision-preview",
    "llama-3.2-1b-preview",
    "llama-3.2-3b-preview",
    "llama-3.2-90b-text-preview",
    "llama-3.2-90b-vision-preview",
    "llama-guard-3-8b",
    "llama3-70b-8192",
    "llama3-8b-8192",
    "llama3-groq-70b-8192-tool-use-preview",
    "llama3-groq-8b-8192-tool-use-preview",
    "llava-v1.5-7b-4096-preview",
    "mixtral-8x7b-32768",
    "distil-whisper-large-v3-en",
    "whisper-large-v3",
    "whisper-large-v3-turbo",
)

LINGYIWANWU = ("yi-34b-chat-0205", "yi-34b-chat-200k", "yi-vl-plus")

STEPFUN = (
    "step-1-8k", "step-1-32k", "step-1-128k", "step-1-256k", "step-1-flash", "step-2-16k",
    "step-1v-8k", "step-1v-32k", "step-1x-medium",
)

DEEPSEEK = ("deepseek-chat", "deepseek-reasoner")

TOGETHERAI = (
    "meta-llama/Llama-2-7b-chat-hf",
    "meta-llama/Llama-3-70b-chat-hf",
    "mistralai/Mixtral-8x7B-Instruct-v0.1",
    "Qwen/Qwen1.5-72B-Chat",
)

NOVITA = (
    "meta-llama/llama-3-8b-instruct",
    "meta-llama/llama-3-70b-instruct",
    "nousresearch/hermes-2-pro-llama-3-8b",
    "nousresearch/nous-hermes-llama2-13b",
    "mistralai/mistral-7b-instruct",
    "cognitivecomputations/dolphin-mixtral-8x22b",
    "sao10k/l3-70b-euryale-v2.1",
    "sophosympatheia/midnight-rose-70b",
    "gryphe/mythomax-l2-13b",
    "Nous-Hermes-2-Mixtral-8x7B-DPO",
    "lzlv_70b",
    "teknium/openhermes-2.5-mistral-7b",
    "microsoft/wizardlm-2-8x22b",
)

SILICONFLOW = (
    "deepseek-ai/deepseek-llm-67b-chat",
    "Qwen/Qwen1.5-14B-Chat",
    "Qwen/Qwen1.5-7B-Chat",
    "Qwen/Qwen1.5-110B-Chat",
    "Qwen/Qwen1.5-32B-Chat",
    "01-ai/Yi-1.5-6B-Chat",
    "01-ai/Yi-1.5-9B-Chat-16K",
    "01-ai/Yi-1.5-34B-Chat-16K",
    "THUDM/chatglm3-6b",
    "deepseek-ai/DeepSeek-V2-Chat",
    "THUDM/glm-4-9b-chat",
    "Qwen/Qwen2-72B-Instruct",
    "Qwen/Qwen2-7B-Instruct",
    "Qwen/Qwen2-57B-A14B-Instruct",
    "deepseek-ai/DeepSeek-Coder-V2-Instruct",
    "Qwen/Qwen2-1.5B-Instruct",
    "internlm/internlm2_5-7b-chat",
    "BAAI/bge-large-en-v1.5",
    "BAAI/bge-large-zh-v1.5",
    "Pro/Qwen/Qwen2-7B-Instruct",
    "Pro/Qwen/Qwen2-1.5B-Instruct",
    "Pro/Qwen/Qwen1.5-7B-Chat",
    "Pro/THUDM/glm-4-9b-chat",
    "Pro/THUDM/chatglm3-6b",
    "Pro/01-ai/Yi-1.5-9B-Chat-16K",
    "Pro/01-ai/Yi-1.5-6B-Chat",
    "Pro/google/gemma-2-9b-it",
    "Pro/internlm/internlm2_5-7b-chat",
    "Pro/meta-llama/Meta-Llama-3-8B-Instruct",
    "Pro/mistralai/Mistral-7B-Instruct-v0.2",
)

XAI = ("grok-beta",)

BAIDUV2 = (
    "ernie-4.0-8k-latest",
    "ernie-4.0-8k-preview",
    "ernie-4.0-8k",
    "ernie-4.0-turbo-8k-latest",
    "ernie-4.0-turbo-8k-preview",
    "ernie-4.0-turbo-8k",
    "ernie-4.0-turbo-128k",
    "ernie-3.5-8k-preview",
    "ernie-3.5-8k",
    "ernie-3.5-128k",
    "ernie-speed-8k",
    "ernie-speed-128k",
    "ernie-speed-pro-128k",
    "ernie-lite-8k",
    "ernie-lite-pro-128k",
    "ernie-tiny-8k",
    "ernie-char-8k",
    "ernie-char-fiction-8k",
    "ernie-novel-8k",
    "deepseek-v3",
    "deepseek-r1",
    "deepseek-r1-distill-qwen-32b",
    "deepseek-r1-distill-qwen-14b",
)

XUNFEIV2 = ("lite", "generalv3", "pro-128k", "generalv3.5", "max-32k", "4.0Ultra")

ALIBAILIAN = (
    "qwen-turbo",
    "qwen-plus",
    "qwen-long",
    "qwen-max",
    "qwen-coder-plus",
    "qwen-coder-plus-latest",
    "qwen-coder-turbo",
    "qwen-coder-turbo-latest",
    "qwen-mt-plus",
    "qwen-mt-turbo",
    "qwq-32b-preview",
    "deepseek-r1",
    "deepseek-v3",
)

# Gemini's OpenAI-compatible endpoint (geminiv2); the native Gemini adaptor uses the same list.
GEMINI_OPENAI = (
    "gemini-pro", "gemini-1.0-pro",
    "gemini-1.5-flash", "gemini-1.5-flash-8b",
    "gemini-1.5-pro", "gemini-1.5-pro-experimental",
    "text-embedding-004", "aqa",
    "gemini-2.0-flash", "gemini-2.0-flash-exp",
    "gemini-2.0-flash-lite-preview-02-05",
    "gemini-2.0-flash-thinking-exp-01-21",
    "gemini-2.0-pro-exp-02-05",
)
