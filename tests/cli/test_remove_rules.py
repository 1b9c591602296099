"""`rm` (plain, --partial, --force, --rejected, --trash) and `accept`, in this process: what each prints,
what it asks and how the answer is read, which flags go together, what stays on disk and the exit code."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest

from tests.catalogs import run_cli
from tests.scenes import Shelf, Terminal

pytestmark = pytest.mark.usefixtures("engine_threads_end")


@pytest.fixture
def shelf(tmp_path, models_dir, http_server) -> Shelf:
    return Shelf(tmp_path, models_dir, http_server)


@pytest.fixture
def trash(monkeypatch, isolated_user_folders):
    """The real Send2Trash, its freedesktop trash in this test's data folder (it reads XDG_DATA_HOME once, at
    import, so the folder it took from an earlier test is replaced)."""
    import os

    from send2trash import plat_other

    home = isolated_user_folders["XDG_DATA_HOME"]
    monkeypatch.setattr(plat_other, "XDG_DATA_HOME", os.fsencode(home))
    monkeypatch.setattr(plat_other, "HOMETRASH_B", os.fsencode(home / "Trash"))
    monkeypatch.setattr(plat_other, "HOMETRASH", str(home / "Trash"))
    return home / "Trash"


def typing(monkeypatch, answer: str) -> None:
    monkeypatch.setattr("sys.stdin", Terminal(answer))


def get(capsys, shelf, *ids: str) -> None:
    assert run_cli(capsys, *shelf.args, "download", *ids, "--no-backbone")[0] == 0


def reject(capsys, shelf) -> None:
    assert run_cli(capsys, *shelf.args, "download", "bad")[0] == 1


# -- rm ---------------------------------------------------------------------------------------------


def test_rm_names_each_file_what_shares_it_and_what_stops_working(capsys, monkeypatch, shelf):
    get(capsys, shelf, "good", "shared-a")
    good, shared = shelf.dir / "good.pt", shelf.dir / "shared.pt"
    typing(monkeypatch, "no\n")
    code, out, err = run_cli(capsys, *shelf.args, "rm", "good")
    assert code == 0, err
    assert out.splitlines() == [
        f"{good} — 293.0 KiB",
        "  without the backbone good, these stop working: shared-a, shared-b",
        "Delete 1 file(s), freeing 293.0 KiB? [y/N] nothing deleted",
    ]
    typing(monkeypatch, "\n")
    code, out, err = run_cli(capsys, *shelf.args, "rm", "good", "shared-a")
    assert code == 0, err
    assert out.splitlines() == [
        f"{good} — 293.0 KiB",
        f"{shared} — 195.3 KiB (also used by shared-b)",
        "Delete 2 file(s), freeing 488.3 KiB? [y/N] nothing deleted",
    ]
    assert good.read_bytes() == shelf.files["good"] and shared.read_bytes() == shelf.files["shared"]
    typing(monkeypatch, " YES \n")
    code, out, _ = run_cli(capsys, *shelf.args, "rm", "good", "shared-a")
    assert code == 0 and out.splitlines()[-1].endswith("[y/N] deleted 2 file(s), freed 488.3 KiB")
    assert not good.exists() and not shared.exists()
    assert not (shelf.dir / ".good.pt.meta.json").exists()


def test_rm_partial_names_no_backbone_and_keeps_the_finished_file(capsys, shelf, http_server):
    get(capsys, shelf, "good")
    http_server.add("/shared.pt", shelf.files["shared"], drop_after=30_000)
    code, _, _ = run_cli(capsys, *shelf.args, "download", "shared-a", "--retries", "0", "--connections", "1")
    assert code == 1
    code, out, _ = run_cli(capsys, *shelf.args, "rm", "good", "shared-a", "--partial", "--yes")
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == 2 and lines[0].startswith(f"{shelf.dir / 'shared.pt.part'} — ")
    assert "(also used by shared-b)" in lines[0] and "stop working" not in out
    assert lines[1].startswith("deleted 1 file(s), freed ") and lines[1] != "deleted 1 file(s), freed 0 Bytes"
    assert (shelf.dir / "good.pt").read_bytes() == shelf.files["good"]
    assert not list(shelf.dir.glob("shared.pt.part*"))


def test_rm_partial_leaves_a_folder_at_the_partial_files_path(capsys, shelf):
    (shelf.dir / "good.pt.part").mkdir()
    code, out, err = run_cli(capsys, *shelf.args, "rm", "good", "--partial", "--yes")
    assert code == 1
    assert err == f"not deleted: a folder is at {shelf.dir / 'good.pt.part'}; ofa-manager leaves it alone\n"
    assert out == "nothing to delete\n" and (shelf.dir / "good.pt.part").is_dir()


def test_rm_of_a_file_that_is_not_ours_needs_force(capsys, shelf):
    mine = shelf.dir / "good.pt"
    mine.write_bytes(b"the user's own file")
    code, out, err = run_cli(capsys, *shelf.args, "rm", "good", "--yes")
    assert code == 1 and out == "nothing to delete\n"
    assert err.startswith(f"not deleted: {mine}: ") and err.endswith(" (--force deletes it)\n")
    assert mine.read_bytes() == b"the user's own file"
    code, out, err = run_cli(capsys, *shelf.args, "rm", "good", "--yes", "--force")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith(f"{mine} is not ours (") and lines[0].endswith("); --force deletes it")
    assert lines[1].startswith(f"{mine} — 19 Bytes")
    assert lines[-1] == "deleted 1 file(s), freed 19 Bytes" and not mine.exists()


def test_rm_of_a_folder_where_the_file_belongs_is_refused_even_with_force(capsys, shelf):
    (shelf.dir / "good.pt").mkdir()
    code, out, err = run_cli(capsys, *shelf.args, "rm", "good", "--yes", "--force")
    assert code == 1 and out == "nothing to delete\n"
    assert err.startswith(f"not deleted: {shelf.dir / 'good.pt'}: ") and "--force" not in err
    assert (shelf.dir / "good.pt").is_dir()


def test_rm_of_a_store_file_is_refused(capsys, tmp_path, models_dir, http_server):
    store = tmp_path / "store"
    store.mkdir()
    shelf = Shelf(tmp_path, models_dir, http_server, store=store)
    (store / "good.pt").write_bytes(shelf.files["good"])
    code, out, err = run_cli(capsys, *shelf.args, "rm", "good", "--yes")
    assert code == 1 and out == "nothing to delete\n"
    assert err == f"not deleted: good: in the shared store ({store / 'good.pt'}), which is read-only\n"
    assert (store / "good.pt").read_bytes() == shelf.files["good"]


def test_rm_of_something_deleted_and_something_refused_exits_1(capsys, shelf):
    get(capsys, shelf, "shared-a")
    (shelf.dir / "good.pt").write_bytes(b"theirs")
    code, out, err = run_cli(capsys, *shelf.args, "rm", "good", "shared-a", "--yes")
    assert code == 1 and "not deleted" in err
    assert out.splitlines()[-1] == "deleted 1 file(s), freed 195.3 KiB"


# -- rm --rejected and accept ---------------------------------------------------------------------------


@pytest.mark.parametrize("flag", ["--partial", "--trash", "--force"])
def test_rm_rejected_goes_with_no_other_kind_of_delete(capsys, shelf, flag):
    reject(capsys, shelf)
    code, out, err = run_cli(capsys, *shelf.args, "rm", "--rejected", flag, "bad", "--yes")
    assert code == 2 and out == ""
    assert err == (
        "ofa-manager: error: --rejected deletes only the rejected copies; "
        "not with --partial, --trash or --force\n"
    )
    assert (shelf.dir / "bad.pt.rejected").read_bytes() == shelf.files["bad"]


def test_rm_rejected_with_nothing_kept_says_so(capsys, shelf):
    code, out, _ = run_cli(capsys, *shelf.args, "rm", "--rejected", "bad", "good", "--yes")
    assert code == 0 and out == "no rejected download is kept for these checkpoints\n"


def test_rm_rejected_asks_then_deletes_only_the_kept_copy(capsys, monkeypatch, shelf):
    reject(capsys, shelf)
    kept = shelf.dir / "bad.pt.rejected"
    typing(monkeypatch, "\n")
    code, out, _ = run_cli(capsys, *shelf.args, "rm", "--rejected", "bad")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith(f"{kept} — 48.8 KiB (") and "sha256" in lines[0]
    assert lines[1:] == ["Delete 1 rejected file(s)? [y/N] nothing deleted"]
    assert kept.read_bytes() == shelf.files["bad"]
    monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))
    code, _, err = run_cli(capsys, *shelf.args, "rm", "--rejected", "bad")
    assert code == 2 and err == "ofa-manager: error: not on a terminal: add --yes to delete without asking\n"
    assert kept.exists()
    typing(monkeypatch, "y\n")
    code, out, _ = run_cli(capsys, *shelf.args, "rm", "--rejected", "bad")
    assert code == 0 and out.splitlines()[-1] == (
        "Delete 1 rejected file(s)? [y/N] deleted 1 rejected file(s), freed 48.8 KiB"
    )
    assert not kept.exists()


def test_accept_keeps_the_rejected_copy_and_says_it_differs(capsys, shelf):
    reject(capsys, shelf)
    code, out, err = run_cli(capsys, *shelf.args, "accept", "bad")
    assert code == 0, err
    kept = shelf.dir.resolve() / "bad.pt"
    assert out.startswith(f"bad: kept anyway as {kept} — differs from the catalog (")
    assert "sha256" in out and out.endswith("); not verified\n")
    assert (shelf.dir / "bad.pt").read_bytes() == shelf.files["bad"]
    code, out, err = run_cli(capsys, *shelf.args, "accept", "bad", "good")
    assert code == 1 and out == ""
    assert err.count("not accepted: ") == 2 and "no rejected download is kept" in err


# -- rm --trash -----------------------------------------------------------------------------------------


def test_rm_trash_asks_then_moves_the_file_to_the_trash(capsys, monkeypatch, shelf, trash):
    get(capsys, shelf, "shared-a")
    path = shelf.dir / "shared.pt"
    typing(monkeypatch, "n\n")
    code, out, _ = run_cli(capsys, *shelf.args, "rm", "--trash", "shared-a")
    assert code == 0
    assert out.splitlines() == [
        f"{path.resolve()} — 195.3 KiB (also used by shared-b)",
        "Move 1 file(s) to the trash? [y/N] nothing moved",
    ]
    assert path.read_bytes() == shelf.files["shared"] and not trash.exists()
    typing(monkeypatch, "yes\n")
    code, out, _ = run_cli(capsys, *shelf.args, "rm", "--trash", "shared-a")
    assert code == 0
    assert out.splitlines()[-2:] == [
        "Move 1 file(s) to the trash? [y/N] shared.pt moved to the trash (shared.pt)",
        "moved 1 file(s) (195.3 KiB) to the trash; they take their space until the trash is emptied",
    ]
    assert (trash / "files" / "shared.pt").read_bytes() == shelf.files["shared"] and not path.exists()


def test_rm_trash_off_a_terminal_names_the_flag(capsys, monkeypatch, shelf, trash):
    get(capsys, shelf, "good")
    monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))
    code, _, err = run_cli(capsys, *shelf.args, "rm", "--trash", "good")
    assert code == 2
    assert err == "ofa-manager: error: not on a terminal: add --yes to move to the trash without asking\n"
    assert (shelf.dir / "good.pt").exists() and not trash.exists()


def test_rm_trash_of_what_is_not_downloaded(capsys, shelf, http_server, trash):
    code, out, err = run_cli(capsys, *shelf.args, "rm", "--trash", "good", "--yes")
    assert code == 0 and out == "good: not downloaded; nothing to move to the trash\n" and err == ""
    http_server.add("/good.pt", shelf.files["good"], drop_after=30_000)
    assert run_cli(capsys, *shelf.args, "download", "good", "--retries", "0", "--connections", "1")[0] == 1
    code, out, err = run_cli(capsys, *shelf.args, "rm", "--trash", "good", "--yes")
    assert code == 1 and out == ""
    assert err == (
        "not moved to the trash: good is not downloaded yet (rm --partial deletes its partial file)\n"
    )
    assert not trash.exists()


@pytest.mark.parametrize(
    "flag, message",
    [
        ("--partial", "--trash moves downloaded files; partial files are deleted with --partial alone"),
        ("--force", "--trash moves only files ofa-manager downloaded; --force deletes permanently"),
    ],
)
def test_rm_trash_refuses_partial_and_force_in_words(capsys, shelf, flag, message):
    code, out, err = run_cli(capsys, *shelf.args, "rm", "--trash", flag, "good", "--yes")
    assert code == 2 and out == "" and err == f"ofa-manager: error: {message}\n"


def test_a_rejected_record_without_its_reason_still_reads(capsys, shelf):
    reject(capsys, shelf)
    (sidecar,) = [p for p in shelf.dir.iterdir() if ".rejected" in p.name and p.name.endswith(".json")]
    record = json.loads(sidecar.read_text(encoding="utf-8"))
    del record["reason"]
    sidecar.write_text(json.dumps(record), encoding="utf-8")
    code, out, _ = run_cli(capsys, *shelf.args, "rm", "--rejected", "bad", "--yes")
    assert code == 0 and out.splitlines()[0] == f"{shelf.dir / 'bad.pt.rejected'} — 48.8 KiB ()"


def test_accept_of_a_record_without_its_reason_says_not_verified(capsys, shelf):
    reject(capsys, shelf)
    (sidecar,) = [p for p in shelf.dir.iterdir() if ".rejected" in p.name and p.name.endswith(".json")]
    record = json.loads(sidecar.read_text(encoding="utf-8"))
    del record["reason"]
    sidecar.write_text(json.dumps(record), encoding="utf-8")
    code, out, _ = run_cli(capsys, *shelf.args, "accept", "bad")
    assert code == 0
    assert out.endswith(" — differs from the catalog (not verified); not verified\n")


def test_rm_trash_of_a_file_used_by_one_entry_names_no_other(capsys, shelf, trash):
    get(capsys, shelf, "good")
    code, out, _ = run_cli(capsys, *shelf.args, "rm", "--trash", "good", "--yes")
    assert code == 0
    assert out.splitlines()[0] == f"{(shelf.dir / 'good.pt').resolve()} — 293.0 KiB"


def test_rm_trash_of_a_file_not_ours_names_it_and_the_way_to_delete_it(capsys, shelf, trash):
    mine = shelf.dir / "good.pt"
    mine.write_bytes(b"the user's own file")
    code, out, err = run_cli(capsys, *shelf.args, "rm", "--trash", "good", "--yes")
    assert code == 1 and out == ""
    assert err.startswith(f"not moved to the trash: {mine.resolve()}: ")
    assert err.endswith(" (rm --force deletes it permanently)\n") and err.count("\n") == 1
    assert mine.read_bytes() == b"the user's own file" and not trash.exists()


def test_rm_trash_of_a_file_another_process_holds_is_refused_and_the_next_goes(capsys, shelf, trash):
    get(capsys, shelf, "good", "shared-a")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, sys, time\n"
            "f = open(sys.argv[1], 'a')\n"
            "fcntl.lockf(f, fcntl.LOCK_EX)\n"
            "print('held', flush=True)\n"
            "time.sleep(120)\n",
            str(shelf.dir / ".good.pt.lock"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline() == "held\n"
        # good waits its 10 s, then shared-a goes.
        code, out, err = run_cli(capsys, *shelf.args, "rm", "--trash", "good", "shared-a", "--yes")
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()
    assert code == 1
    assert err == "not moved to the trash: good: another process is using the file\n"
    assert out.splitlines()[-1].startswith("moved 1 file(s) (195.3 KiB) to the trash")
    assert (shelf.dir / "good.pt").read_bytes() == shelf.files["good"]
    assert [p.name for p in (trash / "files").iterdir()] == ["shared.pt"]


def test_rm_trash_of_two_files_counts_both(capsys, shelf, trash):
    get(capsys, shelf, "good", "shared-a")
    code, out, _ = run_cli(capsys, *shelf.args, "rm", "--trash", "good", "shared-a", "--yes")
    assert code == 0
    assert out.splitlines()[-1] == (
        "moved 2 file(s) (488.3 KiB) to the trash; they take their space until the trash is emptied"
    )
    assert sorted(p.name for p in (trash / "files").iterdir()) == ["good.pt", "shared.pt"]


def test_rm_trash_moves_what_it_can_and_exits_1_for_the_rest(capsys, shelf, trash):
    get(capsys, shelf, "shared-a")
    (shelf.dir / "good.pt").write_bytes(b"the user's own file")
    code, out, err = run_cli(capsys, *shelf.args, "rm", "--trash", "good", "shared-a", "--yes")
    assert code == 1
    assert err.startswith(f"not moved to the trash: {(shelf.dir / 'good.pt').resolve()}: ")
    assert out.splitlines()[-1].startswith("moved 1 file(s) (195.3 KiB) to the trash")
    assert (trash / "files" / "shared.pt").exists() and (shelf.dir / "good.pt").exists()


def test_rm_partial_goes_on_past_a_folder_at_one_partial_files_path(capsys, shelf, http_server):
    http_server.add("/shared.pt", shelf.files["shared"], drop_after=30_000)
    words = ["download", "shared-a", "--no-backbone", "--retries", "0", "--connections", "1"]
    assert run_cli(capsys, *shelf.args, *words)[0] == 1
    (shelf.dir / "good.pt.part").mkdir()
    code, out, err = run_cli(capsys, *shelf.args, "rm", "good", "shared-a", "--partial", "--yes")
    assert code == 1 and "a folder is at" in err, err
    assert out.splitlines()[-1].startswith("deleted 1 file(s), freed ")
    assert not list(shelf.dir.glob("shared.pt.part*")) and (shelf.dir / "good.pt.part").is_dir()


def test_rm_trash_names_every_other_entry_sharing_the_file(capsys, tmp_path, models_dir, http_server, trash):
    from tests.catalogs import entry, write_catalog

    http_server.add("/s.pt", b"s" * 5000)
    catalog = write_catalog(
        tmp_path / "c.json", [entry(i, http_server.url("/s.pt")) for i in ("a", "b", "c")]
    )
    args = ["--dir", str(models_dir), "--catalog", str(catalog)]
    assert run_cli(capsys, *args, "download", "a")[0] == 0
    code, out, _ = run_cli(capsys, *args, "rm", "--trash", "a", "--yes")
    assert code == 0 and out.splitlines()[0].endswith(" — 4.9 KiB (also used by b, c)")


def test_rm_partial_deletes_a_resume_record_left_without_its_partial_file(capsys, shelf):
    record = shelf.dir / "good.pt.part.json"
    record.write_text(json.dumps({"size": 300_000, "ranges": [[0, 1000]]}), encoding="utf-8")
    code, out, err = run_cli(capsys, *shelf.args, "rm", "good", "--partial", "--yes")
    assert code == 0, err
    assert out.splitlines() == [f"{shelf.dir / 'good.pt.part'} — 0 Bytes", "deleted 1 file(s), freed 0 Bytes"]
    assert not record.exists()
    # With neither, there is nothing to delete.
    code, out, _ = run_cli(capsys, *shelf.args, "rm", "good", "--partial", "--yes")
    assert code == 0 and out == "nothing to delete\n"


def test_rm_of_a_file_counts_the_partial_data_beside_it(capsys, shelf):
    get(capsys, shelf, "good")
    # A new download of the same file had begun (a file the server changed): its data goes too.
    (shelf.dir / "good.pt.part").write_bytes(b"p" * 8192)
    code, out, err = run_cli(capsys, *shelf.args, "rm", "good", "--yes")
    assert code == 0, err
    assert out.splitlines() == [
        f"{shelf.dir / 'good.pt'} — 301.0 KiB",
        "deleted 1 file(s), freed 301.0 KiB",
    ]
    assert not list(shelf.dir.glob("good.pt*"))


def test_rm_force_of_a_file_not_ours_counts_the_partial_data_beside_it(capsys, shelf):
    (shelf.dir / "good.pt").write_bytes(b"x" * 4096)
    (shelf.dir / "good.pt.part").write_bytes(b"p" * 8192)
    code, out, err = run_cli(capsys, *shelf.args, "rm", "good", "--force", "--yes")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith(f"{shelf.dir / 'good.pt'} is not ours (") and lines[0].endswith(
        "; --force deletes it"
    )
    assert lines[1] == f"{shelf.dir / 'good.pt'} — 12.0 KiB"
    assert lines[-1] == "deleted 1 file(s), freed 12.0 KiB"
    assert not list(shelf.dir.glob("good.pt*"))


def test_rm_names_every_other_entry_sharing_the_file(capsys, tmp_path, models_dir, http_server):
    from tests.catalogs import entry, write_catalog

    http_server.add("/s.pt", b"s" * 5000)
    catalog = write_catalog(
        tmp_path / "c.json", [entry(i, http_server.url("/s.pt")) for i in ("a", "b", "c")]
    )
    args = ["--dir", str(models_dir), "--catalog", str(catalog)]
    assert run_cli(capsys, *args, "download", "a")[0] == 0
    code, out, _ = run_cli(capsys, *args, "rm", "b", "--yes")
    assert code == 0
    assert out.splitlines() == [
        f"{models_dir / 's.pt'} — 4.9 KiB (also used by a, c)",
        "deleted 1 file(s), freed 4.9 KiB",
    ]


def test_rm_partial_of_a_backbone_says_nothing_of_what_it_serves(capsys, shelf):
    # A partial backbone serves nothing yet: deleting it stops nothing from working (a plain rm of the
    # same backbone, once downloaded, names what stops working: see the first test).
    get(capsys, shelf, "shared-a")
    (shelf.dir / "good.pt.part").write_bytes(b"p" * 4096)
    code, out, err = run_cli(capsys, *shelf.args, "rm", "good", "--partial", "--yes")
    assert code == 0, err
    assert out.splitlines() == [f"{shelf.dir / 'good.pt.part'} — 4.0 KiB", "deleted 1 file(s), freed 4.0 KiB"]


def test_rm_trash_into_a_broken_trash_keeps_every_file_and_names_each(capsys, shelf, trash):
    get(capsys, shelf, "good", "shared-a")
    trash.mkdir(parents=True)
    (trash / "files").write_text("a file where the trash keeps its files", encoding="utf-8")
    code, out, err = run_cli(capsys, *shelf.args, "rm", "--trash", "good", "shared-a", "--yes")
    assert code == 1
    assert out.splitlines() == [
        f"{(shelf.dir / 'good.pt').resolve()} — 293.0 KiB",
        f"{(shelf.dir / 'shared.pt').resolve()} — 195.3 KiB (also used by shared-b)",
    ]
    assert err.splitlines() == [
        f"not moved to the trash: {(shelf.dir / name).resolve()}: the trash failed (Not a directory)"
        for name in ("good.pt", "shared.pt")
    ]
    assert (shelf.dir / "good.pt").read_bytes() == shelf.files["good"]
    assert (shelf.dir / "shared.pt").read_bytes() == shelf.files["shared"]
    code, out, _ = run_cli(capsys, *shelf.args, "list", "--json")
    assert {row["id"]: row["state"] for row in json.loads(out)}["good"] == "downloaded"


class AnsweredAfter(Terminal):
    """A terminal whose user answers after something else changed the folder (another program, another
    window) while the question was on the screen."""

    def __init__(self, answer: str, meanwhile) -> None:
        super().__init__(answer)
        self.meanwhile = meanwhile

    def readline(self, *args) -> str:
        self.meanwhile()
        return super().readline(*args)


def test_rm_trash_of_files_changed_while_it_asked_moves_the_rest(capsys, monkeypatch, shelf, trash):
    get(capsys, shelf, "good", "shared-a")
    good, shared = (shelf.dir / "good.pt").resolve(), (shelf.dir / "shared.pt").resolve()

    def meanwhile() -> None:
        good.unlink()  # the first file listed is gone by the time the answer comes

    monkeypatch.setattr("sys.stdin", AnsweredAfter("y\n", meanwhile))
    code, out, err = run_cli(capsys, *shelf.args, "rm", "--trash", "good", "shared-a")
    assert code == 1
    assert err == f"not moved to the trash: {good} is not there any more (remote)\n"
    assert out.splitlines()[-2:] == [
        "Move 2 file(s) to the trash? [y/N] shared.pt moved to the trash (shared.pt)",
        "moved 1 file(s) (195.3 KiB) to the trash; they take their space until the trash is emptied",
    ]
    assert (trash / "files" / "shared.pt").read_bytes() == shelf.files["shared"] and not shared.exists()
    assert not (trash / "files" / "good.pt").exists()


def test_rm_trash_of_a_file_replaced_while_it_asked_leaves_it(capsys, monkeypatch, shelf, trash):
    get(capsys, shelf, "good")
    good = (shelf.dir / "good.pt").resolve()

    def meanwhile() -> None:
        good.unlink()
        good.write_bytes(b"someone else's file")

    monkeypatch.setattr("sys.stdin", AnsweredAfter("y\n", meanwhile))
    code, out, err = run_cli(capsys, *shelf.args, "rm", "--trash", "good")
    assert code == 1
    assert err.startswith(f"not moved to the trash: {good}: ") and err.endswith("; not moved to the trash\n")
    assert good.read_bytes() == b"someone else's file" and not trash.exists()
    assert "moved 1 file(s)" not in out


def test_rm_partial_of_a_file_with_a_new_download_begun_keeps_the_file(capsys, shelf):
    get(capsys, shelf, "good")
    (shelf.dir / "good.pt.part").write_bytes(b"p" * 8192)
    code, out, err = run_cli(capsys, *shelf.args, "rm", "good", "--partial", "--yes")
    assert code == 0, err
    assert out.splitlines() == [f"{shelf.dir / 'good.pt.part'} — 8.0 KiB", "deleted 1 file(s), freed 8.0 KiB"]
    assert (shelf.dir / "good.pt").read_bytes() == shelf.files["good"]
    assert not (shelf.dir / "good.pt.part").exists()


def test_rm_of_a_link_at_the_partial_files_name_names_that_path(capsys, shelf, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.write_bytes(b"not ours")
    (shelf.dir / "good.pt.part").symlink_to(elsewhere)
    code, out, err = run_cli(capsys, *shelf.args, "rm", "good", "--yes")
    assert code == 1 and out == "nothing to delete\n"
    assert err == (
        f"not deleted: {shelf.dir / 'good.pt.part'}: a symbolic link is at good.pt.part; "
        "ofa-manager leaves it alone\n"
    )
    assert elsewhere.read_bytes() == b"not ours" and (shelf.dir / "good.pt.part").is_symlink()


def test_rm_of_a_file_replaced_while_it_asked_leaves_it_and_deletes_the_rest(capsys, monkeypatch, shelf):
    get(capsys, shelf, "good", "shared-a")
    good = shelf.dir / "good.pt"

    def meanwhile() -> None:
        good.unlink()
        good.write_bytes(b"someone else's file")

    monkeypatch.setattr("sys.stdin", AnsweredAfter("y\n", meanwhile))
    code, out, err = run_cli(capsys, *shelf.args, "rm", "good", "shared-a")
    assert code == 1
    assert err.startswith("not deleted: ") and str(good.resolve()) in err and err.count("\n") == 1
    assert out.splitlines()[-1].endswith("[y/N] deleted 1 file(s), freed 195.3 KiB")
    assert good.read_bytes() == b"someone else's file" and not (shelf.dir / "shared.pt").exists()
