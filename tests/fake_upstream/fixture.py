"""pytest fixtures: one fake upstream server per test session, reset before every test.

Enable with `pytest_plugins = ["tests.fake_upstream.fixture"]` in a conftest, or import
`fake_upstream` (and `fake_upstream_server`) into a test module.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fake_upstream.server import FakeUpstream


@pytest.fixture(scope="session")
def fake_upstream_server() -> Iterator[FakeUpstream]:
    with FakeUpstream() as fake:
        yield fake


@pytest.fixture
def fake_upstream(fake_upstream_server: FakeUpstream) -> FakeUpstream:
    """The running fake with no rules, no recorded requests and the default canned answer."""
    fake_upstream_server.reset()
    return fake_upstream_server
