"""A fake of the upstream providers (OpenAI, Azure OpenAI, Anthropic, Gemini) for tests and benches."""

from tests.fake_upstream.server import FakeUpstream
from tests.fake_upstream.state import KINDS, Canned, RecordedRequest

__all__ = ["KINDS", "Canned", "FakeUpstream", "RecordedRequest"]
