"""The command line contract: JSON fields, exit codes, verify, rm, du, check, download."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from ofa_manager import cli
from ofa_manager.core import settings
from ofa_manager.core.file_status import State
from ofa_manager.core.library import Library
from tests.catalogs import (
    MiB,
    body_requests,
    cli_command,
    cli_env,
    entry,
    load,
    payload,
    rot,
    run_cli,
    write_catalog,
)
from tests.scenes import ThreeFiles

pytestmark = pytest.mark.usefixtures("engine_threads_end")


@pytest.fixture
def site(tmp_path, models_dir, http_server) -> ThreeFiles:
    return ThreeFiles(tmp_path, models_dir, http_server)


def json_rows(capsys, site) -> dict[str, dict]:
    code, out, _ = run_cli(capsys, *site.args, "list", "--json")
    assert code == 0
    return {row["id"]: row for row in json.loads(out)}


# -- list and du -----------------------------------------------------------------------------------


def test_list_json_has_the_contract_fields(capsys, site):
    assert run_cli(capsys, *site.args, "download", "good", "shared-a")[0] == 0
    rows = json_rows(capsys, site)
    assert list(rows) == ["good", "shared-a", "shared-b", "other"]
    for row in rows.values():
        assert {"id", "title", "group", "url", "state", "path", "bytes", "size", "shared_with"} <= row.keys()
        assert Path(row["path"]).is_absolute() and Path(row["path"]).parent == site.dir.resolve()
    good = rows["good"]
    assert (good["title"], good["group"], good["state"]) == ("Good one", ["Test"], "downloaded")
    assert good["bytes"] == good["size"] == len(site.files["good"]) and good["shared_with"] == []
    assert Path(good["path"]).read_bytes() == site.files["good"]
    assert rows["shared-a"]["shared_with"] == ["shared-b"] and rows["shared-b"]["shared_with"] == ["shared-a"]
    assert rows["shared-b"]["state"] == "downloaded" and rows["shared-b"]["path"] == rows["shared-a"]["path"]
    other = rows["other"]
    assert (other["state"], other["bytes"], other["size"]) == ("remote", 0, len(site.files["other"]))


def test_list_json_shows_partial_bytes(capsys, site, http_server):
    http_server.add("/other.pt", site.files["other"], drop_after=40_000)
    code, _, err = run_cli(capsys, *site.args, "download", "other", "--retries", "0", "--connections", "1")
    assert code == 1
    row = json_rows(capsys, site)["other"]
    assert row["state"] == "partial" and 0 < row["bytes"] < row["size"]


def test_list_text_uses_binary_units_and_mentions_shared_files(capsys, site):
    code, out, _ = run_cli(capsys, *site.args, "list")
    assert code == 0
    assert "97.7 KiB" in out  # 100 000 bytes, in binary units
    assert "shared-a" in out and "share 1 file(s)" in out


def test_du_json(capsys, site, http_server):
    assert run_cli(capsys, *site.args, "download", "good", "shared-b")[0] == 0
    http_server.add("/other.pt", site.files["other"], drop_after=30_000)
    assert run_cli(capsys, *site.args, "download", "other", "--retries", "0", "--connections", "1")[0] == 1
    code, out, _ = run_cli(capsys, *site.args, "du", "--json")
    assert code == 0
    usage = json.loads(out)
    assert usage["downloaded"] == len(site.files["good"]) + len(site.files["shared"])
    assert 0 < usage["partial"] < len(site.files["other"])
    assert usage["free"] > 0
    assert usage["entries"] == {
        "good": len(site.files["good"]),
        "shared-a": len(site.files["shared"]),
        "shared-b": len(site.files["shared"]),
        "other": usage["partial"],
    }
    code, out, _ = run_cli(capsys, *site.args, "du")
    assert code == 0 and "free on volume" in out


# -- download and exit codes -----------------------------------------------------------------------


def test_download_exit_0_and_plain_progress_lines_when_not_a_terminal(capsys, site, http_server):
    code, out, err = run_cli(
        capsys, *site.args, "download", "good", "shared-a", "shared-b", "--connections", "1"
    )
    assert code == 0
    assert "shared-a, shared-b share one file (shared.pt): fetched once" in err
    assert "done: good" in err and "2 file(s) ready, 0 failed" in err
    assert "\r" not in err  # no progress bar outside a terminal
    assert len(body_requests(http_server, "/shared.pt")) == 1
    assert len(body_requests(http_server, "/good.pt")) == 1


def test_download_all(capsys, site):
    code, _, err = run_cli(capsys, *site.args, "download", "--all")
    assert code == 0 and "3 file(s) ready, 0 failed" in err
    assert all(row["state"] == "downloaded" for row in json_rows(capsys, site).values())


def test_one_failure_exits_1_and_the_others_still_complete(capsys, site, http_server):
    http_server.add("/good.pt", site.files["good"], statuses=[404])
    code, _, err = run_cli(capsys, *site.args, "download", "good", "other", "shared-a", "--jobs", "1")
    assert code == 1
    assert "failed: Good one: 404" in err and "2 file(s) ready, 1 failed" in err
    rows = json_rows(capsys, site)
    assert rows["good"]["state"] == "remote"
    assert rows["other"]["state"] == rows["shared-a"]["state"] == "downloaded"


def test_web_page_answer_is_reported(capsys, site, http_server):
    http_server.add("/other.pt", b"", html_error=True)
    code, _, err = run_cli(capsys, *site.args, "download", "other")
    assert code == 1 and "the server returned a web page, not a file" in err


def test_unknown_id_exits_2_naming_it_with_close_ids(capsys, models_dir):
    code, out, err = run_cli(capsys, "--dir", str(models_dir), "download", "ofa-larg", "ofa-tiny")
    assert code == 2
    assert "'ofa-larg'" in err and "did you mean" in err and "ofa-large" in err
    assert "Traceback" not in err
    assert list(models_dir.iterdir()) == []  # nothing was started


@pytest.mark.parametrize("command", [["verify", "nope"], ["rm", "nope", "--yes"], ["check", "nope"]])
def test_unknown_id_exits_2_for_every_command(capsys, site, command):
    code, _, err = run_cli(capsys, *site.args, *command)
    assert code == 2 and "'nope'" in err


@pytest.mark.parametrize(
    "args",
    [
        ["download"],
        ["download", "good", "--all"],
        ["download", "good", "--limit-rate", "fast"],
        ["download", "good", "--timeout", "0"],
    ],
)
def test_usage_errors_exit_2(capsys, site, args):
    code, _, err = run_cli(capsys, *site.args, *args)
    assert code == 2 and err.startswith("ofa-manager: error:")


@pytest.mark.parametrize(
    "args",
    [
        ["download", "good", "--connections", "17"],
        ["download", "good", "--jobs", "0"],
        ["frobnicate"],
        ["list", "--bogus"],
    ],
)
def test_argument_errors_exit_2(capsys, site, args):
    with pytest.raises(SystemExit) as info:
        cli.main([*site.args, *args])
    assert info.value.code == 2
    assert "usage:" in capsys.readouterr().err


def test_connections_1_uses_one_stream(capsys, tmp_path, models_dir, http_server):
    data = payload(8 * MiB)
    http_server.add("/big.pt", data)
    catalog = write_catalog(tmp_path / "big.json", [entry("big", http_server.url("/big.pt"))])
    code, _, err = run_cli(
        capsys, "--dir", str(models_dir), "--catalog", str(catalog), "download", "big", "--connections", "1"
    )
    assert code == 0, err
    assert len(http_server.requests) == 1 and http_server.connections_accepted == 1
    assert (models_dir / "big.pt").read_bytes() == data


def test_limit_rate_option_caps_the_total_speed(capsys, tmp_path, models_dir, http_server):
    import time

    data = payload(1536 * 1024)
    http_server.add("/big.pt", data)
    catalog = write_catalog(tmp_path / "big.json", [entry("big", http_server.url("/big.pt"))])
    started = time.monotonic()
    code, _, err = run_cli(
        capsys,
        "--dir",
        str(models_dir),
        "--catalog",
        str(catalog),
        "download",
        "big",
        "--limit-rate",
        "1M",
        "--connections",
        "4",
    )
    assert code == 0, err
    assert time.monotonic() - started >= 1.0  # 1.5 MiB at 1 MiB/s; without the limit it takes milliseconds
    assert (models_dir / "big.pt").read_bytes() == data


def test_rewrite_rules_from_the_settings_are_used(capsys, tmp_path, models_dir, http_server):
    data = payload(100_000)
    http_server.add("/lab/ofa_tiny.pt", data)
    catalog = write_catalog(
        tmp_path / "c.json", [entry("tiny", "https://bucket.invalid/checkpoints/ofa_tiny.pt")]
    )
    saved = settings.Settings(
        rewrite_rules=[["https://bucket.invalid/checkpoints/", http_server.url("/lab/")]]
    )
    settings.save(saved)
    args = ["--dir", str(models_dir), "--catalog", str(catalog)]
    assert run_cli(capsys, *args, "check")[0] == 0
    assert run_cli(capsys, *args, "download", "tiny")[0] == 0
    assert (models_dir / "ofa_tiny.pt").read_bytes() == data
    assert {r.path for r in http_server.requests} == {"/lab/ofa_tiny.pt"}


def test_models_folder_from_the_environment_and_dir_wins(capsys, site, tmp_path, monkeypatch):
    env_dir = tmp_path / "from-env"
    monkeypatch.setenv("OFA_MANAGER_DIR", str(env_dir))
    code, out, _ = run_cli(capsys, "--catalog", str(site.catalog), "list", "--json")
    assert code == 0
    assert all(Path(row["path"]).parent == env_dir.resolve() for row in json.loads(out))
    code, out, _ = run_cli(capsys, *site.args, "list", "--json")
    assert code == 0
    assert all(Path(row["path"]).parent == site.dir.resolve() for row in json.loads(out))


def test_default_models_folder_is_under_the_user_data_folder(capsys, site, isolated_user_folders):
    code, out, _ = run_cli(capsys, "--catalog", str(site.catalog), "list", "--json")
    assert code == 0
    data_home = isolated_user_folders["XDG_DATA_HOME"].resolve()
    assert all(Path(row["path"]).is_relative_to(data_home) for row in json.loads(out))


# -- verify ----------------------------------------------------------------------------------------


def test_verify_exits_1_and_marks_a_corrupted_file(capsys, site):
    assert run_cli(capsys, *site.args, "download", "good", "shared-a")[0] == 0
    code, out, _ = run_cli(capsys, *site.args, "verify")
    assert code == 0 and "2 file(s) checked, 0 corrupt" in out
    path = Path(json_rows(capsys, site)["good"]["path"])
    rot(path, 12345, b"\xff\x00\xff")
    code, out, _ = run_cli(capsys, *site.args, "verify", "good")
    assert code == 1 and "CORRUPT" in out and str(path) in out
    assert json_rows(capsys, site)["good"]["state"] == "corrupt"
    # The other file is still fine; verifying it alone succeeds.
    assert run_cli(capsys, *site.args, "verify", "shared-b")[0] == 0


def test_verify_of_a_file_that_is_not_there(capsys, site):
    code, out, _ = run_cli(capsys, *site.args, "verify", "other")
    assert code == 0 and "not downloaded (remote)" in out


def test_download_again_replaces_a_corrupt_file(capsys, site):
    assert run_cli(capsys, *site.args, "download", "good")[0] == 0
    path = Path(json_rows(capsys, site)["good"]["path"])
    rot(path, 0, b"\0" * len(site.files["good"]))
    assert run_cli(capsys, *site.args, "verify", "good")[0] == 1
    assert run_cli(capsys, *site.args, "download", "good")[0] == 0
    assert path.read_bytes() == site.files["good"]
    assert run_cli(capsys, *site.args, "verify", "good")[0] == 0


# -- rm --------------------------------------------------------------------------------------------


def test_rm_yes_deletes_the_file_and_its_metadata(capsys, site):
    assert run_cli(capsys, *site.args, "download", "good", "shared-a")[0] == 0
    code, out, _ = run_cli(capsys, *site.args, "rm", "shared-b", "--yes")
    assert code == 0 and "also used by shared-a" in out and "deleted 1 file(s)" in out
    rows = json_rows(capsys, site)
    assert rows["shared-a"]["state"] == rows["shared-b"]["state"] == "remote"
    assert rows["good"]["state"] == "downloaded"
    assert sorted(p.name for p in site.dir.iterdir() if not p.name.endswith(".lock")) == [
        ".good.pt.meta.json",
        "good.pt",
    ]


def test_rm_without_yes_off_a_terminal_refuses(capsys, site, monkeypatch):
    import io

    assert run_cli(capsys, *site.args, "download", "good")[0] == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))
    code, _, err = run_cli(capsys, *site.args, "rm", "good")
    assert code == 2 and "--yes" in err
    assert json_rows(capsys, site)["good"]["state"] == "downloaded"


def test_rm_partial_deletes_only_unfinished_data(capsys, site, http_server):
    assert run_cli(capsys, *site.args, "download", "good")[0] == 0
    http_server.add("/other.pt", site.files["other"], drop_after=30_000)
    assert run_cli(capsys, *site.args, "download", "other", "--retries", "0", "--connections", "1")[0] == 1
    code, out, _ = run_cli(capsys, *site.args, "rm", "good", "other", "--partial", "--yes")
    assert code == 0 and "deleted 1 file(s)" in out
    rows = json_rows(capsys, site)
    assert rows["other"]["state"] == "remote" and rows["good"]["state"] == "downloaded"
    assert not list(site.dir.glob("*.part*"))


def test_rm_of_nothing(capsys, site):
    code, out, _ = run_cli(capsys, *site.args, "rm", "other", "--yes")
    assert code == 0 and "nothing to delete" in out


# -- check -----------------------------------------------------------------------------------------


def test_check_sends_only_head_requests_and_shows_shared_files(capsys, site, http_server):
    code, out, _ = run_cli(capsys, *site.args, "check", "--json")
    assert code == 0
    assert {r.method for r in http_server.requests} == {"HEAD"}
    assert len(http_server.requests) == 3  # one per distinct URL
    rows = {row["url"].rsplit("/", 1)[1]: row for row in json.loads(out)}
    assert rows["shared.pt"]["ids"] == ["shared-a", "shared-b"] and rows["shared.pt"]["shared"] is True
    assert rows["good.pt"]["shared"] is False
    assert rows["good.pt"]["size"] == len(site.files["good"]) and rows["good.pt"]["status"] == 200
    assert rows["good.pt"]["etag"] and rows["good.pt"]["accepts_ranges"] is True
    assert list(site.dir.iterdir()) == []

    code, out, _ = run_cli(capsys, *site.args, "check")
    assert code == 0 and "shared by 2 entries" in out


def test_check_exits_1_on_a_broken_link(capsys, site, http_server):
    http_server.add("/other.pt", b"", statuses=[404])
    code, out, _ = run_cli(capsys, *site.args, "check", "other", "good")
    assert code == 1 and "404" in out
    assert {r.method for r in http_server.requests} == {"HEAD"}


def test_check_asks_the_mirrors_too_and_marks_them(capsys, tmp_path, http_server):
    http_server.add("/main.pt", b"", statuses=[404, 404])  # one per run below
    http_server.add("/mirror.pt", b"m" * 1000)
    catalog = write_catalog(
        tmp_path / "mirrored.json",
        [entry("m", http_server.url("/main.pt"), mirrors=[http_server.url("/mirror.pt")])],
    )
    args = ["--dir", str(tmp_path / "models"), "--catalog", str(catalog)]
    code, out, _ = run_cli(capsys, *args, "check", "--json")
    rows = {row["url"].rsplit("/", 1)[1]: row for row in json.loads(out)}
    assert code == 1  # a published link is broken, even though a mirror serves the file
    assert rows["main.pt"]["ok"] is False and rows["main.pt"]["mirror"] is False
    assert rows["mirror.pt"]["ok"] is True and rows["mirror.pt"]["mirror"] is True
    assert rows["mirror.pt"]["size"] == 1000 and rows["mirror.pt"]["ids"] == ["m"]
    assert {r.method for r in http_server.requests} == {"HEAD"}
    code, out, _ = run_cli(capsys, *args, "check")
    assert code == 1 and "(mirror)" in out and "FAILED" in out


def test_check_asks_a_url_once_when_a_mirror_is_the_link_itself(capsys, tmp_path, http_server):
    http_server.add("/main.pt", b"m" * 10)
    url = http_server.url("/main.pt")
    catalog = write_catalog(tmp_path / "c.json", [entry("m", url, mirrors=[url])])
    code, out, _ = run_cli(
        capsys, "--dir", str(tmp_path / "models"), "--catalog", str(catalog), "check", "--json"
    )
    assert code == 0
    assert [(row["ids"], row["shared"], row["mirror"]) for row in json.loads(out)] == [(["m"], False, False)]
    assert len(http_server.requests) == 1


# -- as a real process -----------------------------------------------------------------------------


def test_download_as_a_subprocess(tmp_path, site):
    done = subprocess.run(
        cli_command(*site.args, "download", "good", "other"),
        capture_output=True,
        text=True,
        env=cli_env(),
        cwd=tmp_path,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert (site.dir / "good.pt").read_bytes() == site.files["good"]
    listed = subprocess.run(
        cli_command(*site.args, "list", "--json"),
        capture_output=True,
        text=True,
        env=cli_env(),
        cwd=tmp_path,
        timeout=60,
    )
    assert listed.returncode == 0
    states = {row["id"]: row["state"] for row in json.loads(listed.stdout)}
    assert states == {"good": "downloaded", "other": "downloaded", "shared-a": "remote", "shared-b": "remote"}


def test_failed_download_as_a_subprocess_exits_1_without_traceback(tmp_path, site, http_server):
    http_server.add("/good.pt", b"", statuses=[403])
    done = subprocess.run(
        cli_command(*site.args, "download", "good"),
        capture_output=True,
        text=True,
        env=cli_env(),
        cwd=tmp_path,
        timeout=60,
    )
    assert done.returncode == 1
    assert "Good one: 403" in done.stderr and "Traceback" not in done.stderr


def test_environment_folder_in_a_subprocess(tmp_path, site):
    env_dir = tmp_path / "env-models"
    done = subprocess.run(
        cli_command("--catalog", str(site.catalog), "download", "other"),
        capture_output=True,
        text=True,
        env=cli_env(OFA_MANAGER_DIR=str(env_dir)),
        cwd=tmp_path,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert (env_dir / "other.pt").read_bytes() == site.files["other"]
    assert not os.listdir(site.dir)
    assert (
        Library(env_dir, load(site.catalog)).status(load(site.catalog).get("other")).state is State.DOWNLOADED
    )


@pytest.mark.skipif(os.name != "posix", reason="needs a pseudo-terminal")
def test_progress_bar_on_a_terminal(tmp_path, site, http_server):
    import fcntl
    import pty
    import select
    import struct
    import termios
    import time

    http_server.add("/other.pt", site.files["other"], rate=100_000)  # about a second
    master, terminal = pty.openpty()
    # A real terminal has a size; tqdm draws nothing at all on a 0-column one.
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    proc = subprocess.Popen(
        cli_command(*site.args, "download", "other"),
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        env=cli_env(),
        cwd=tmp_path,
    )
    os.close(terminal)
    output = b""
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not chunk:
                    break
                output += chunk
            elif proc.poll() is not None:
                break
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
        proc.wait(30)
    text = output.decode("utf-8", "replace")
    assert proc.returncode == 0, text
    assert "\r" in text and "100%" in text  # a bar redrawn in place, not one line per update
    assert "other" in text and "97.7 KiB of 97.7 KiB" in text  # 100 000 bytes in binary units
    assert "1 file(s) ready, 0 failed" in text


def test_without_a_display_no_command_prints_the_summary_and_the_commands(tmp_path):
    # A headless server: Qt would abort without a screen, so the window is not even tried.
    env = {k: v for k, v in cli_env().items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    result = subprocess.run(
        cli_command("--dir", str(tmp_path / "models")),
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr
    assert "no display" in result.stderr and "Traceback" not in result.stderr
    assert "ofa-large" in result.stdout and "refcocog-pi-adapter" in result.stdout
    assert "download" in result.stdout and "verify" in result.stdout  # how to use the commands
