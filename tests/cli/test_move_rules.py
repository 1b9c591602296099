"""`move DIR`, in this process: the lines it prints (progress per tenth, what was moved and left, where the
setting is saved), what it refuses, the environment's folder winning over the setting, the terminal's bar."""

from __future__ import annotations

import io

import pytest

from ofa_manager.core import settings
from tests.catalogs import run_cli
from tests.scenes import Shelf

pytestmark = pytest.mark.usefixtures("engine_threads_end")


@pytest.fixture
def shelf(tmp_path, models_dir, http_server) -> Shelf:
    return Shelf(tmp_path, models_dir, http_server)


def get(capsys, shelf, *ids: str) -> None:
    assert run_cli(capsys, *shelf.args, "download", *ids, "--no-backbone")[0] == 0


def test_a_move_says_each_tenth_what_moved_and_where_the_setting_is(capsys, tmp_path, shelf):
    get(capsys, shelf, "good")
    target = tmp_path / "new"
    code, out, err = run_cli(capsys, *shelf.args, "move", str(target))
    assert code == 0, err
    saved = settings.config_dir() / "settings.json"
    assert out.splitlines() == [
        f"moved 1 file(s) to {target}",
        f"models folder is now {target} (saved in {saved})",
    ]
    # Renamed within the volume, file by file: the checkpoint is 90 % of the bytes, its record the rest.
    progress = err.splitlines()
    assert len(progress) == 2 and progress[0].startswith("moving: 90 % (293.0 KiB of ")
    total = progress[1].split(" of ")[1]
    assert progress[1] == f"moving: 100 % ({total.rstrip(')')} of {total}" and progress[0].endswith(total)
    assert (target / "good.pt").read_bytes() == shelf.files["good"]
    assert settings.load().models_dir == str(target)


def test_a_relative_target_is_under_the_current_folder(capsys, monkeypatch, tmp_path, shelf):
    get(capsys, shelf, "good")
    monkeypatch.chdir(tmp_path)
    code, out, _ = run_cli(capsys, *shelf.args, "move", "relative")
    assert code == 0 and out.splitlines()[0] == f"moved 1 file(s) to {tmp_path / 'relative'}"
    assert (tmp_path / "relative" / "good.pt").exists()


def test_the_folder_itself_is_nothing_to_move(capsys, monkeypatch, shelf):
    monkeypatch.chdir(shelf.dir.parent)
    code, out, err = run_cli(capsys, *shelf.args, "move", shelf.dir.name)
    assert code == 0 and err == ""
    assert out == f"{shelf.dir.resolve()} is the models folder already; nothing moved\n"
    assert settings.load().models_dir == ""


def test_a_file_as_the_target_is_refused(capsys, tmp_path, shelf):
    target = tmp_path / "a-file"
    target.write_bytes(b"")
    code, out, err = run_cli(capsys, *shelf.args, "move", str(target))
    assert code == 2 and out == ""
    assert err == f"ofa-manager: error: {target} is a file, not a folder; nothing moved\n"


def test_a_name_taken_in_the_target_is_left_and_named(capsys, tmp_path, shelf):
    get(capsys, shelf, "good", "shared-a")
    target = tmp_path / "new"
    target.mkdir()
    (target / "good.pt").write_bytes(b"someone else's")
    code, out, _ = run_cli(capsys, *shelf.args, "move", str(target))
    assert code == 1
    lines = out.splitlines()
    assert lines[0].startswith(f"left in {shelf.dir.resolve()}: good.pt (") and lines[0].endswith(")")
    assert lines[1] == f"moved 1 file(s) to {target}"
    assert (shelf.dir / "good.pt").read_bytes() == shelf.files["good"]


def test_with_the_folder_from_the_environment_the_setting_is_left(capsys, monkeypatch, tmp_path, shelf):
    get(capsys, shelf, "good")
    monkeypatch.setenv("OFA_MANAGER_DIR", str(shelf.dir))
    target = tmp_path / "new"
    code, out, _ = run_cli(capsys, "--catalog", str(shelf.catalog), "move", str(target))
    assert code == 0
    assert out.splitlines() == [
        f"moved 1 file(s) to {target}",
        "note: OFA_MANAGER_DIR is set and decides the models folder; the setting is unchanged",
    ]
    assert settings.load().models_dir == ""


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_the_move_has_a_bar(capsys, monkeypatch, tmp_path, shelf):
    get(capsys, shelf, "good")
    screen = Tty()
    monkeypatch.setattr("sys.stderr", screen)
    code, _, _ = run_cli(capsys, *shelf.args, "move", str(tmp_path / "new"))
    assert code == 0
    text = screen.getvalue()
    assert "moving: 100%|" in text and "moving: 0 %" not in text
    assert "KiB" in text or "k/" in text or "k " in text  # sizes in binary units
