"""`ofa-manager unpack` and what `download --unpack`, `verify` and `rm` say of unpacked folders, word for
word: the members listed (twenty at most), the JSON, the reasons, the bar on a terminal, Ctrl+C, damage
named file by file, the bytes freed. Real zips on the loopback server, real folders."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import sys

import pytest

from ofa_manager.core import units
from tests.archives import build_zip
from tests.catalogs import engine_threads, entry, payload, rot, run_cli, sha256, write_catalog

pytestmark = pytest.mark.usefixtures("engine_threads_end")

# One archive large enough that the bar's sizes are scaled (190 000 bytes: 186k in units of 1024, 185k in
# units of 1025, 190k in units of 1000), two of small members (the bytes freed are shown to the byte).
BUNDLE = {"a.pt": payload(90_000, 1), "sub/b.pt": payload(50_000, 2), "sub/c.pt": payload(50_000, 3)}
TWENTY = {f"m{i:02d}.pt": bytes([i]) * (i + 1) for i in range(20)}
MANY = {f"n{i:02d}.pt": bytes([i]) * 7 for i in range(21)}


@pytest.fixture
def shelf(tmp_path, models_dir, http_server):
    rows = []
    for name, data in (("plain", payload(3_000, 7)), ("plain2", payload(2_000, 8))):
        http_server.add(f"/{name}.pt", data)
        rows.append(entry(name, http_server.url(f"/{name}.pt"), sha256=sha256(data)))
    zips = {}
    for name, members in (("bundle", BUNDLE), ("twenty", TWENTY), ("many", MANY)):
        zips[name] = build_zip(list(members.items()), method=0)  # stored: the sizes are the members' own
        http_server.add(f"/{name}.zip", zips[name])
        rows.append(entry(name, http_server.url(f"/{name}.zip"), sha256=sha256(zips[name])))
    catalog = write_catalog(tmp_path / "catalog.json", rows)  # the plain files first: no unpack record

    class Shelf:
        pass

    s = Shelf()
    s.dir, s.zips = models_dir, zips
    s.args = ["--dir", str(models_dir), "--catalog", str(catalog)]
    return s


def test_unpack_lists_twenty_members_then_how_many_more(capsys, shelf):
    assert run_cli(capsys, *shelf.args, "download", "twenty", "many")[0] == 0
    code, out, err = run_cli(capsys, *shelf.args, "unpack", "twenty", "many")
    assert code == 0 and err == ""
    expected = []
    for name, members in (("twenty", TWENTY), ("many", MANY)):
        total = units.size(sum(len(d) for d in members.values()))
        expected.append(f"{name}: unpacked {len(members)} file(s), {total}, into {shelf.dir / name}")
        expected += [f"  {member}  {units.size(len(data))}" for member, data in list(members.items())[:20]]
    expected.append("  … and 1 more")  # many's 21st member; twenty's are all shown, with no such line
    assert out.splitlines() == expected
    assert "  m00.pt  1 Byte" in expected and "  n00.pt  7 Bytes" in expected  # the sizes are the members'


def test_unpack_json_lists_each_archive_indented(capsys, shelf):
    assert run_cli(capsys, *shelf.args, "download", "twenty", "many")[0] == 0
    code, out, _ = run_cli(capsys, *shelf.args, "unpack", "twenty", "many", "--json")
    assert code == 0
    results = json.loads(out)
    assert [(r["id"], r["outcome"], len(r["members"])) for r in results] == [
        ("twenty", "unpacked", 20),
        ("many", "unpacked", 21),
    ]
    assert out == json.dumps(results, indent=2) + "\n"
    assert (shelf.dir / "many" / "n20.pt").read_bytes() == MANY["n20.pt"]


def test_what_is_not_an_archive_is_named_every_one(capsys, shelf):
    code, out, err = run_cli(capsys, *shelf.args, "unpack", "plain", "bundle", "plain2")
    assert code == 2 and out == ""
    assert err == "ofa-manager: error: plain, plain2: not a .zip archive; there is nothing to unpack\n"


def test_an_archive_that_fails_its_check_is_not_unpacked_and_the_download_offered_fetches_it(capsys, shelf):
    assert run_cli(capsys, *shelf.args, "download", "bundle")[0] == 0
    rot(shelf.dir / "bundle.zip")  # as a failing disk does: same size and time, another sha256
    code, out, err = run_cli(capsys, *shelf.args, "unpack", "bundle")
    assert code == 1 and out == ""
    assert err == (
        "bundle: not unpacked: bundle failed its check (corrupt): it is not unpacked "
        "(`ofa-manager download --unpack bundle` fetches and unpacks it)\n"
    )
    assert not (shelf.dir / "bundle").exists()
    code, out, err = run_cli(capsys, *shelf.args, "download", "--unpack", "bundle")
    assert code == 0, err
    assert (shelf.dir / "bundle" / "sub" / "c.pt").read_bytes() == BUNDLE["sub/c.pt"]


def test_a_file_not_ours_at_the_archives_name_is_named_without_offering_a_download(capsys, shelf):
    assert run_cli(capsys, *shelf.args, "download", "bundle")[0] == 0
    path = shelf.dir / "bundle.zip"
    path.write_bytes(path.read_bytes()[:-1] + b"!")  # a program wrote it: not the file ofa-manager wrote
    code, out, err = run_cli(capsys, *shelf.args, "unpack", "bundle")
    assert code == 1 and out == ""
    assert err == (
        "bundle: not unpacked: bundle is not downloaded (not-ours; the file at this path was modified after "
        "ofa-manager wrote it)\n"
    )  # `download --unpack` would refuse it too: it never overwrites a file it did not write
    code, _, err = run_cli(capsys, *shelf.args, "download", "bundle", "--unpack")
    assert code == 1 and "a different file is already at" in err
    assert "fetches and unpacks it" not in err
    # Not here at all, the download is offered.
    path.unlink()
    code, _, err = run_cli(capsys, *shelf.args, "unpack", "bundle")
    assert code == 1 and err == (
        "bundle: not unpacked: bundle is not downloaded (remote) "
        "(`ofa-manager download --unpack bundle` fetches and unpacks it)\n"
    )


def test_download_unpack_leaves_a_folder_already_unpacked_from_these_bytes(capsys, shelf):
    assert run_cli(capsys, *shelf.args, "download", "bundle", "--unpack")[0] == 0
    kept = shelf.dir / "bundle" / "a.pt"
    before = os.stat(kept).st_ino
    code, out, err = run_cli(capsys, *shelf.args, "download", "bundle", "--unpack")
    assert code == 0, err
    assert f"bundle: already unpacked in {shelf.dir / 'bundle'} (3 file(s))" in out.splitlines()
    assert os.stat(kept).st_ino == before  # not unpacked anew


def test_verify_names_each_damaged_member_and_what_is_not_from_the_archive(capsys, shelf):
    assert run_cli(capsys, *shelf.args, "download", "plain", "bundle", "many", "--unpack")[0] == 0
    bundle, many = shelf.dir / "bundle", shelf.dir / "many"
    (bundle / "a.pt").write_bytes(b"x" * len(BUNDLE["a.pt"]))
    (bundle / "sub" / "b.pt").write_bytes(b"y" * len(BUNDLE["sub/b.pt"]))
    (bundle / "sub" / "c.pt").unlink()
    (bundle / "notes.txt").write_text("mine")
    (bundle / "sub" / "zz.txt").write_text("mine too")
    (many / "n03.pt").unlink()
    code, out, _ = run_cli(capsys, *shelf.args, "verify")
    lines = out.splitlines()
    assert code == 1
    assert lines[-4:] == [
        f"bundle: unpacked folder DAMAGED ({bundle}): changed: a.pt, sub/b.pt; missing: sub/c.pt "
        "(`ofa-manager unpack --again bundle` unpacks it anew)",
        "  not from the archive, left alone: notes.txt, sub/zz.txt",
        f"many: unpacked folder DAMAGED ({many}): missing: n03.pt (`ofa-manager unpack --again many` unpacks "
        "it anew)",
        "3 file(s) checked, 2 corrupt",
    ]
    # Mended, the same command says so of each folder.
    assert run_cli(capsys, *shelf.args, "unpack", "--again", "many")[0] == 0
    code, out, _ = run_cli(capsys, *shelf.args, "verify", "many", "plain")
    assert code == 0
    assert f"many: unpacked folder ok ({many}, 21 file(s), CRC-32 checked)" in out.splitlines()
    assert out.splitlines()[-1] == "2 file(s) checked, 0 corrupt"


def test_rm_counts_the_bytes_of_every_folder_and_keeps_one_holding_other_files(capsys, shelf):
    assert run_cli(capsys, *shelf.args, "download", "twenty", "many", "--unpack")[0] == 0
    code, _, _ = run_cli(capsys, *shelf.args, "rm", "twenty", "many", "--yes", "--keep-unpacked")
    assert code == 0 and not (shelf.dir / "twenty.zip").exists()
    (shelf.dir / "twenty" / "notes.txt").write_text("mine")
    (shelf.dir / "twenty" / "extra").mkdir()
    (shelf.dir / "twenty" / "extra" / "mine.txt").write_text("mine")
    code, out, _ = run_cli(capsys, *shelf.args, "rm", "twenty", "many", "--yes")
    assert code == 0
    members = sum(len(d) for d in TWENTY.values()) + sum(len(d) for d in MANY.values())
    assert members < 1024  # shown to the byte
    assert out.splitlines()[-3:] == [
        f"{shelf.dir / 'twenty'}: kept, it holds files not from the archive: notes.txt, extra/",
        f"many: unpacked folder {shelf.dir / 'many'} deleted",
        f"deleted 0 file(s), freed {units.size(members)}",
    ]
    assert sorted(os.listdir(shelf.dir / "twenty")) == ["extra", "notes.txt"]
    assert not (shelf.dir / "many").exists()


class Screen(io.StringIO):
    """stderr on a terminal (tqdm draws its bars only there)."""

    def isatty(self) -> bool:
        return True


def bars(text: str, phase: str) -> list[str]:
    """Each drawing of a phase's bar (tqdm redraws a row after a carriage return)."""
    return [part for part in re.split(r"[\r\n]", text) if part.startswith(f"{phase}:")]


def test_on_a_terminal_the_check_and_the_unpacking_each_have_one_bar_in_bytes(capsys, monkeypatch, shelf):
    from tqdm import tqdm

    assert run_cli(capsys, *shelf.args, "download", "bundle")[0] == 0
    screen = Screen()
    monkeypatch.setattr(sys, "stderr", screen)
    code, out, _ = run_cli(capsys, *shelf.args, "unpack", "bundle")
    assert code == 0 and out.startswith("bundle: unpacked 3 file(s)")
    text = screen.getvalue()
    for phase, total in (("verifying", len(shelf.zips["bundle"])), ("unpacking", 190_000)):
        drawn = bars(text, phase)
        shown = tqdm.format_sizeof(total, divisor=1024)
        assert [b for b in drawn if re.match(rf"{phase}:\s+0%", b)] == drawn[:1], text  # one bar, from 0
        sizes = f"{re.escape(shown)}/{re.escape(shown)}"
        assert re.match(rf"{phase}: 100%\|[^|]*\| {sizes} \[.*B/s\]$", drawn[-1]), drawn[-1]
    assert tqdm.format_sizeof(190_000, divisor=1024) == "186k"  # 185k in units of 1025, 190k of 1000


def test_ctrl_c_while_unpacking_leaves_nothing_half_unpacked(capsys, monkeypatch, shelf):
    assert run_cli(capsys, *shelf.args, "download", "bundle")[0] == 0

    class Pressing(Screen):
        """A terminal whose user presses Ctrl+C (a real SIGINT to this process) as the unpacking bar is
        first drawn."""

        pressed = False

        def write(self, text: str) -> int:
            written = super().write(text)
            if not self.pressed and "unpacking:" in text:
                self.pressed = True
                os.kill(os.getpid(), signal.SIGINT)
            return written

    screen = Pressing()
    monkeypatch.setattr(sys, "stderr", screen)
    code, out, _ = run_cli(capsys, *shelf.args, "unpack", "bundle")
    assert code == 130 and out == ""
    assert screen.getvalue().endswith("\nbundle: stopped; nothing half-unpacked is left\n")
    assert [n for n in os.listdir(shelf.dir) if not n.startswith(".")] == ["bundle.zip"]
    assert not (shelf.dir / "bundle").exists()
    assert not any(".unpacking-" in name for name in os.listdir(shelf.dir))
    assert (shelf.dir / "bundle.zip").read_bytes() == shelf.zips["bundle"]
    assert engine_threads() == []
