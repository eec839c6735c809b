import { language } from './i18n.js';

// [id, English label, Chinese label] for every channel type (reference §3.8).
const TYPES = [
  [1, 'OpenAI', 'OpenAI'], [50, 'OpenAI compatible', 'OpenAI 兼容'], [14, 'Anthropic', 'Anthropic'],
  [33, 'AWS', 'AWS'], [3, 'Azure', 'Azure'], [11, 'PaLM2', 'PaLM2'], [24, 'Gemini', 'Gemini'],
  [51, 'Gemini (OpenAI)', 'Gemini (OpenAI)'], [28, 'Mistral AI', 'Mistral AI'], [41, 'Novita', 'Novita'],
  [40, 'ByteDance Volcengine', '字节火山引擎'], [15, 'Baidu Wenxin Qianfan', '百度文心千帆'],
  [47, 'Baidu Wenxin Qianfan V2', '百度文心千帆 V2'], [17, 'Alibaba Tongyi Qianwen', '阿里通义千问'],
  [49, 'Alibaba Cloud Bailian', '阿里云百炼'], [18, 'iFlytek Spark', '讯飞星火认知'],
  [48, 'iFlytek Spark V2', '讯飞星火认知 V2'], [16, 'Zhipu ChatGLM', '智谱 ChatGLM'], [19, '360 ZhiNao', '360 智脑'],
  [25, 'Moonshot AI', 'Moonshot AI'], [23, 'Tencent Hunyuan', '腾讯混元'], [26, 'Baichuan', '百川大模型'],
  [27, 'MiniMax', 'MiniMax'], [29, 'Groq', 'Groq'], [30, 'Ollama', 'Ollama'], [31, '01.AI', '零一万物'],
  [32, 'StepFun', '阶跃星辰'], [34, 'Coze', 'Coze'], [35, 'Cohere', 'Cohere'], [36, 'DeepSeek', 'DeepSeek'],
  [37, 'Cloudflare', 'Cloudflare'], [38, 'DeepL', 'DeepL'], [39, 'together.ai', 'together.ai'],
  [42, 'VertexAI', 'VertexAI'], [43, 'Proxy', 'Proxy'], [44, 'SiliconFlow', 'SiliconFlow'], [45, 'xAI', 'xAI'],
  [46, 'Replicate', 'Replicate'], [8, 'Custom channel', '自定义渠道'], [22, 'Knowledge base: FastGPT', '知识库：FastGPT'],
  [21, 'Knowledge base: AI Proxy', '知识库：AI Proxy'], [20, 'OpenRouter', 'OpenRouter'],
  [2, 'Proxy: API2D', '代理：API2D'], [5, 'Proxy: OpenAI-SB', '代理：OpenAI-SB'], [7, 'Proxy: OhMyGPT', '代理：OhMyGPT'],
  [10, 'Proxy: AI Proxy', '代理：AI Proxy'], [4, 'Proxy: CloseAI', '代理：CloseAI'], [6, 'Proxy: OpenAI Max', '代理：OpenAI Max'],
  [9, 'Proxy: AI.LS', '代理：AI.LS'], [12, 'Proxy: API2GPT', '代理：API2GPT'], [13, 'Proxy: AIGC2D', '代理：AIGC2D'],
];

export const CHANNEL_TYPES = TYPES.map(([id, en, zh]) => ({ id, en, zh }));

export function typeLabel(id) {
  const type = CHANNEL_TYPES.find((x) => x.id === Number(id));
  if (!type) return `#${id}`;
  return language.get() === 'zh' ? type.zh : type.en;
}

/** Default base URLs, shown as placeholders. */
export const DEFAULT_BASE_URL = {
  1: 'https://api.openai.com', 2: 'https://oa.api2d.net', 4: 'https://api.closeai-proxy.xyz', 5: 'https://api.openai-sb.com',
  6: 'https://api.openaimax.com', 7: 'https://api.ohmygpt.com', 9: 'https://api.caipacity.com', 10: 'https://api.aiproxy.io',
  11: 'https://generativelanguage.googleapis.com', 12: 'https://api.api2gpt.com', 13: 'https://api.aigc2d.com',
  14: 'https://api.anthropic.com', 15: 'https://aip.baidubce.com', 16: 'https://open.bigmodel.cn',
  17: 'https://dashscope.aliyuncs.com', 19: 'https://ai.360.cn', 20: 'https://openrouter.ai/api', 21: 'https://api.aiproxy.io',
  22: 'https://fastgpt.run/api/openapi', 23: 'https://hunyuan.tencentcloudapi.com', 24: 'https://generativelanguage.googleapis.com',
  25: 'https://api.moonshot.cn', 26: 'https://api.baichuan-ai.com', 27: 'https://api.minimax.chat', 28: 'https://api.mistral.ai',
  29: 'https://api.groq.com/openai', 30: 'http://localhost:11434', 31: 'https://api.lingyiwanwu.com', 32: 'https://api.stepfun.com',
  34: 'https://api.coze.com', 35: 'https://api.cohere.ai', 36: 'https://api.deepseek.com', 37: 'https://api.cloudflare.com',
  38: 'https://api-free.deepl.com', 39: 'https://api.together.xyz', 40: 'https://ark.cn-beijing.volces.com',
  41: 'https://api.novita.ai/v3/openai', 44: 'https://api.siliconflow.cn', 45: 'https://api.x.ai',
  46: 'https://api.replicate.com/v1/models/', 47: 'https://qianfan.baidubce.com', 48: 'https://spark-api-open.xf-yun.com',
  49: 'https://dashscope.aliyuncs.com', 51: 'https://generativelanguage.googleapis.com/v1beta/openai/',
};

/** Types whose base URL must be given (no default). */
export const BASE_URL_REQUIRED = new Set([3, 8, 50, 43]);

/**
 * Per-type extra fields: `other` (legacy column) or `config.<name>`, with the i18n key of the
 * label and of the hint. `key` = i18n key of the key field's format hint.
 */
export const TYPE_FIELDS = {
  3: { fields: [{ name: 'other', label: 'channel.api_version', hint: 'channel.azure_version_hint', placeholder: '2024-03-01-preview' }], key: 'channel.key_hint_default' },
  15: { key: 'channel.key_hint_baidu' },
  16: { key: 'channel.key_hint_zhipu' },
  17: { fields: [{ name: 'config.plugin', label: 'channel.plugin', hint: 'channel.plugin_hint' }] },
  18: { fields: [{ name: 'config.api_version', label: 'channel.api_version', hint: 'channel.xunfei_version_hint', placeholder: 'v2.1' }], key: 'channel.key_hint_xunfei' },
  21: { fields: [{ name: 'config.library_id', label: 'channel.library_id', hint: 'channel.library_id_hint' }] },
  23: { key: 'channel.key_hint_tencent' },
  24: { fields: [{ name: 'config.api_version', label: 'channel.api_version', hint: 'channel.gemini_version_hint', placeholder: 'v1' }] },
  33: {
    fields: [
      { name: 'config.region', label: 'channel.region', placeholder: 'us-west-2' },
      { name: 'config.ak', label: 'channel.ak' },
      { name: 'config.sk', label: 'channel.sk', secret: true },
    ],
    key: 'channel.key_hint_composed',
  },
  34: { fields: [{ name: 'config.user_id', label: 'channel.coze_user_id' }] },
  37: { fields: [{ name: 'config.user_id', label: 'channel.cloudflare_account' }] },
  40: { key: 'channel.key_hint_default', models: 'channel.doubao_models_hint' },
  42: {
    fields: [
      { name: 'config.region', label: 'channel.region', placeholder: 'us-central1' },
      { name: 'config.vertex_ai_project_id', label: 'channel.vertex_project' },
      { name: 'config.vertex_ai_adc', label: 'channel.vertex_adc', hint: 'channel.vertex_adc_hint', multiline: true },
    ],
    key: 'channel.key_hint_composed',
  },
};
