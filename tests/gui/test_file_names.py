"""The window finds files kept under the names earlier versions chose (issue 11, item 8), and shows each
colliding name in its source host's folder."""

from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")

from ofa_manager import cli  # noqa: E402
from ofa_manager.core import names  # noqa: E402
from ofa_manager.gui import tree  # noqa: E402
from tests.scenes import SameNameSite, to_earlier_name  # noqa: E402
from tests.windows import WINDOW_MARKS, wait_status  # noqa: E402


@pytest.fixture
def site(tmp_path, models_dir, http_server) -> SameNameSite:
    return SameNameSite(tmp_path, models_dir, http_server)


pytestmark = WINDOW_MARKS


def test_the_window_moves_hash_named_files_to_their_hosts_folders_and_shows_them(
    qtbot, site, open_window, capsys
):
    assert cli.main([*site.args, "download", "one", "two"]) == 0
    capsys.readouterr()
    hashed = {i: site.dir.resolve() / names.hashed_name("model.pt", site.urls[i]) for i in ("one", "two")}
    for i in ("one", "two"):
        to_earlier_name(site, i, hashed[i])
    window = open_window(site.catalog)
    for i in ("one", "two"):
        wait_status(qtbot, window, i, "Verified")
        assert site.path(i).exists() and not hashed[i].exists()
        location = window.model.index_of(i, tree.COL_LOCATION).data()
        assert f"{site.hosts[i]}/model.pt" in location
    assert site.path("one").read_bytes() == site.one
