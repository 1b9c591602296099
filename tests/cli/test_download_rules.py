"""`download`, in this process: what it refuses and in which words (ids and --all, a rate, a timeout), the
questions it asks (a missing backbone, a rejected copy, the disk) and how flags and answers settle them, a
shared store's copy, the lines it prints as files arrive or fail, the progress bar on a terminal, and the
wait for a file another process is downloading."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import signal
import subprocess
import threading

import pytest

from ofa_manager.core import elsewhere, settings
from ofa_manager.core.library import Library
from tests.catalogs import (
    MiB,
    bytes_served,
    cli_command,
    cli_env,
    entry,
    load,
    payload,
    run_cli,
    sha256,
    wait_for,
    write_catalog,
)
from tests.scenes import Shelf, Terminal, screen_lines

pytestmark = pytest.mark.usefixtures("engine_threads_end")


@pytest.fixture
def shelf(tmp_path, models_dir, http_server) -> Shelf:
    return Shelf(tmp_path, models_dir, http_server)


def gets(http_server, path: str) -> int:
    return len([r for r in http_server.requests if r.path == path and r.method == "GET"])


def refused(capsys, shelf, *words: str) -> str:
    code, out, err = run_cli(capsys, *shelf.args, "download", *words)
    assert code == 2 and out == "", err
    assert err.startswith("ofa-manager: error: ") and err.count("\n") == 1
    return err.removeprefix("ofa-manager: error: ").rstrip("\n")


# -- what is refused --------------------------------------------------------------------------------------


def test_ids_or_all_but_not_both_nor_neither(capsys, shelf, http_server):
    assert refused(capsys, shelf, "good", "--all") == "give checkpoint ids or --all, not both"
    assert refused(capsys, shelf) == "name the checkpoints to download (see `ofa-manager list`), or use --all"
    assert http_server.requests == []


def test_a_rate_it_cannot_read_is_refused_naming_the_option(capsys, shelf):
    message = refused(capsys, shelf, "good", "--limit-rate", "fast")
    assert message.startswith("--limit-rate: not a rate: 'fast'")


@pytest.mark.parametrize("timeout", ["0", "-1", "nan", "inf", "3600.5"])
def test_a_timeout_outside_its_range_is_refused(capsys, shelf, timeout):
    assert refused(capsys, shelf, "good", "--timeout", timeout) == (
        "--timeout must be more than 0 and at most 3600 seconds"
    )


def test_the_longest_timeout_is_taken(capsys, shelf):
    code, _, err = run_cli(capsys, *shelf.args, "download", "good", "--timeout", "3600")
    assert code == 0, err


def test_a_rate_limit_of_0_is_no_limit(capsys, shelf):
    code, _, err = run_cli(capsys, *shelf.args, "download", "good", "--limit-rate", "0")
    assert code == 0, err


# -- what is asked --------------------------------------------------------------------------------------


def test_a_missing_backbone_off_a_terminal_names_both_flags(capsys, shelf, http_server):
    message = refused(capsys, shelf, "shared-a")
    assert message == (
        "shared-a need(s) the backbone good, which is not downloaded: add --with-backbone to download it "
        "too, or --no-backbone"
    )
    assert http_server.requests == []


def test_with_backbone_downloads_it_too(capsys, shelf, http_server):
    code, _, err = run_cli(capsys, *shelf.args, "download", "shared-a", "--with-backbone")
    assert code == 0, err
    assert "also downloading the backbone good\n" in err
    assert (shelf.dir / "good.pt").read_bytes() == shelf.files["good"]
    assert "2 file(s) ready, 0 failed" in err


def test_no_backbone_downloads_only_what_is_named(capsys, shelf, http_server):
    code, _, err = run_cli(capsys, *shelf.args, "download", "shared-a", "--no-backbone")
    assert code == 0 and "also downloading" not in err
    assert gets(http_server, "/good.pt") == 0 and (shelf.dir / "shared.pt").exists()


@pytest.mark.parametrize(
    "answer, backbone, fetched",
    [("\n", True, 2), ("y\n", True, 2), (" Yes\n", True, 2), ("n\n", False, 1), ("x\n", False, 1)],
)
def test_the_backbone_question_on_a_terminal(
    capsys, monkeypatch, shelf, http_server, answer, backbone, fetched
):
    monkeypatch.setattr("sys.stdin", Terminal(answer))
    code, out, err = run_cli(capsys, *shelf.args, "download", "shared-a")
    assert code == 0, err
    assert out == (
        "shared-a need(s) the backbone good, which is not downloaded. Download good too? "
        "[Y]es / [n]o, only these / [c]ancel "
    )
    assert ("also downloading the backbone good" in err) is backbone
    assert (shelf.dir / "good.pt").exists() is backbone
    assert f"{fetched} file(s) ready" in err


@pytest.mark.parametrize("answer", ["c\n", "Cancel\n"])
def test_cancel_downloads_nothing(capsys, monkeypatch, shelf, http_server, answer):
    monkeypatch.setattr("sys.stdin", Terminal(answer))
    code, _, err = run_cli(capsys, *shelf.args, "download", "shared-a")
    assert code == 0 and err == "nothing downloaded\n"
    assert http_server.requests == [] and list(shelf.dir.iterdir()) == []


def test_a_rejected_copy_is_not_fetched_again_without_a_yes(capsys, monkeypatch, shelf, http_server):
    assert run_cli(capsys, *shelf.args, "download", "bad")[0] == 1
    fetched = gets(http_server, "/bad.pt")
    monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))
    message = refused(capsys, shelf, "bad")
    assert message == (
        "bad: a download that failed its check is kept (NAME.rejected); not fetched again. "
        "`ofa-manager accept ID` keeps it anyway, `ofa-manager rm --rejected ID` deletes it, --yes downloads "
        "again"
    )
    monkeypatch.setattr("sys.stdin", Terminal("n\n"))
    code, out, _ = run_cli(capsys, *shelf.args, "download", "bad")
    assert code == 0
    assert out == (
        "bad: the last download failed its check and is kept. Download again? [y/N] nothing downloaded\n"
    )
    assert gets(http_server, "/bad.pt") == fetched
    code, _, err = run_cli(capsys, *shelf.args, "download", "bad", "--yes")
    assert code == 1 and gets(http_server, "/bad.pt") > fetched


def huge(tmp_path, models_dir, http_server):
    http_server.add("/huge.pt", payload(1000))
    catalog = write_catalog(tmp_path / "h.json", [entry("huge", http_server.url("/huge.pt"), size=2**50)])
    return ["--dir", str(models_dir), "--catalog", str(catalog)]


def test_too_little_room_off_a_terminal_is_a_usage_error(capsys, tmp_path, models_dir, http_server):
    args = huge(tmp_path, models_dir, http_server)
    code, out, err = run_cli(capsys, *args, "download", "huge")
    assert code == 2 and out == ""
    assert re.fullmatch(
        r"ofa-manager: error: these downloads need 1\.0 PiB, but only \S+ \S+ is free in "
        rf"{re.escape(str(models_dir))}: free some space, or add --yes to download anyway\n",
        err,
    ), err
    assert http_server.requests == []


def test_too_little_room_asked_on_a_terminal(capsys, monkeypatch, tmp_path, models_dir, http_server):
    args = huge(tmp_path, models_dir, http_server)
    monkeypatch.setattr("sys.stdin", Terminal("\n"))
    code, out, err = run_cli(capsys, *args, "download", "huge")
    assert code == 0 and err == "nothing downloaded\n"
    assert out.startswith("these downloads need 1.0 PiB, but only ") and out.endswith(
        " Download anyway? [y/N] "
    )
    code, _, err = run_cli(capsys, *args, "download", "huge", "--yes")
    assert err.startswith("warning: these downloads need 1.0 PiB, but only ")
    assert "; downloading anyway (--yes)\n" in err and code == 1  # the server has less than the catalog says


def with_a_huge_backbone(tmp_path, models_dir, http_server) -> list[str]:
    """A PETL checkpoint "petl" of 1000 bytes whose backbone "base" is said to be 1 PiB: the options."""
    http_server.add("/base.pt", payload(1000))
    http_server.add("/petl.pt", payload(1000))
    catalog = write_catalog(
        tmp_path / "b.json",
        [
            entry("base", http_server.url("/base.pt"), size=2**50),
            entry("petl", http_server.url("/petl.pt"), size=1000, base="base"),
        ],
    )
    return ["--dir", str(models_dir), "--catalog", str(catalog)]


def test_a_backbone_too_big_for_the_disk_is_not_said_to_be_downloading(
    capsys, tmp_path, models_dir, http_server
):
    args = with_a_huge_backbone(tmp_path, models_dir, http_server)
    code, out, err = run_cli(capsys, *args, "download", "petl", "--with-backbone")
    assert code == 2 and out == ""
    assert err.startswith("ofa-manager: error: these downloads need 1.0 PiB, but only "), err
    assert "also downloading" not in err
    assert http_server.requests == []
    code, _, err = run_cli(capsys, *args, "download", "petl", "--with-backbone", "--yes")
    assert "also downloading the backbone base\n" in err
    warned = err.index("warning: these downloads need 1.0 PiB")
    assert warned < err.index("also downloading the backbone base")


# -- a shared store -----------------------------------------------------------------------------------------


def test_a_store_copy_is_used_unless_here(capsys, tmp_path, models_dir, http_server):
    store = tmp_path / "store"
    store.mkdir()
    shelf = Shelf(tmp_path, models_dir, http_server, store=store)
    (store / "good.pt").write_bytes(shelf.files["good"])
    code, out, err = run_cli(capsys, *shelf.args, "download", "good")
    assert code == 0 and out == ""
    assert err == (
        f"good: in the shared store ({store / 'good.pt'}); not downloaded (--here downloads a copy into the "
        "models folder)\n"
    )
    assert http_server.requests == []
    code, _, err = run_cli(capsys, *shelf.args, "download", "good", "shared-a", "--no-backbone")
    assert code == 0 and "1 file(s) ready" in err and gets(http_server, "/good.pt") == 0
    code, _, err = run_cli(capsys, *shelf.args, "download", "good", "--here")
    assert code == 0 and (models_dir / "good.pt").read_bytes() == shelf.files["good"]


# -- what it prints -------------------------------------------------------------------------------------


def test_the_lines_of_a_download_with_one_failure(capsys, shelf, http_server):
    code, out, err = run_cli(capsys, *shelf.args, "download", "good", "shared-a", "shared-b", "bad")
    assert code == 1 and out == ""
    lines = err.splitlines()
    assert "shared-a, shared-b share one file (shared.pt): fetched once" in lines
    assert f"done: good (293.0 KiB) -> {shelf.dir.resolve() / 'good.pt'}" in lines
    assert f"done: shared-a, shared-b (195.3 KiB) -> {shelf.dir.resolve() / 'shared.pt'}" in lines
    failed = [line for line in lines if line.startswith("failed: ")]
    assert len(failed) == 1 and failed[0].startswith("failed: Bad: ") and "sha256" in failed[0]
    assert "good: verified against the catalog's sha256" in lines
    assert (
        "shared-a, shared-b: not verified: neither the catalog nor the server gave a fingerprint "
        "(its sha256 is recorded)"
    ) in lines
    assert lines[-1] == f"2 file(s) ready, 1 failed, in {shelf.dir.resolve()}"


def test_progress_lines_name_the_file_its_share_and_the_rate(capsys, shelf, http_server):
    http_server.add("/good.pt", shelf.files["good"], stall_after=100_000, stall_seconds=0.5)
    code, _, err = run_cli(capsys, *shelf.args, "download", "good", "--connections", "1")
    assert code == 0, err
    progress = [line for line in err.splitlines() if line.startswith("good: ") and " of " in line]
    assert progress, err
    assert re.fullmatch(
        r"good: (\d+%|\?) \S+ \S+ of 293\.0 KiB, \S+( \S+)?, \S+( \S+)* left( reconnecting)?", progress[0]
    )


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_each_file_has_a_bar(capsys, monkeypatch, shelf):
    screen = Tty()
    monkeypatch.setattr("sys.stderr", screen)
    code, _, _ = run_cli(capsys, *shelf.args, "download", "good", "bad", "--connections", "1", "--jobs", "1")
    text = screen.getvalue()
    assert code == 1
    assert "good: 100%|" in text and "| 293.0 KiB of 293.0 KiB — done" in text
    assert "bad: " in text and " — failed" in text
    assert "done: good" not in text  # bars, not the plain lines
    assert text.splitlines()[-1] == f"1 file(s) ready, 1 failed, in {shelf.dir.resolve()}"


def test_on_a_terminal_the_bars_stay_one_row_each_with_their_last_words(capsys, monkeypatch, shelf):
    screen = Tty()
    monkeypatch.setattr("sys.stderr", screen)
    code, _, _ = run_cli(
        capsys,
        *shelf.args,
        "download",
        "good",
        "shared-a",
        "shared-b",
        "bad",
        "--connections",
        "1",
        "--jobs",
        "1",
    )
    assert code == 1
    shown = screen_lines(screen.getvalue())
    # One row per file, in the order they started, each left on the screen with its final words (the last
    # row may keep the tail of a longer text tqdm wrote there before).
    assert shown[0] == "shared-a, shared-b share one file (shared.pt): fetched once"
    assert shown[1] == "good: 100%|##########| 293.0 KiB of 293.0 KiB — done"
    assert shown[2] == "shared-a, shared-b: 100%|##########| 195.3 KiB of 195.3 KiB — done"
    assert shown[3].startswith("bad:   0%|          | 0 Bytes of unknown — failed")
    assert shown[4].startswith("failed: Bad: sha256 mismatch")


def test_retries_come_from_the_settings_unless_given(capsys, shelf, http_server):
    current = settings.load()
    current.retries = 0
    settings.save(current)
    http_server.add("/good.pt", shelf.files["good"], statuses=[503] * 20)
    code, _, err = run_cli(capsys, *shelf.args, "download", "good", "--connections", "1")
    assert code == 1 and "503 Service Unavailable (gave up after 1 attempt)" in err
    code, _, err = run_cli(capsys, *shelf.args, "download", "good", "--connections", "1", "--retries", "2")
    assert code == 1 and "503 Service Unavailable (gave up after 3 attempts)" in err
    # While it waits to try again, the line says so (nothing has arrived: no rate, no time left).
    assert "good: 0% 0 Bytes of 293.0 KiB, —, unknown left reconnecting" in err.splitlines()


def test_ctrl_c_stops_the_download_and_keeps_the_partial_data(capsys, shelf, http_server):
    http_server.add("/good.pt", shelf.files["good"], stall_after=100_000, stall_seconds=3)

    def press_ctrl_c() -> None:
        wait_for(
            lambda: any(
                r.path == "/good.pt" and r.method == "GET" and r.bytes_sent for r in http_server.requests
            ),
            what="the download to start",
        )
        os.kill(os.getpid(), signal.SIGINT)

    # Python's own handler (the mutation runner starts its tests with SIGINT ignored).
    handler = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        pressing = threading.Thread(target=press_ctrl_c)
        pressing.start()
        code, _, err = run_cli(capsys, *shelf.args, "download", "good", "--connections", "1")
        pressing.join()
    finally:
        signal.signal(signal.SIGINT, handler)
    assert code == 130
    assert "\nstopped; partial data kept — run the same command again to resume\n" in err
    assert "file(s) ready" not in err
    code, out, _ = run_cli(capsys, *shelf.args, "list", "--json")
    kept = json.loads(out)[0]
    assert kept["state"] == "partial"
    code, _, _ = run_cli(capsys, *shelf.args, "download", "good", "--connections", "1")
    assert code == 0 and (shelf.dir / "good.pt").read_bytes() == shelf.files["good"]


# -- a file another process is downloading ----------------------------------------------------------------


def test_a_file_another_process_downloads_is_waited_for_with_its_progress(
    capsys, monkeypatch, tmp_path, models_dir, http_server
):
    """The other download is a real `ofa-manager download` process, held half-way by the server until this
    test has read what it waits for; the waiting download runs in this process."""
    data = payload(2 * MiB, 31)
    release = threading.Event()
    http_server.add("/m.pt", data, rate=400 * 1024, stall_after=MiB, stall_until=release)
    catalog = write_catalog(tmp_path / "c.json", [entry("m", http_server.url("/m.pt"), sha256=sha256(data))])
    library = Library(models_dir, load(catalog))
    m = library.catalog.get("m")
    args = ["--dir", str(models_dir), "--catalog", str(catalog)]
    other = subprocess.Popen(
        cli_command(*args, "download", "m", "--connections", "1", "--timeout", "3600"),
        env=cli_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(lambda: elsewhere.lock_holder(library.lock_path(m)) == other.pid, 90, "the other's lock")
        wait_for(lambda: library.read_record(m).get("ranges"), 90, "the other download's data on disk")
        screen = io.StringIO()
        monkeypatch.setattr("sys.stderr", screen)
        # The other's progress is said five seconds after the announcement, by the clock the test moves.
        clock = Clock()
        monkeypatch.setattr("ofa_manager.cli.download.time", clock)
        quiet: list[bool] = []

        def move_the_clock() -> None:
            def said() -> bool:
                return "the other process has" in screen.getvalue()

            wait_for(lambda: "waiting…" in screen.getvalue(), 60, "the announcement")
            for step in (0, 4):
                clock.now += step
                read = clock.readings
                wait_for(lambda read=read: clock.readings >= read + 2 or said(), 60, "two more events")
            quiet.append(not said())
            clock.now += 1

        mover = threading.Thread(target=move_the_clock)
        mover.start()

        def waiting(pattern: str, then) -> threading.Thread:
            finished = threading.Event()

            def watch() -> None:
                try:
                    wait_for(
                        lambda: finished.is_set() or re.search(pattern, screen.getvalue(), re.M), 60, pattern
                    )
                finally:  # seen, or never seen: either way this download must not wait for ever
                    if not finished.is_set():
                        then()

            watcher = threading.Thread(target=watch)
            watcher.finished = finished
            watcher.start()
            return watcher

        # Ctrl+C once the other download's progress is shown: only the waiting stops.
        announced = rf"^m\.pt is being downloaded by another process \(pid {other.pid}\); waiting…$"
        handler = signal.signal(signal.SIGINT, signal.default_int_handler)  # the runner ignores SIGINT
        try:
            watcher = waiting(r"^m: the other process has", lambda: os.kill(os.getpid(), signal.SIGINT))
            code, out, _ = run_cli(capsys, *args, "download", "m")
            watcher.finished.set()
            watcher.join()
        finally:
            signal.signal(signal.SIGINT, handler)
        mover.join()
        lines = screen.getvalue().splitlines()
        assert quiet == [True], lines
        assert code == 130 and out == "", lines
        assert re.fullmatch(announced, lines[0]), lines
        progress = re.fullmatch(r"m: the other process has (\d+) %, \S+ \S+ of 2\.0 MiB", lines[1])
        assert progress and 0 < int(progress.group(1)) <= 50, lines
        assert lines[2:] == [
            "",
            "stopped; partial data kept — run the same command again to resume",
            "stopped waiting for m.pt: the other process's download goes on",
        ]
        assert other.poll() is None  # the other download goes on

        # Waiting to the end: the other download finishes, and this one finds the file there.
        screen.seek(0)
        screen.truncate()
        watcher = waiting(announced, release.set)
        code, out, _ = run_cli(capsys, *args, "download", "m")
        watcher.finished.set()
        watcher.join()
        lines = screen.getvalue().splitlines()
        assert code == 0, lines
        assert re.fullmatch(announced, lines[0]), lines
        assert f"done: m (2.0 MiB) -> {library.path(m)}" in lines
        assert lines[-1] == f"1 file(s) ready, 0 failed, in {models_dir.resolve()}"
        _, err = other.communicate(timeout=90)
        assert other.returncode == 0, err
    finally:
        release.set()
        if other.poll() is None:
            other.kill()
        other.communicate()
    assert library.path(m).read_bytes() == data
    assert bytes_served(http_server, "/m.pt") == len(data)  # the waiting download fetched nothing


def held_until_shown(screen: io.StringIO, shown, release: threading.Event) -> tuple[threading.Thread, list]:
    """A watcher that waits until ``shown(screen_lines(...))`` holds, keeps those rows, then lets the server
    go on. It lets it go on in any case, the rows it waited for or not (the test's asserts then say what was
    shown instead): after many redraws, or a hang guard's time."""
    kept: list[list[str]] = []

    def watch() -> None:
        try:
            with contextlib.suppress(AssertionError):
                wait_for(
                    lambda: shown(screen_lines(screen.getvalue())) or screen.getvalue().count("\r") > 300, 20
                )
            kept.append(screen_lines(screen.getvalue()))
        finally:
            release.set()

    watcher = threading.Thread(target=watch)
    watcher.start()
    return watcher, kept


def kib(text: str) -> float:
    number, unit = text.split()
    return float(number) * {"Bytes": 1 / 1024, "KiB": 1, "MiB": 1024}[unit]


def test_on_a_terminal_running_bars_show_share_sizes_rate_and_time_left_one_row_each(
    capsys, monkeypatch, shelf, http_server
):
    """Three downloads at once, each held half-way by the server: while they run, each bar has its own row, in
    the order they were asked for, and reads its share of the file, the bytes come of the whole, the rate
    and the time left; at the end each reads its last words."""
    release = threading.Event()
    for name, held in (("good", 100_000), ("shared", 60_000), ("bad", 20_000)):
        http_server.add(f"/{name}.pt", shelf.files[name], stall_after=held, stall_until=release)
    screen = Tty()
    monkeypatch.setattr("sys.stderr", screen)
    row = re.compile(
        r"(\S+|shared-a, shared-b): +(\d+)%\|[ #0-9]{10}\| (\S+ \S+) of (\S+ \S+), (—|\S+ \S+), (.+) left"
    )

    def running(rows: list[str]) -> bool:
        return len(rows) >= 4 and all((m := row.fullmatch(r)) and kib(m.group(3)) > 0 for r in rows[1:4])

    watcher, kept = held_until_shown(screen, running, release)
    code, _, _ = run_cli(
        capsys, *shelf.args, "download", "good", "shared-a", "shared-b", "bad", "--jobs", "3"
    )
    watcher.join()
    assert code == 1
    rows = kept[0]
    assert rows[0] == "shared-a, shared-b share one file (shared.pt): fetched once"
    assert len(rows) == 4, rows  # a row each, none between, none over another
    named = (("good", "293.0 KiB"), ("shared-a, shared-b", "195.3 KiB"), ("bad", None))
    for line, (name, whole) in zip(rows[1:], named, strict=True):
        m = row.fullmatch(line)
        assert m and m.group(1) == name, rows
        if whole is not None:
            assert m.group(4) == whole
        # the share the bar draws is the bytes come of the whole (units.size rounds to a tenth of a KiB)
        assert abs(int(m.group(2)) - 100 * kib(m.group(3)) / kib(m.group(4))) <= 1, line
        assert m.group(5) == "—" or m.group(5).endswith("/s")
        assert re.fullmatch(r"\d+ (s|min)( \d+ s)?|\d+ h \d+ min|unknown", m.group(6))
    # Each bar's last words (the rows themselves, when bars end out of order, are tqdm's to redraw).
    drawn = frames(screen.getvalue())
    assert "good: 100%|##########| 293.0 KiB of 293.0 KiB — done" in drawn
    assert "shared-a, shared-b: 100%|##########| 195.3 KiB of 195.3 KiB — done" in drawn
    assert any(re.fullmatch(r"bad: +\d+%\|.{10}\| \S+ \S+ of \S+ \S+ — failed", f) for f in drawn), drawn


def frames(written: str) -> list[str]:
    """Every text a bar drew, one by one (tqdm redraws a row after a carriage return or a cursor move)."""
    return [frame.rstrip() for frame in re.split(r"[\r\n]|\x1b\[A", written)]


def test_on_a_terminal_a_bar_says_reconnecting_then_verifying(capsys, monkeypatch, shelf, http_server):
    http_server.add("/good.pt", shelf.files["good"], statuses=[503])
    screen = Tty()
    monkeypatch.setattr("sys.stderr", screen)
    code, _, _ = run_cli(capsys, *shelf.args, "download", "good", "--connections", "1", "--retries", "1")
    assert code == 0
    drawn = frames(screen.getvalue())
    # While it waits to try again: nothing has come, no rate, no time left.
    assert "good:   0%|          | 0 Bytes of 293.0 KiB, —, unknown left — reconnecting" in drawn
    done = drawn.index("good: 100%|##########| 293.0 KiB of 293.0 KiB — done")
    assert any(
        re.fullmatch(r"good: +\d+%\|.{10}\| \S+ \S+ of 293\.0 KiB — verifying", f) for f in drawn[:done]
    )
    assert not any(f.endswith("— reconnecting") for f in drawn[done:])


class Clock:
    """The progress lines' clock, moved by the test (the download itself keeps the real one): it counts the
    reporter's readings, one per event it is given."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.readings = 0

    def monotonic(self) -> float:
        self.readings += 1
        return self.now


def test_off_a_terminal_a_running_download_says_its_share_every_five_seconds(
    capsys, monkeypatch, shelf, http_server
):
    """Held by the server: the first progress event is said at once, in words that read the share come, the
    bytes of the whole, the rate and the time left; the events in the next four seconds are not, the first
    one five seconds later is."""
    release = threading.Event()
    http_server.add("/good.pt", shelf.files["good"], stall_after=100_000, stall_until=release)
    screen = io.StringIO()
    monkeypatch.setattr("sys.stderr", screen)
    clock = Clock()
    monkeypatch.setattr("ofa_manager.cli.download.time", clock)
    progress = re.compile(r"good: (\d+)% (\S+ \S+) of 293\.0 KiB, (—|\S+ \S+/s), (.+) left")

    def said() -> list[re.Match]:
        return [m for m in map(progress.fullmatch, screen.getvalue().splitlines()) if m]

    def watch() -> None:
        try:
            # (or many events and none said: the asserts below then fail at once)
            wait_for(lambda: said() or clock.readings > 50, 20, "the first progress line")
            read = clock.readings
            wait_for(lambda: clock.readings >= read + 2, 20, "two more events")
            clock.now += 4
            read = clock.readings
            wait_for(lambda: clock.readings >= read + 2, 20, "two more events")
            assert len(said()) == 1
            clock.now += 1
            read = clock.readings
            wait_for(lambda: len(said()) == 2 or clock.readings > read + 50, 20, "the second progress line")
        finally:
            release.set()

    watcher = threading.Thread(target=watch)
    watcher.start()
    code, _, _ = run_cli(capsys, *shelf.args, "download", "good", "--connections", "1")
    watcher.join()
    lines = screen.getvalue().splitlines()
    assert code == 0, lines
    assert len(said()) == 2, lines
    for share, come, _, left in (m.groups() for m in said()):
        assert abs(int(share) - 100 * kib(come) / 293.0) <= 1
        assert re.fullmatch(r"\d+ (s|min)( \d+ s)?|\d+ h \d+ min|unknown", left)
    assert f"done: good (293.0 KiB) -> {shelf.dir.resolve() / 'good.pt'}" in lines


def test_the_space_asked_for_counts_the_backbone_fetched_with_it(capsys, tmp_path, models_dir, http_server):
    args = with_a_huge_backbone(tmp_path, models_dir, http_server)
    code, _, err = run_cli(capsys, *args, "download", "petl", "--with-backbone")
    assert code == 2 and err.splitlines()[-1].startswith("ofa-manager: error: these downloads need 1.0 PiB, ")
    assert http_server.requests == []
    code, _, err = run_cli(capsys, *args, "download", "petl", "--no-backbone")
    assert code == 0 and "these downloads need" not in err, err


def test_two_rejected_copies_are_named_together(capsys, tmp_path, models_dir, http_server):
    for name in ("a", "b"):
        http_server.add(f"/{name}.pt", payload(1000))
    catalog = write_catalog(
        tmp_path / "r.json",
        [entry(name, http_server.url(f"/{name}.pt"), sha256="0" * 64) for name in ("a", "b")],
    )
    args = ["--dir", str(models_dir), "--catalog", str(catalog)]
    assert run_cli(capsys, *args, "download", "a", "b")[0] == 1
    code, _, err = run_cli(capsys, *args, "download", "a", "b")
    assert code == 2 and err.startswith("ofa-manager: error: a, b: a download that failed its check is kept")


def test_a_stall_timeout_of_half_a_second_is_taken_and_used(capsys, shelf, http_server):
    http_server.add("/good.pt", shelf.files["good"], stall_after=100_000, stall_seconds=5)
    code, _, err = run_cli(
        capsys, *shelf.args, "download", "good", "--connections", "1", "--retries", "0", "--timeout", "0.5"
    )
    # The server holds the body for 5 s; a stall timeout of 0.5 s gives up long before (the default waits).
    assert code == 1 and "good" in err and "gave up after 1 attempt" in err, err
    assert not (shelf.dir / "good.pt").exists()


def test_two_missing_backbones_and_their_users_are_named_together(capsys, tmp_path, models_dir, http_server):
    rows = []
    for n in ("1", "2"):
        http_server.add(f"/base{n}.pt", payload(1000))
        http_server.add(f"/petl{n}.pt", payload(1000))
        rows += [
            entry(f"base{n}", http_server.url(f"/base{n}.pt")),
            entry(f"petl{n}", http_server.url(f"/petl{n}.pt"), base=f"base{n}"),
        ]
    args = ["--dir", str(models_dir), "--catalog", str(write_catalog(tmp_path / "two.json", rows))]
    code, _, err = run_cli(capsys, *args, "download", "petl1", "petl2")
    assert code == 2 and err == (
        "ofa-manager: error: petl1, petl2 need(s) the backbone base1, base2, which is not downloaded: "
        "add --with-backbone to download it too, or --no-backbone\n"
    )
    assert http_server.requests == []
    code, _, err = run_cli(capsys, *args, "download", "petl1", "petl2", "--with-backbone")
    assert code == 0 and "also downloading the backbone base1, base2\n" in err, err


def test_a_shared_file_that_fails_is_reported_under_every_title(capsys, shelf, http_server):
    http_server.add("/shared.pt", b"", statuses=[404] * 10)
    code, _, err = run_cli(capsys, *shelf.args, "download", "shared-a", "shared-b", "--no-backbone")
    assert code == 1
    assert [line for line in err.splitlines() if line.startswith("failed: ")] == [
        "failed: Shared A, Shared B: 404 Not Found"
    ]
