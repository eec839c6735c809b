"""The one table of channel types (reference §3.8): id, One API's constant name, UI label,
default base URL and the API type whose adaptor serves it. Adding a provider adds a row here."""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping

# API types (relay/apitype): which adaptor converts a request.
(
    API_OPENAI, API_ANTHROPIC, API_PALM, API_BAIDU, API_ZHIPU, API_ALI, API_XUNFEI, API_AIPROXY_LIBRARY,
    API_TENCENT, API_GEMINI, API_OLLAMA, API_AWS_CLAUDE, API_COZE, API_COHERE, API_CLOUDFLARE, API_DEEPL,
    API_VERTEXAI, API_PROXY, API_REPLICATE, API_DUMMY,
) = range(20)


@dataclass(frozen=True)
class ChannelType:
    id: int
    name: str  # One API's Go constant name
    label: str  # the web console's label
    base_url: str  # default upstream base URL ("" = the channel must set one, or none applies)
    api_type: int


_ROWS = (
    ChannelType(0, "Unknown", "", "", API_OPENAI),
    ChannelType(1, "OpenAI", "OpenAI", "https://api.openai.com", API_OPENAI),
    ChannelType(2, "API2D", "代理：API2D", "https://oa.api2d.net", API_OPENAI),
    ChannelType(3, "Azure", "Azure", "", API_OPENAI),
    ChannelType(4, "CloseAI", "代理：CloseAI", "https://api.closeai-proxy.xyz", API_OPENAI),
    ChannelType(5, "OpenAISB", "代理：OpenAI-SB", "https://api.openai-sb.com", API_OPENAI),
    ChannelType(6, "OpenAIMax", "代理：OpenAI Max", "https://api.openaimax.com", API_OPENAI),
    ChannelType(7, "OhMyGPT", "代理：OhMyGPT", "https://api.ohmygpt.com", API_OPENAI),
    ChannelType(8, "Custom", "自定义渠道", "", API_OPENAI),
    ChannelType(9, "Ails", "代理：AI.LS", "https://api.caipacity.com", API_OPENAI),
    ChannelType(10, "AIProxy", "代理：AI Proxy", "https://api.aiproxy.io", API_OPENAI),
    ChannelType(11, "PaLM", "PaLM2", "https://generativelanguage.googleapis.com", API_PALM),
    ChannelType(12, "API2GPT", "代理：API2GPT", "https://api.api2gpt.com", API_OPENAI),
    ChannelType(13, "AIGC2D", "代理：AIGC2D", "https://api.aigc2d.com", API_OPENAI),
    ChannelType(14, "Anthropic", "Anthropic", "https://api.anthropic.com", API_ANTHROPIC),
    ChannelType(15, "Baidu", "百度文心千帆", "https://aip.baidubce.com", API_BAIDU),
    ChannelType(16, "Zhipu", "智谱 ChatGLM", "https://open.bigmodel.cn", API_ZHIPU),
    ChannelType(17, "Ali", "阿里通义千问", "https://dashscope.aliyuncs.com", API_ALI),
    ChannelType(18, "Xunfei", "讯飞星火认知", "", API_XUNFEI),
    ChannelType(19, "AI360", "360 智脑", "https://ai.360.cn", API_OPENAI),
    ChannelType(20, "OpenRouter", "OpenRouter", "https://openrouter.ai/api", API_OPENAI),
    ChannelType(21, "AIProxyLibrary", "知识库：AI Proxy", "https://api.aiproxy.io", API_AIPROXY_LIBRARY),
    ChannelType(22, "FastGPT", "知识库：FastGPT", "https://fastgpt.run/api/openapi", API_OPENAI),
    ChannelType(23, "Tencent", "腾讯混元", "https://hunyuan.tencentcloudapi.com", API_TENCENT),
    ChannelType(24, "Gemini", "Gemini", "https://generativelanguage.googleapis.com", API_GEMINI),
    ChannelType(25, "Moonshot", "Moonshot AI", "https://api.moonshot.cn", API_OPENAI),
    ChannelType(26, "Baichuan", "百川大模型", "https://api.baichuan-ai.com", API_OPENAI),
    ChannelType(27, "Minimax", "MiniMax", "https://api.minimax.chat", API_OPENAI),
    ChannelType(28, "Mistral", "Mistral AI", "https://api.mistral.ai", API_OPENAI),
    ChannelType(29, "Groq", "Groq", "https://api.groq.com/openai", API_OPENAI),
    ChannelType(30, "Ollama", "Ollama", "http://localhost:11434", API_OLLAMA),
    ChannelType(31, "LingYiWanWu", "零一万物", "https://api.lingyiwanwu.com", API_OPENAI),
    ChannelType(32, "StepFun", "阶跃星辰", "https://api.stepfun.com", API_OPENAI),
    ChannelType(33, "AwsClaude", "AWS", "", API_AWS_CLAUDE),
    ChannelType(34, "Coze", "Coze", "https://api.coze.com", API_COZE),
    ChannelType(35, "Cohere", "Cohere", "https://api.cohere.ai", API_COHERE),
    ChannelType(36, "DeepSeek", "DeepSeek", "https://api.deepseek.com", API_OPENAI),
    ChannelType(37, "Cloudflare", "Cloudflare", "https://api.cloudflare.com", API_CLOUDFLARE),
    ChannelType(38, "DeepL", "DeepL", "https://api-free.deepl.com", API_DEEPL),
    ChannelType(39, "TogetherAI", "together.ai", "https://api.together.xyz", API_OPENAI),
    ChannelType(40, "Doubao", "字节火山引擎", "https://ark.cn-beijing.volces.com", API_OPENAI),
    ChannelType(41, "Novita", "Novita", "https://api.novita.ai/v3/openai", API_OPENAI),
    ChannelType(42, "VertextAI", "VertexAI", "", API_VERTEXAI),
    ChannelType(43, "Proxy", "Proxy", "", API_PROXY),
    ChannelType(44, "SiliconFlow", "SiliconFlow", "https://api.siliconflow.cn", API_OPENAI),
    ChannelType(45, "XAI", "xAI", "https://api.x.ai", API_OPENAI),
    ChannelType(46, "Replicate", "Replicate", "https://api.replicate.com/v1/models/", API_REPLICATE),
    ChannelType(47, "BaiduV2", "百度文心千帆 V2", "https://qianfan.baidubce.com", API_OPENAI),
    ChannelType(48, "XunfeiV2", "讯飞星火认知 V2", "https://spark-api-open.xf-yun.com", API_OPENAI),
    ChannelType(49, "AliBailian", "阿里云百炼", "https://dashscope.aliyuncs.com", API_OPENAI),
    ChannelType(50, "OpenAICompatible", "OpenAI 兼容", "", API_OPENAI),
    ChannelType(51, "GeminiOpenAICompatible", "Gemini (OpenAI)", "https://generativelanguage.googleapis.com/v1beta/openai/", API_OPENAI),
)

# One past the last real type (One API's `Dummy`); valid ids are 0 .. DUMMY - 1.
DUMMY = len(_ROWS)

CHANNEL_TYPES: Mapping[int, ChannelType] = MappingProxyType({row.id: row for row in _ROWS})

# Ids used by name elsewhere (routing rules, the catalogue).
OPENAI, AZURE, OPENROUTER, AIPROXY_LIBRARY, PROXY, ALI_BAILIAN = 1, 3, 20, 21, 43, 49
OPENAI_COMPATIBLE, GEMINI_OPENAI_COMPATIBLE = 50, 51


def channel_type(type_id: int) -> ChannelType | None:
    """The row of a channel type id, or None for an id One API does not define."""
    return CHANNEL_TYPES.get(type_id)


def default_base_url(type_id: int) -> str:
    """The base URL a channel of this type uses when its own `base_url` is empty ("" if none)."""
    row = CHANNEL_TYPES.get(type_id)
    return row.base_url if row else ""


def api_type(type_id: int) -> int:
    """The adaptor (API type) serving this channel type; unknown types use OpenAI's, as One API does."""
    row = CHANNEL_TYPES.get(type_id)
    return row.api_type if row else API_OPENAI
