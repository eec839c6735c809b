"""The official openai SDK against the running master (in-process ASGI), through OpenAI, Azure,
Anthropic and Gemini channels: One API's promise is that OpenAI clients work unchanged."""

from __future__ import annotations

import httpx
import openai

from tests.fake_upstream.state import Canned
from tests.support.relay_kit import relay_world

REPLY = Canned().reply_text
OPENAI_MODELS = "gpt-3.5-turbo,text-embedding-3-small,dall-e-3,tts-1,whisper-1,text-moderation-stable,text-moderation-latest"
MESSAGES = [{"role": "user", "content": "Hello from the SDK"}]


async def test_openai_sdk(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        await w.channel(name="openai", models=OPENAI_MODELS)
        await w.channel(name="azure", type=3, key="azure-key", other="2024-02-01", models="gpt-4o-mini")
        await w.channel(name="claude", type=14, key="claude-key", models="claude-3-5-haiku-20241022")
        await w.channel(name="gemini", type=24, key="gemini-key", models="gemini-1.5-flash")
        token = await w.token()
        allow = await w.token(name="allow", models="gpt-3.5-turbo,claude-3-5-haiku-20241022,my-own-model")
        transport = httpx.ASGITransport(app=w.app, client=("127.0.0.1", 40002))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            sdk = openai.AsyncOpenAI(api_key=f"sk-{token['key']}", base_url="http://testserver/v1", http_client=http, max_retries=0)

            for model in ("gpt-3.5-turbo", "gpt-4o-mini", "claude-3-5-haiku-20241022", "gemini-1.5-flash"):
                answer = await sdk.chat.completions.create(model=model, messages=MESSAGES)
                assert answer.choices[0].message.content == REPLY, model
                assert answer.usage is None or answer.usage.total_tokens > 0
                stream = await sdk.chat.completions.create(model=model, messages=MESSAGES, stream=True)
                text = ""
                async for chunk in stream:
                    if chunk.choices and chunk.choices[0].delta.content:
                        text += chunk.choices[0].delta.content
                assert text == REPLY, model
            assert fake_upstream.requests[2].path == "/openai/deployments/gpt-4o-mini/chat/completions"

            completion = await sdk.completions.create(model="gpt-3.5-turbo", prompt="Once upon a time")
            assert completion.choices[0].text == REPLY

            embedding = await sdk.embeddings.create(model="text-embedding-3-small", input=["one", "two"])
            assert len(embedding.data) == 2 and len(embedding.data[0].embedding) == 8

            image = await sdk.images.generate(model="dall-e-3", prompt="a lighthouse", size="1024x1024", n=1)
            assert image.data[0].url.startswith("https://fake-upstream.invalid/")

            moderation = await sdk.moderations.create(input="is this fine?")
            assert moderation.results[0].flagged is False

            speech = await sdk.audio.speech.create(model="tts-1", voice="alloy", input="Say this.")
            assert speech.content == b"ID3FAKEAUDIO" + b"Say this."

            transcript = await sdk.audio.transcriptions.create(model="whisper-1", file=("clip.mp3", b"ID3 fake", "audio/mpeg"))
            assert transcript.text == Canned().transcript

            models = [m.id async for m in sdk.models.list()]
            assert set(models) == {
                "gpt-3.5-turbo",
                "text-embedding-3-small",
                "dall-e-3",
                "tts-1",
                "whisper-1",
                "text-moderation-stable",
                "text-moderation-latest",
                "gpt-4o-mini",
                "claude-3-5-haiku-20241022",
                "gemini-1.5-flash",
            }
            limited = openai.AsyncOpenAI(api_key=f"sk-{allow['key']}", base_url="http://testserver/v1", http_client=http, max_retries=0)
            assert {m.id async for m in limited.models.list()} == {"gpt-3.5-turbo", "claude-3-5-haiku-20241022", "my-own-model"}
            try:
                await limited.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
            except openai.PermissionDeniedError as exc:
                assert exc.status_code == 403 and "该令牌无权使用模型：gpt-4o-mini" in exc.message
            else:
                raise AssertionError("a model outside the allow-list was served")

        await w.flush()
        logs = await w.consume_logs()
        assert len(logs) == 8 + 6  # 8 chats, then completion, embeddings, image, moderation, speech, transcription
        assert all(r["quota"] > 0 for r in logs)
