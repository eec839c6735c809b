"""Run the fake upstream on a free 127.0.0.1 port in a background thread of the test process."""

from __future__ import annotations

from types import TracebackType
from typing import Any

from tests.fake_upstream.app import create_app, install_log_filter
from tests.fake_upstream.state import FakeState, RecordedRequest
from tests.support.threaded_server import ThreadedServer


class FakeUpstream:
    """A real HTTP server speaking OpenAI, Azure, Anthropic and Gemini, with failure injection.

    Use as a context manager (or start()/stop()). `url` is its base URL, usable as a channel base_url.
    """

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.state = FakeState()
        self._host = host
        self._runner: ThreadedServer | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self.port}"

    def start(self) -> FakeUpstream:
        install_log_filter()
        self._runner = ThreadedServer(create_app(self.state), self._host, "fake-upstream").start()
        self.port = self._runner.port
        return self

    def stop(self) -> None:
        if self._runner is not None:
            self._runner.stop()
        self._runner = None

    def __enter__(self) -> FakeUpstream:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    # Control API (thread-safe; delegates to the shared state).
    def fail_next(self, path: str, kind: str, count: int = 1, **params: Any) -> None:
        """The next `count` requests to `path` (exact or glob) get `kind`; see state.KINDS.
        Params: `delay` (seconds, for "slow"), `after` (events before the cut, for "cut")."""
        self.state.fail_next(path, kind, count, **params)

    def behaviour_for_key(self, key: str, kind: str | None, **params: Any) -> None:
        """Every request made with API key `key` gets `kind` (None clears it)."""
        self.state.behaviour_for_key(key, kind, **params)

    def configure(self, **fields: Any) -> None:
        """Change the canned answer: reply_text, prompt_tokens, completion_tokens, ..."""
        self.state.configure(**fields)

    def reset(self) -> None:
        """Forget rules, recorded requests and canned changes."""
        self.state.reset()

    @property
    def requests(self) -> list[RecordedRequest]:
        return self.state.requests

    @property
    def last(self) -> RecordedRequest:
        return self.state.requests[-1]

    def served_usage_total(self) -> dict[str, int]:
        return self.state.served_usage_total()
