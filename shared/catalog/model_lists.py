"""Static model lists of the native (non-OpenAI-protocol) adaptors, as One API ships them
(relay/adaptor/<provider>/constants.go). Pure data: tuples, never mutated."""

from __future__ import annotations

OPENAI = (
    "gpt-3.5-turbo", "gpt-3.5-turbo-0301", "gpt-3.5-turbo-0613", "gpt-3.5-turbo-1106", "gpt-3.5-turbo-0125",
    "gpt-3.5-turbo-16k", "gpt-3.5-turbo-16k-0613",
    "gpt-3.5-turbo-instruct",
    "gpt-4", "gpt-4-0314", "gpt-4-0613", "gpt-4-1106-preview", "gpt-4-0125-preview",
    "gpt-4-32k", "gpt-4-32k-0314", "gpt-4-32k-0613",
    "gpt-4-turbo-preview", "gpt-4-turbo", "gpt-4-turbo-2024-04-09",
    "gpt-4o", "gpt-4o-2024-05-13",
    "gpt-4o-2024-08-06",
    "gpt-4o-2024-11-20",
    "chatgpt-4o-latest",
    "gpt-4o-mini", "gpt-4o-mini-2024-07-18",
    "gpt-4o-mini-audio-preview", "gpt-4o-mini-audio-preview-2024-12-17",
    "gpt-4o-audio-preview", "gpt-4o-audio-preview-2024-12-17", "gpt-4o-audio-preview-2024-10-01",
    "gpt-4-vision-preview",
    "text-embedding-ada-002", "text-embedding-3-small", "text-embedding-3-large",
    "text-curie-001", "text-babbage-001", "text-ada-001", "text-davinci-002", "text-davinci-003",
    "text-moderation-latest", "text-moderation-stable",
    "text-davinci-edit-001",
    "davinci-002", "babbage-002",
    "dall-e-2", "dall-e-3",
    "whisper-1",
    "tts-1", "tts-1-1106", "tts-1-hd", "tts-1-hd-1106",
    "o1", "o1-2024-12-17",
    "o1-preview", "o1-preview-2024-09-12",
    "o1-mini", "o1-mini-2024-09-12",
    "o3-mini", "o3-mini-2025-01-31",
)

# One API's list repeats claude-3-5-haiku-20241022; kept, since the catalogue keeps duplicates.
ANTHROPIC = (
    "claude-instant-1.2", "claude-2.0", "claude-2.1",
    "claude-3-haiku-20240307",
    "claude-3-5-haiku-20241022",
    "claude-3-sonnet-20240229",
    "claude-3-opus-20240229",
    "claude-3-5-sonnet-20240620",
    "claude-3-5-sonnet-20241022",
    "claude-3-5-sonnet-latest",
    "claude-3-5-haiku-20241022",
)

PALM = ("PaLM-2",)

BAIDU = (
    "ERNIE-4.0-8K", "ERNIE-3.5-8K", "ERNIE-3.5-8K-0205", "ERNIE-3.5-8K-1222", "ERNIE-Bot-8K",
    "ERNIE-3.5-4K-0205", "ERNIE-Speed-8K", "ERNIE-Speed-128K", "ERNIE-Lite-8K-0922", "ERNIE-Lite-8K-0308",
    "ERNIE-Tiny-8K", "BLOOMZ-7B", "Embedding-V1", "bge-large-zh", "bge-large-en", "tao-8k",
)

ZHIPU = (
    "chatglm_turbo", "chatglm_pro", "chatglm_std", "chatglm_lite",
    "glm-4", "glm-4v", "glm-3-turbo", "embedding-2",
    "cogview-3",
)

ALI = (
    "qwen-turbo", "qwen-plus", "qwen-max", "qwen-max-longcontext",
    "text-embedding-v1",
    "ali-stable-diffusion-xl", "ali-stable-diffusion-v1.5", "wanx-v1",
)

XUNFEI = ("Spark-Lite", "Spark-Pro", "Spark-Pro-128K", "Spark-Max", "Spark-Max-32K", "Spark-4.0-Ultra")

# AI Proxy's knowledge-base adaptor offers the OpenAI list.
AIPROXY_LIBRARY = OPENAI

TENCENT = (
    "hunyuan-lite", "hunyuan-standard", "hunyuan-standard-256K", "hunyuan-pro", "hunyuan-vision",
    "hunyuan-embedding",
)

# Gemini's native adaptor shares the Gemini OpenAI-compatible list (geminiv2).
GEMINI = (
    "gemini-pro", "gemini-1.0-pro",
    "gemini-1.5-flash", "gemini-1.5-flash-8b",
    "gemini-1.5-pro", "gemini-1.5-pro-experimental",
    "text-embedding-004", "aqa",
    "gemini-2.0-flash", "gemini-2.0-flash-exp",
    "gemini-2.0-flash-lite-preview-02-05",
    "gemini-2.0-flash-thinking-exp-01-21",
    "gemini-2.0-pro-exp-02-05",
)

OLLAMA = (
    "codellama:7b-instruct", "llama2:7b", "llama2:latest", "llama3:latest", "phi3:latest", "qwen:0.5b-chat",
    "qwen:7b",
)

# Bedrock model name -> Bedrock model id (One API iterates a Go map, so its order is random;
# here it is fixed: Claude first, then Llama 3).
AWS_MODEL_IDS = (
    ("claude-instant-1.2", "anthropic.claude-instant-v1"),
    ("claude-2.0", "anthropic.claude-v2"),
    ("claude-2.1", "anthropic.claude-v2:1"),
    ("claude-3-haiku-20240307", "anthropic.claude-3-haiku-20240307-v1:0"),
    ("claude-3-sonnet-20240229", "anthropic.claude-3-sonnet-20240229-v1:0"),
    ("claude-3-opus-20240229", "anthropic.claude-3-opus-20240229-v1:0"),
    ("claude-3-5-sonnet-20240620", "anthropic.claude-3-5-sonnet-20240620-v1:0"),
    ("claude-3-5-sonnet-20241022", "anthropic.claude-3-5-sonnet-20241022-v2:0"),
    ("claude-3-5-sonnet-latest", "anthropic.claude-3-5-sonnet-20241022-v2:0"),
    ("claude-3-5-haiku-20241022", "anthropic.claude-3-5-haiku-20241022-v1:0"),
    ("llama3-8b-8192", "meta.llama3-8b-instruct-v1:0"),
    ("llama3-70b-8192", "meta.llama3-70b-instruct-v1:0"),
)
AWS = tuple(name for name, _ in AWS_MODEL_IDS)

COZE = ("moonshot-v1-8k", "moonshot-v1-32k", "moonshot-v1-128k")

_COHERE_BASE = ("command", "command-nightly", "command-light", "command-light-nightly", "command-r", "command-r-plus")
# Each model also exists with a `-internet` suffix (web-search connector).
COHERE = _COHERE_BASE + tuple(f"{m}-internet" for m in _COHERE_BASE)

CLOUDFLARE = (
    "@cf/meta/llama-2-7b-chat-fp16",
    "@cf/meta/llama-2-7b-chat-int8",
    "@cf/mistral/mistral-7b-instruct-v0.1",
    "@hf/thebloke/deepseek-coder-6.7b-base-awq",
    "@hf/thebloke/deepseek-coder-6.7b-instruct-awq",
    "@cf/deepseek-ai/deepseek-math-7b-base",
    "@cf/deepseek-ai/deepseek-math-7b-instruct",
    "@cf/thebloke/discolm-german-7b-v1-awq",
    "@cf/tiiuae/falcon-7b-instruct",
    "@cf/google/gemma-2b-it-lora",
    "@hf/google/gemma-7b-it",
    "@cf/google/gemma-7b-it-lora",
    "@hf/nousresearch/hermes-2-pro-mistral-7b",
    "@hf/thebloke/llama-2-13b-chat-awq",
    "@cf/meta-llama/llama-2-7b-chat-hf-lora",
    "@cf/meta/llama-3-8b-instruct",
    "@hf/thebloke/llamaguard-7b-awq",
    "@hf/thebloke/mistral-7b-instruct-v0.1-awq",
    "@hf/mistralai/mistral-7b-instruct-v0.2",
    "@cf/mistral/mistral-7b-instruct-v0.2-lora",
    "@hf/thebloke/neural-chat-7b-v3-1-awq",
    "@cf/openchat/openchat-3.5-0106",
    "@hf/thebloke/openhermes-2.5-mistral-7b-awq",
    "@cf/microsoft/phi-2",
    "@cf/qwen/qwen1.5-0.5b-chat",
    "@cf/qwen/qwen1.5-1.8b-chat",
    "@cf/qwen/qwen1.5-14b-chat-awq",
    "@cf/qwen/qwen1.5-7b-chat-awq",
    "@cf/defog/sqlcoder-7b-2",
    "@hf/nexusflow/starling-lm-7b-beta",
    "@cf/tinyllama/tinyllama-1.1b-chat-v1.0",
    "@hf/thebloke/zephyr-7b-beta-awq",
)

DEEPL = ("deepl-zh", "deepl-en", "deepl-ja")

VERTEXAI_CLAUDE = (
    "claude-3-haiku@20240307",
    "claude-3-sonnet@20240229",
    "claude-3-opus@20240229",
    "claude-3-5-sonnet@20240620",
    "claude-3-5-sonnet-v2@20241022",
    "claude-3-5-haiku@20241022",
)
VERTEXAI_GEMINI = (
    "gemini-pro", "gemini-pro-vision",
    "gemini-1.5-pro-001", "gemini-1.5-flash-001",
    "gemini-1.5-pro-002", "gemini-1.5-flash-002",
    "gemini-2.0-flash-exp", "gemini-2.0-flash-thinking-exp",
)
VERTEXAI = VERTEXAI_CLAUDE + VERTEXAI_GEMINI

REPLICATE = (
    # image models
    "black-forest-labs/flux-1.1-pro",
    "black-forest-labs/flux-1.1-pro-ultra",
    "black-forest-labs/flux-canny-dev",
    "black-forest-labs/flux-canny-pro",
    "black-forest-labs/flux-depth-dev",
    "black-forest-labs/flux-depth-pro",
    "black-forest-labs/flux-dev",
    "black-forest-labs/flux-dev-lora",
    "black-forest-labs/flux-fill-dev",
    "black-forest-labs/flux-fill-pro",
    "black-forest-labs/flux-pro",
    "black-forest-labs/flux-redux-dev",
    "black-forest-labs/flux-redux-schnell",
    "black-forest-labs/flux-schnell",
    "black-forest-labs/flux-schnell-lora",
    "ideogram-ai/ideogram-v2",
    "ideogram-ai/ideogram-v2-turbo",
    "recraft-ai/recraft-v3",
    "recraft-ai/recraft-v3-svg",
    "stability-ai/stable-diffusion-3",
    "stability-ai/stable-diffusion-3.5-large",
    "stability-ai/stable-diffusion-3.5-large-turbo",
    "stability-ai/stable-diffusion-3.5-medium",
    # language models
    "ibm-granite/granite-20b-code-instruct-8k",
    "ibm-granite/granite-3.0-2b-instruct",
    "ibm-granite/granite-3.0-8b-instruct",
    "ibm-granite/granite-8b-code-instruct-128k",
    "meta/llama-2-13b",
    "meta/llama-2-13b-chat",
    "meta/llama-2-70b",
    "meta/llama-2-70b-chat",
    "meta/llama-2-7b",
    "meta/llama-2-7b-chat",
    "meta/meta-llama-3.1-405b-instruct",
    "meta/meta-llama-3-70b",
    "meta/meta-llama-3-70b-instruct",
    "meta/meta-llama-3-8b",
    "meta/meta-llama-3-8b-instruct",
    "mistralai/mistral-7b-instruct-v0.2",
    "mistralai/mistral-7b-v0.1",
    "mistralai/mixtral-8x7b-instruct-v0.1",
)
