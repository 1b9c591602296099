"""core/file_status.py: a file "differs" only when it is our downloaded file kept against the catalog."""

from __future__ import annotations

from pathlib import Path

import pytest

from ofa_manager.core.file_status import FileStatus, State


@pytest.mark.parametrize(
    ("state", "meta", "differs"),
    [
        (State.DOWNLOADED, {"state": "differs"}, True),
        (State.DOWNLOADED, {"state": "ok"}, False),
        (State.DOWNLOADED, {}, False),
        (State.CORRUPT, {"state": "differs"}, False),
        (State.PARTIAL, {"state": "differs"}, False),
        (State.FOREIGN, {"state": "differs"}, False),
    ],
)
def test_a_file_differs_only_when_downloaded_and_kept_as_differing(state, meta, differs):
    assert FileStatus(state, Path("m.pt"), 0, None, meta=meta).differs is differs
