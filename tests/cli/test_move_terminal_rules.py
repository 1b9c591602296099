"""`ofa-manager move DIR` on a terminal: Ctrl+C while the bar is drawn is said above the bar on stderr, and
the move stops after the piece in hand, naming every file already moved."""

from __future__ import annotations

import io
import itertools
import os
import re
import shutil
import signal
import sys
import tempfile
from pathlib import Path

import pytest
import tqdm.std

from ofa_manager.core import settings
from tests.catalogs import other_volume, run_cli
from tests.scenes import ThreeFiles, screen_lines

pytestmark = pytest.mark.usefixtures("engine_threads_end")


@pytest.fixture
def elsewhere(tmp_path):
    folder = Path(tempfile.mkdtemp(prefix="ofa-move-", dir=other_volume(tmp_path)))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_ctrl_c_while_the_bar_is_drawn_is_said_above_it_and_the_files_moved_are_named(
    capsys, tmp_path, models_dir, http_server, elsewhere, monkeypatch
):
    from ofa_manager.core.durable import COPY_CHUNK

    site = ThreeFiles(tmp_path, models_dir, http_server)
    small = {"good": b"a good file", "shared-a": b"a shared file"}
    for entry_id, data in small.items():
        site.library.path(site.library.catalog.get(entry_id)).write_bytes(data)
    big = site.library.catalog.get("other")  # the last in the catalog: moved after the two others
    data = os.urandom(10 * COPY_CHUNK)
    site.library.path(big).write_bytes(data)
    site.library.write_meta(big, {"size": len(data)})
    # tqdm draws its bar at most ten times a second, and this copy takes less: its clock here ticks a second
    # at each reading, so the bar is drawn at each piece.
    clock = itertools.count()
    monkeypatch.setattr(tqdm.std, "time", lambda: float(next(clock)))

    class Screen(io.StringIO):
        """A terminal whose user presses Ctrl+C (a real SIGINT to this process) once the bar shows 10 %."""

        pressed = False

        def isatty(self) -> bool:
            return True

        def write(self, text: str) -> int:
            written = super().write(text)
            if not self.pressed and re.match(r"\r?moving:\s+[1-9]\d%", text):
                self.pressed = True
                os.kill(os.getpid(), signal.SIGINT)
            return written

    screen = Screen()
    monkeypatch.setattr(sys, "stderr", screen)
    target = elsewhere / "models"
    code, out, _ = run_cli(capsys, *site.args, "move", str(target))
    shown = screen_lines(screen.getvalue())
    assert code == 130 and out == "", shown
    assert "stopping after this piece…" in shown  # a row of its own, the bar drawn again below it
    assert shown[-1] == (
        f"stopped; every file not yet moved is whole in {site.dir.resolve()} (already in {target}: good.pt, "
        "shared.pt); the models folder setting is unchanged — run the same command again to move the rest"
    )
    assert site.library.path(big).read_bytes() == data
    assert sorted(os.listdir(target)) == ["good.pt", "shared.pt"]
    assert settings.load().models_dir == ""
