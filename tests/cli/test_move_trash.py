"""`ofa-manager move DIR` (relocating the models folder) and `ofa-manager rm --trash`."""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from ofa_manager import cli
from ofa_manager.core import settings
from tests.catalogs import (
    MiB,
    cli_command,
    cli_env,
    held_by_another_process,
    other_volume,
    run_cli,
)
from tests.scenes import ThreeFiles, screen_lines

pytestmark = pytest.mark.usefixtures("engine_threads_end")


@pytest.fixture
def site(tmp_path, models_dir, http_server) -> ThreeFiles:
    return ThreeFiles(tmp_path, models_dir, http_server)


@pytest.fixture
def elsewhere(tmp_path):
    folder = Path(tempfile.mkdtemp(prefix="ofa-move-", dir=other_volume(tmp_path)))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def states(capsys, site, folder: Path) -> dict[str, str]:
    code, out, _ = run_cli(capsys, "--dir", str(folder), "--catalog", str(site.catalog), "list", "--json")
    assert code == 0
    return {row["id"]: row["state"] for row in json.loads(out)}


def sparse_partial(path: Path) -> bytes:
    """A partial file as downloads preallocate it: 64 MiB, one MiB of data, the rest holes."""
    with open(path, "wb") as fh:
        fh.truncate(64 * MiB)
        fh.seek(8 * MiB)
        fh.write(b"d" * MiB)
    return path.read_bytes()


# -- move -------------------------------------------------------------------------------------------


def test_move_within_a_volume_renames_and_saves_the_new_folder(capsys, site, tmp_path):
    assert run_cli(capsys, *site.args, "download", "good")[0] == 0
    inode = (site.dir / "good.pt").stat().st_ino
    target = tmp_path / "new"
    code, out, err = run_cli(capsys, *site.args, "move", str(target))
    assert code == 0, err
    assert (target / "good.pt").stat().st_ino == inode  # renamed, not copied
    assert not (site.dir / "good.pt").exists() and (target / ".good.pt.meta.json").exists()
    assert f"models folder is now {target}" in out
    assert settings.load().models_dir == str(target)
    assert states(capsys, site, target)["good"] == "downloaded"
    # The saved folder is the one the next command uses.
    code, out, _ = run_cli(capsys, "--catalog", str(site.catalog), "list")
    assert code == 0 and f"models folder {target}" in out


def test_move_across_volumes_copies_keeping_the_holes_of_a_partial_file(capsys, site, elsewhere):
    assert run_cli(capsys, *site.args, "download", "good")[0] == 0
    shared = site.library.catalog.get("shared-a")
    expected = sparse_partial(site.library.part_path(shared))
    site.library.record_path(shared).write_text('{"ranges": []}')
    target = elsewhere / "models"
    code, out, err = run_cli(capsys, *site.args, "move", str(target))
    assert code == 0, err
    moved = target / "shared.pt.part"
    assert moved.stat().st_size == 64 * MiB and moved.read_bytes() == expected
    if moved.stat().st_blocks:  # where the file system reports its blocks
        assert moved.stat().st_blocks * 512 < 8 * MiB
    assert (target / "shared.pt.part.json").read_text() == '{"ranges": []}'
    assert (target / "good.pt").read_bytes() == site.files["good"]
    assert not site.library.part_path(shared).exists() and not (site.dir / "good.pt").exists()
    assert not [p.name for p in target.iterdir() if p.name.endswith(".moving")]
    # The copy kept the time stamp: the file is still known to be ours in its new place.
    assert states(capsys, site, target)["good"] == "downloaded"
    assert "moving: 100 %" in err and settings.load().models_dir == str(target)


def test_move_leaves_a_checkpoint_whose_name_is_taken(capsys, site, tmp_path):
    assert run_cli(capsys, *site.args, "download", "good", "other")[0] == 0
    target = tmp_path / "new"
    target.mkdir()
    (target / "good.pt").write_bytes(b"someone else's file")
    code, out, _ = run_cli(capsys, *site.args, "move", str(target))
    assert code == 1
    assert f"left in {site.dir}: good.pt (its name is taken in the new folder)" in out
    assert (target / "good.pt").read_bytes() == b"someone else's file"
    assert (site.dir / "good.pt").read_bytes() == site.files["good"]
    assert (site.dir / ".good.pt.meta.json").exists() and not (target / ".good.pt.meta.json").exists()
    assert (target / "other.pt").read_bytes() == site.files["other"]


def test_ctrl_c_stops_a_move_between_pieces_and_leaves_the_source_whole(capsys, site, elsewhere, monkeypatch):
    from ofa_manager.core.durable import COPY_CHUNK

    big = site.library.catalog.get("good")
    data = os.urandom(10 * COPY_CHUNK)
    site.library.path(big).write_bytes(data)
    site.library.write_meta(big, {"size": len(data)})

    class Terminal:
        """stderr that presses Ctrl+C (a real SIGINT to this process) once the copy is 10 % along."""

        def __init__(self) -> None:
            self.lines: list[str] = []

        def write(self, text: str) -> int:
            self.lines.append(text)
            if text.startswith("moving: 10 %"):
                os.kill(os.getpid(), signal.SIGINT)
            return len(text)

        def flush(self) -> None:
            pass

        def isatty(self) -> bool:
            return False

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    target = elsewhere / "models"
    handler = signal.getsignal(signal.SIGINT)  # Python's own; ignored under the mutation runner
    code = cli.main([*site.args, "move", str(target)])
    said = "".join(terminal.lines)
    assert code == 130, said
    assert "stopping after this piece…\n" in said
    assert (
        f"stopped; every file not yet moved is whole in {site.dir.resolve()} (already in {target}: none); "
        "the models folder setting is unchanged — run the same command again to move the rest\n"
    ) in said
    assert "moving: 20 %" not in said  # it stopped at the next piece
    assert site.library.path(big).read_bytes() == data and site.library.meta_path(big).exists()
    assert sorted(os.listdir(target)) == []  # no partial copy left behind
    assert settings.load().models_dir == ""
    assert signal.getsignal(signal.SIGINT) is handler  # given back as it was
    # Run again, it finishes.
    monkeypatch.setattr(sys, "stderr", sys.__stderr__)
    code, out, _ = run_cli(capsys, *site.args, "move", str(target))
    assert code == 0 and (target / "good.pt").read_bytes() == data


def test_ctrl_c_on_a_terminal_is_said_and_a_second_one_stops_at_once(capsys, site, elsewhere, monkeypatch):
    from ofa_manager.core.durable import COPY_CHUNK

    big = site.library.catalog.get("good")
    data = os.urandom(10 * COPY_CHUNK)
    site.library.path(big).write_bytes(data)
    site.library.write_meta(big, {"size": len(data)})

    class Screen(io.StringIO):
        """A terminal whose user presses Ctrl+C (a real SIGINT to this process) as the bar is first drawn,
        and again once told the move stops after this piece. (Later drawings of the bar come as tqdm's
        clock allows: no press waits for one.)"""

        presses = 0

        def isatty(self) -> bool:
            return True

        def write(self, text: str) -> int:
            told = "stopping after this piece…" in self.getvalue()
            written = super().write(text)
            if (self.presses == 0 and "moving:" in text) or (self.presses == 1 and told):
                self.presses += 1
                os.kill(os.getpid(), signal.SIGINT)
            return written

    screen = Screen()
    monkeypatch.setattr(sys, "stderr", screen)
    target = elsewhere / "models"
    code, out, _ = run_cli(capsys, *site.args, "move", str(target))
    shown = screen_lines(screen.getvalue())
    assert code == 130 and out == "", shown
    # The bar counts bytes in binary units; the first press is said on the screen; the second drops the
    # copy in hand and says where to look.
    assert shown[0].startswith("moving:   0%|          | 0.00/40.0M [00:00<?, ?B/s]")
    assert [line for line in shown if "stopping" in line][0].endswith("stopping after this piece…")
    assert shown[-1] == (
        f"stopped; every file not yet moved is whole in {site.dir.resolve()} (see {target} for what is "
        "already there); the models folder setting is unchanged — run the same command again to move the rest"
    )
    assert site.library.path(big).read_bytes() == data
    assert settings.load().models_dir == ""


def test_move_refuses_while_another_process_downloads_into_the_folder(capsys, site, tmp_path):
    good = site.library.catalog.get("good")
    site.library.path(good).write_bytes(b"a finished file")
    other = site.library.catalog.get("other")
    # Another process holds the lock a download holds on its file for as long as it runs.
    with held_by_another_process(site.library.lock_path(other)):
        code, out, err = run_cli(capsys, *site.args, "move", str(tmp_path / "new"))
    assert code == 1 and out == "", err
    assert err == (
        "ofa-manager: another ofa-manager process is using other.pt; stop its downloads first; "
        "nothing moved\n"
    )
    assert site.library.path(good).read_bytes() == b"a finished file"
    assert not (tmp_path / "new" / "good.pt").exists()
    assert settings.load().models_dir == ""


def test_move_to_a_file_is_a_usage_error(capsys, site, tmp_path):
    assert run_cli(capsys, *site.args, "download", "good")[0] == 0
    (tmp_path / "a-file").write_text("x")
    code, _, err = run_cli(capsys, *site.args, "move", str(tmp_path / "a-file"))
    assert code == 2 and "not a folder; nothing moved" in err
    assert (site.dir / "good.pt").read_bytes() == site.files["good"]


# -- rm --trash -------------------------------------------------------------------------------------


def test_rm_trash_moves_the_file_to_the_freedesktop_trash(capsys, site, isolated_user_folders):
    assert run_cli(capsys, *site.args, "download", "good")[0] == 0
    path = site.dir / "good.pt"
    # A process of its own: Send2Trash reads XDG_DATA_HOME once, when it is imported.
    done = subprocess.run(
        cli_command(*site.args, "rm", "--trash", "good", "--yes"),
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "to the trash; they take their space until the trash is emptied" in done.stdout
    trash = isolated_user_folders["XDG_DATA_HOME"] / "Trash"
    assert (trash / "files" / "good.pt").read_bytes() == site.files["good"]
    info = (trash / "info" / "good.pt.trashinfo").read_text()
    assert "[Trash Info]" in info and f"Path={path}" in info and "DeletionDate=" in info
    assert not path.exists() and not (site.dir / ".good.pt.meta.json").exists()
    assert states(capsys, site, site.dir)["good"] == "remote"


def test_rm_trash_leaves_a_file_that_is_not_ours(capsys, site, isolated_user_folders):
    path = site.dir / "other.pt"
    path.write_bytes(b"the user's own file")
    code, _, err = run_cli(capsys, *site.args, "rm", "--trash", "other", "--yes")
    assert code == 1 and f"not moved to the trash: {path}" in err
    assert path.read_bytes() == b"the user's own file"
    assert not (isolated_user_folders["XDG_DATA_HOME"] / "Trash").exists()


@pytest.mark.parametrize("flag", ["--partial", "--force"])
def test_rm_trash_with_partial_or_force_is_a_usage_error(capsys, site, flag):
    code, _, err = run_cli(capsys, *site.args, "rm", "--trash", flag, "good", "--yes")
    assert code == 2 and "--trash" in err


def test_a_move_that_fails_part_way_says_so_and_keeps_the_setting(capsys, site, tmp_path):
    assert run_cli(capsys, *site.args, "download", "good")[0] == 0
    target = tmp_path / "new"
    (target / ".good.pt.meta.json").mkdir(parents=True)  # a folder where the file's metadata would go
    code, out, err = run_cli(capsys, *site.args, "move", str(target))
    assert code == 1 and out == ""
    last = err.splitlines()[-1]
    assert last.startswith("ofa-manager: the move failed: [Errno 21] Is a directory: ")
    assert last.endswith(f"; already moved to {target}: good.pt; the models folder setting is unchanged")
    assert settings.load().models_dir == ""


def test_a_copy_says_its_first_tenth(capsys, site, elsewhere):
    from ofa_manager.core.durable import COPY_CHUNK

    big = site.library.catalog.get("good")
    site.library.path(big).write_bytes(os.urandom(7 * COPY_CHUNK))
    site.library.write_meta(big, {"size": 7 * COPY_CHUNK})
    code, out, err = run_cli(capsys, *site.args, "move", str(elsewhere / "models"))
    assert code == 0, err
    # One piece of seven is 14 %: the first line is the 10 % line.
    assert err.splitlines()[0].startswith("moving: 10 % (")
