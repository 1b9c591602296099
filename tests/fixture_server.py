"""pytest fixture: a loopback test server per test."""

from collections.abc import Iterator

import pytest

from tests.httpserver import TestServer


@pytest.fixture
def http_server() -> Iterator[TestServer]:
    with TestServer() as server:
        yield server
