"""Command-line rules no other test pinned: a broken mirror fails `check`, `rm` asks with No as its default,
and `--jobs` is what bounds the downloads running at once (seen from the server's side)."""

from __future__ import annotations

import io
import json
import threading
import time

from ofa_manager import cli
from tests.catalogs import entry, payload, write_catalog
from tests.scenes import Terminal


def run(capsys, *args) -> tuple[int, str, str]:
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_check_fails_when_only_a_mirror_is_broken(capsys, tmp_path, http_server):
    http_server.add("/main.pt", b"m" * 1000)
    http_server.add("/mirror.pt", b"", statuses=[404, 404])  # one per run below
    catalog = write_catalog(
        tmp_path / "c.json",
        [entry("m", http_server.url("/main.pt"), mirrors=[http_server.url("/mirror.pt")])],
    )
    args = ["--dir", str(tmp_path / "models"), "--catalog", str(catalog)]
    code, out, _ = run(capsys, *args, "check", "--json")
    rows = {row["url"].rsplit("/", 1)[1]: row for row in json.loads(out)}
    assert rows["main.pt"]["ok"] is True and rows["mirror.pt"]["ok"] is False
    assert code == 1  # a download falling back to that mirror would fail: check says so
    code, out, _ = run(capsys, *args, "check")
    assert code == 1 and "FAILED" in out and "(mirror)" in out


def downloaded(capsys, tmp_path, http_server):
    data = payload(10_000)
    http_server.add("/a.pt", data)
    catalog = write_catalog(tmp_path / "c.json", [entry("a", http_server.url("/a.pt"))])
    args = ["--dir", str(tmp_path / "models"), "--catalog", str(catalog)]
    assert run(capsys, *args, "download", "a")[0] == 0
    return args, tmp_path / "models" / "a.pt", data


def test_rm_on_a_terminal_deletes_nothing_when_the_answer_is_empty(
    capsys, monkeypatch, tmp_path, http_server
):
    args, path, data = downloaded(capsys, tmp_path, http_server)
    for answer in ("\n", "n\n", "nope\n"):
        monkeypatch.setattr("sys.stdin", Terminal(answer))
        code, out, _ = run(capsys, *args, "rm", "a")
        assert code == 0 and "[y/N]" in out and "nothing deleted" in out
        assert path.read_bytes() == data
    monkeypatch.setattr("sys.stdin", Terminal("Yes\n"))
    code, out, _ = run(capsys, *args, "rm", "a")
    assert code == 0 and not path.exists()


def test_rm_off_a_terminal_without_yes_is_refused(capsys, monkeypatch, tmp_path, http_server):
    args, path, data = downloaded(capsys, tmp_path, http_server)
    monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))  # a pipe, not a person
    code, _, err = run(capsys, *args, "rm", "a")
    assert code == 2 and "--yes" in err and path.read_bytes() == data


def most_at_once(http_server, paths, done: threading.Event) -> list[int]:
    """Samples how many of these files the server is sending at once, until ``done``."""
    seen = [0]

    def sample():
        while not done.is_set():
            sending = {r.path for r in http_server.requests if r.method == "GET" and not r.done}
            seen[0] = max(seen[0], len(sending & set(paths)))
            time.sleep(0.005)

    threading.Thread(target=sample, daemon=True).start()
    return seen


def three_slow_files(tmp_path, http_server, stall: float):
    paths = [f"/{name}.pt" for name in "abc"]
    for path in paths:
        # Each answer holds still after its first bytes, long enough for the others to start if allowed.
        http_server.add(path, payload(40_000), stall_after=1000, stall_seconds=stall)
    catalog = write_catalog(tmp_path / "c.json", [entry(p[1], http_server.url(p)) for p in paths])
    return paths, ["--dir", str(tmp_path / "models"), "--catalog", str(catalog)]


def test_jobs_3_downloads_three_files_at_once(capsys, tmp_path, http_server):
    paths, args = three_slow_files(tmp_path, http_server, stall=2.0)
    done = threading.Event()
    seen = most_at_once(http_server, paths, done)
    try:
        code, _, err = run(capsys, *args, "download", "a", "b", "c", "--jobs", "3", "--connections", "1")
    finally:
        done.set()
    assert code == 0, err
    assert seen[0] == 3  # the saved setting (2) would have held one back


def test_jobs_1_downloads_one_file_at_a_time(capsys, tmp_path, http_server):
    paths, args = three_slow_files(tmp_path, http_server, stall=0.3)
    done = threading.Event()
    seen = most_at_once(http_server, paths, done)
    try:
        code, _, err = run(capsys, *args, "download", "a", "b", "c", "--jobs", "1", "--connections", "1")
    finally:
        done.set()
    assert code == 0, err
    assert seen[0] == 1
