/** "Copy as" snippets for a token: curl, the openai Python SDK, the openai Node SDK. */
export function snippets(key, model = 'gpt-3.5-turbo') {
  const base = `${location.origin}/v1`;
  return {
    curl: `curl ${base}/chat/completions \\
  -H "Content-Type: application/json" \\
  -H "Authorization: Bearer ${key}" \\
  -d '{"model": "${model}", "messages": [{"role": "user", "content": "Hello!"}]}'`,
    python: `from openai import OpenAI

client = OpenAI(api_key="${key}", base_url="${base}")
reply = client.chat.completions.create(
    model="${model}",
    messages=[{"role": "user", "content": "Hello!"}],
)
print(reply.choices[0].message.content)`,
    node: `import OpenAI from "openai";

const client = new OpenAI({ apiKey: "${key}", baseURL: "${base}" });
const reply = await client.chat.completions.create({
  model: "${model}",
  messages: [{ role: "user", content: "Hello!" }],
});
console.log(reply.choices[0].message.content);`,
  };
}
