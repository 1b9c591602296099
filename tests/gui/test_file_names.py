"""The window finds files kept under the names earlier versions chose (issue 11, item 8), and shows each
colliding name in its source host's folder."""

from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")

from ofa_manager import cli  # noqa: E402
from ofa_manager.core import names  # noqa: E402
from ofa_manager.gui import tree  # noqa: E402
from tests.scenes import to_earlier_name  # noqa: E402
from tests.windows import WINDOW_MARKS, wait_status  # noqa: E402

pytestmark = WINDOW_MARKS


def test_the_window_moves_hash_named_files_to_their_hosts_folders_and_shows_them(
    qtbot, names_site, open_window, capsys
):
    assert cli.main([*names_site.args, "download", "one", "two"]) == 0
    capsys.readouterr()
    hashed = {
        i: names_site.dir.resolve() / names.hashed_name("model.pt", names_site.urls[i])
        for i in ("one", "two")
    }
    for i in ("one", "two"):
        to_earlier_name(names_site, i, hashed[i])
    window = open_window(names_site.catalog)
    for i in ("one", "two"):
        wait_status(qtbot, window, i, "Verified")
        assert names_site.path(i).exists() and not hashed[i].exists()
        location = window.model.index_of(i, tree.COL_LOCATION).data()
        assert f"{names_site.hosts[i]}/model.pt" in location
    assert names_site.path("one").read_bytes() == names_site.one
