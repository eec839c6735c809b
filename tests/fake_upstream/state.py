"""What the fake upstream has been told to do and what it has seen; shared by the server thread and the test.

Every method takes the lock: tests call them from their own thread while the server's event loop reads.
"""

from __future__ import annotations

import fnmatch
import threading
from dataclasses import dataclass, field
from typing import Any

import orjson

# Failure and oddity kinds a test can ask for.
KINDS = {
    "500",  # 500 with a provider-shaped server error
    "429",  # 429 rate limited
    "401",  # 401 invalid key (OpenAI code invalid_api_key)
    "400",  # 400 invalid request
    "quota",  # 429 insufficient_quota (an OpenAI balance error: auto-disable material)
    "slow",  # wait `delay` seconds, then answer normally
    "cut",  # close the connection after `after` stream events (or half the body when not streaming)
    "stream_error",  # the provider's in-stream error after `after` events (fakes that frame one)
    "no_usage",  # answer without usage, even when stream_options.include_usage was asked for
    "error200",  # HTTP 200 whose JSON body is an error
    "401_echo",  # 401 whose message repeats the key it was sent, whole and as `Bearer <key>`
    "401_masked",  # 401 whose message shows the key masked as OpenAI does: sk-abc12***…wxyz
    "stream_error_echo",  # Anthropic stream: message_start, then an `error` event repeating the key
}


@dataclass
class Behaviour:
    kind: str
    delay: float = 1.0
    after: int = 2

    @classmethod
    def make(cls, kind: str, **params: Any) -> Behaviour:
        if kind not in KINDS:
            raise ValueError(f"unknown fake upstream behaviour {kind!r}; known: {sorted(KINDS)}")
        return cls(kind=kind, **params)


@dataclass
class Canned:
    """The deterministic answer: the same text and reported usage for every chat/completion call."""

    reply_text: str = "Hello! This is the fake upstream answering your request."
    prompt_tokens: int = 17
    completion_tokens: int = 11
    embedding_tokens_per_input: int = 5
    transcript: str = "The quick brown fox jumps over the lazy dog."
    # (name, value) pairs added to every normal answer, repeats allowed (e.g. two Set-Cookie).
    extra_headers: tuple[tuple[str, str], ...] = ()
    image_bytes: int = 0  # b64_json images: 0 = a 10-byte image, else about this many bytes
    reasoning_text: str = ""  # when set: OpenAI `reasoning_content`, Anthropic a thinking block, before the reply
    cache_write_tokens: int = 0  # Anthropic usage: cache_creation_input_tokens (beside input_tokens)
    cache_read_tokens: int = 0  # Anthropic usage: cache_read_input_tokens

    @property
    def words(self) -> list[str]:
        """Stream pieces: each word keeps its following space, so joining them gives the reply back."""
        pieces = self.reply_text.split(" ")
        return [p + " " for p in pieces[:-1]] + [pieces[-1]]


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: str
    headers: dict[str, str]  # lower-case names
    body: bytes
    key: str  # the credential, from whichever header the provider uses
    behaviour: str = ""  # the injected kind that applied, "" for a normal answer
    served_usage: dict[str, int] | None = None  # the usage the fake reported (None: none reported)
    raw_path: str = ""  # the path as sent, still percent-encoded

    def json(self) -> Any:
        return orjson.loads(self.body)

    def as_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "headers": self.headers,
            "body": self.body.decode("utf-8", "replace"),
            "key": self.key,
            "behaviour": self.behaviour,
            "served_usage": self.served_usage,
            "raw_path": self.raw_path,
        }


@dataclass
class _Pending:
    pattern: str
    behaviour: Behaviour
    remaining: int


@dataclass
class FakeState:
    canned: Canned = field(default_factory=Canned)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _pending: list[_Pending] = field(default_factory=list)
    _by_key: dict[str, Behaviour] = field(default_factory=dict)
    _requests: list[RecordedRequest] = field(default_factory=list)
    stored_responses: dict[str, Any] = field(default_factory=dict)  # the Responses API's stored responses

    def fail_next(self, path: str, kind: str, count: int = 1, **params: Any) -> None:
        """The next `count` requests whose path matches `path` (exact, or a glob like `/v1beta/models/*`)
        get `kind`. Queued rules apply in the order given."""
        with self._lock:
            self._pending.append(_Pending(path, Behaviour.make(kind, **params), count))

    def behaviour_for_key(self, key: str, kind: str | None, **params: Any) -> None:
        """Every request made with `key` gets `kind` until changed; `kind=None` removes the rule."""
        with self._lock:
            if kind is None:
                self._by_key.pop(key, None)
            else:
                self._by_key[key] = Behaviour.make(kind, **params)

    def configure(self, **fields: Any) -> None:
        """Change the canned answer (reply_text, prompt_tokens, completion_tokens, ...)."""
        with self._lock:
            for name, value in fields.items():
                if not hasattr(self.canned, name):
                    raise ValueError(f"unknown canned field {name!r}")
                setattr(self.canned, name, value)

    def reset(self) -> None:
        with self._lock:
            self.canned = Canned()
            self._pending.clear()
            self._by_key.clear()
            self._requests.clear()
            self.stored_responses.clear()

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def served_usage_total(self) -> dict[str, int]:
        """The sum of every usage the fake reported: what a correct gateway should have billed."""
        total = {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
        for record in self.requests:
            for name in total:
                total[name] += (record.served_usage or {}).get(name, 0)
        return total

    # Server side.
    def record(self, request: RecordedRequest) -> Behaviour | None:
        with self._lock:
            self._requests.append(request)
            for pending in self._pending:
                if pending.remaining > 0 and fnmatch.fnmatchcase(request.path, pending.pattern):
                    pending.remaining -= 1
                    behaviour = pending.behaviour
                    break
            else:
                behaviour = self._by_key.get(request.key)
            self._pending = [p for p in self._pending if p.remaining > 0]
            if behaviour is not None:
                request.behaviour = behaviour.kind
            return behaviour
