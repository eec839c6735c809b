/** "Copy as" snippets for a token: curl, the openai / anthropic / google-genai Python SDKs, the openai
 * Node SDK, Claude Code and Codex CLI, all pointed at this gateway. */

// One API answers /api/status with this placeholder when ServerAddress is unset.
const UNSET_ADDRESS = 'http://localhost:3000';

/** The address clients reach the gateway at: the ServerAddress option, else this page's origin. */
export function gatewayAddress(serverAddress) {
  const configured = (serverAddress || '').trim();
  const address = configured && configured !== UNSET_ADDRESS ? configured : location.origin;
  return address.replace(/\/+$/, '');
}

export function snippets(key, model, address) {
  const base = `${address}/v1`;
  const chat = model || 'gpt-4o-mini';
  const claude = model || 'claude-sonnet-4-5';
  const gemini = model || 'gemini-2.0-flash';
  const codex = model || 'gpt-5-codex';
  return {
    curl: `curl ${base}/chat/completions \\
  -H "Content-Type: application/json" \\
  -H "Authorization: Bearer ${key}" \\
  -d '{"model": "${chat}", "messages": [{"role": "user", "content": "Hello!"}]}'`,
    python: `from openai import OpenAI

client = OpenAI(api_key="${key}", base_url="${base}")
reply = client.chat.completions.create(
    model="${chat}",
    messages=[{"role": "user", "content": "Hello!"}],
)
print(reply.choices[0].message.content)`,
    node: `import OpenAI from "openai";

const client = new OpenAI({ apiKey: "${key}", baseURL: "${base}" });
const reply = await client.chat.completions.create({
  model: "${chat}",
  messages: [{ role: "user", content: "Hello!" }],
});
console.log(reply.choices[0].message.content);`,
    claude_code: `export ANTHROPIC_BASE_URL="${address}"
export ANTHROPIC_AUTH_TOKEN="${key}"
export ANTHROPIC_MODEL="${claude}"
claude`,
    codex: `# ~/.codex/config.toml
model = "${codex}"
model_provider = "oneapi"

[model_providers.oneapi]
name = "One API"
base_url = "${base}"
env_key = "ONEAPI_API_KEY"
wire_api = "responses"

# then, in your shell:
# export ONEAPI_API_KEY="${key}"
# codex`,
    anthropic: `import anthropic

client = anthropic.Anthropic(api_key="${key}", base_url="${address}")
message = client.messages.create(
    model="${claude}",
    max_tokens=1024,
    messages=[{"role": "user", "content": "Hello!"}],
)
print(message.content[0].text)`,
    genai: `from google import genai
from google.genai import types

client = genai.Client(api_key="${key}", http_options=types.HttpOptions(base_url="${address}"))
reply = client.models.generate_content(model="${gemini}", contents="Hello!")
print(reply.text)`,
  };
}
