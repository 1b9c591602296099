"""Hostile catalogs, settings and numbers, one rule at a time: each is refused or replaced with a message
naming the file, the entry and the field, never a traceback; and the models folder is listed once."""

from __future__ import annotations

import json
import logging
import os
import subprocess
from pathlib import Path

import pytest

from ofa_manager import cli
from ofa_manager.core import safe_files, settings
from ofa_manager.core.catalog import CatalogError, load_catalog
from ofa_manager.core.file_status import State
from ofa_manager.core.library import Library
from tests.catalogs import cli_command, cli_env, entry, write_catalog

URL = "https://example.invalid/checkpoints/a.pt"


def refused_text(tmp_path: Path, text: str) -> str:
    path = tmp_path / "hostile.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CatalogError) as info:
        load_catalog([path])
    message = str(info.value)
    assert message.startswith(str(path))
    return message


def one_entry(**fields) -> str:
    """A catalog of one entry 'a' as JSON text; lone surrogates come out as \\ud800 escapes, as in a file."""
    return json.dumps({"format": 1, "entries": [entry("a", fields.pop("url", URL), **fields)]})


@pytest.mark.parametrize(
    "fields,named,words",
    [
        ({"title": "bad \ud800"}, "'title'", "lone surrogate"),
        ({"group": ["ok", "\udc80"]}, "'group'", "lone surrogate"),
        ({"description": "x\udfff"}, "'description'", "lone surrogate"),
        ({"method": {"deep": ["\ud800"]}}, "'method'", "lone surrogate"),
        ({"title": "two\nlines"}, "'title'", "control character"),
        ({"params": "\x00"}, "'params'", "control character"),
        ({"url": "http://[::1/a.pt"}, "'url'", "Invalid IPv6 URL"),
        ({"url": "http://[zz]/a.pt"}, "'url'", "malformed"),
        ({"url": "https://h.invalid:99999/a.pt"}, "'url'", "Port out of range"),
        ({"url": "https://h.invalid:x/a.pt"}, "'url'", "malformed"),
        ({"url": "https://a b/c.pt"}, "'url'", "malformed host"),
        ({"url": "https://a..b/c.pt"}, "'url'", "malformed host"),
        ({"url": "https://ü..x/a.pt"}, "'url'", "IDNA"),
        ({"url": "https://h.invalid/\ud800.pt"}, "'url'", "lone surrogate"),
        ({"url": "https://h.invalid/" + "a" * 5000}, "'url'", "at most 4096"),
        ({"mirrors": ["http://[::1"]}, "'mirrors'", "Invalid IPv6 URL"),
        ({"mirrors": [URL] * 65}, "'mirrors'", "at most 64"),
        ({"size": True}, "'size'", "whole number"),
        ({"size": 1.5}, "'size'", "whole number"),
        ({"size": 2**50 + 1}, "'size'", "1 PiB"),
        ({"size": 10**400}, "'size'", "1 PiB"),
        ({"filename": "a" * 201}, "'filename'", "200 bytes"),
        ({"filename": "\udcff.pt"}, "'filename'", "lone surrogate"),
        ({"filename": "a\x7f.pt"}, "'filename'", "control"),
        ({"group": ["g"] * 33}, "'group'", "1 to 32"),
        ({"title": "t" * 1001}, "'title'", "at most 1000"),
        ({"base": "a"}, "'base'", "itself"),
        ({"base": "../x"}, "'base'", "id of another entry"),
    ],
)
def test_hostile_values_are_refused_naming_file_entry_and_field(tmp_path, fields, named, words):
    message = refused_text(tmp_path, one_entry(**fields))
    assert "entry 'a'" in message and f"field {named}" in message and words in message


def test_an_absurdly_long_id_is_named_by_its_position(tmp_path):
    message = refused_text(tmp_path, json.dumps({"format": 1, "entries": [entry("a" * 100_000, URL)]}))
    assert "entry '#1'" in message and "'id'" in message and len(message) < 300


@pytest.mark.parametrize(
    "text,words",
    [
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ('{"format": 1, "entries": [' + "[" * 100_000 + "]" * 100_000 + "]}", "nested too deeply"),
        ('{"format": 1,\n "entries": [{"size": ' + "9" * 5000 + "}]}", "line 2: a number of 5000 digits"),
        ('{"format": true, "entries": []}', "'format'"),
        ('{"format": 1, "title": "\\ud800", "entries": []}', "'title'"),
    ],
)
def test_what_json_itself_raises_becomes_a_message(tmp_path, text, words):
    assert words in refused_text(tmp_path, text)


def test_inf_from_1e999_is_not_a_size(tmp_path):
    text = one_entry(size=0).replace('"size": 0', '"size": 1e999')
    assert "'size'" in refused_text(tmp_path, text)


def test_values_that_are_fine_still_load(tmp_path):
    text = one_entry(
        url="https://[::1]:8443/dir/a.pt",
        mirrors=["https://user@mirror.invalid/x/a.pt?sig=1", "HTTPS://Ünïcode.invalid/a.pt"],
        title="π-Adapter 😀 (pair of surrogates in JSON)",
        description="two\nlines\tand a tab",
        size=2**50,
        method={"nested": [1, 2.5, None, "text"]},
    )
    path = tmp_path / "fine.json"
    path.write_text(text.replace("😀", "\\ud83d\\ude00"), encoding="utf-8")
    loaded = load_catalog([path]).get("a")
    assert loaded.title == "π-Adapter 😀 (pair of surrogates in JSON)"
    assert loaded.size == 2**50 and loaded.filename == "a.pt"
    assert loaded.extra == {"method": {"nested": [1, 2.5, None, "text"]}}


def test_cli_exits_2_with_the_message_and_prints_nothing_else(tmp_path, models_dir, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text(one_entry(title="\ud800"), encoding="utf-8")
    for command in (["list"], ["list", "--json"], ["du"], ["verify"]):
        assert cli.main(["--dir", str(models_dir), "--catalog", str(bad), *command]) == 2
        captured = capsys.readouterr()
        assert captured.out == ""
        assert captured.err.startswith(f"ofa-manager: error: {bad}: entry 'a': field 'title'")


def test_cli_in_a_new_process_exits_2_on_deep_nesting_without_traceback(tmp_path, models_dir):
    bad = tmp_path / "deep.json"
    bad.write_text('{"format": 1, "entries": ' + "[" * 200_000 + "]" * 200_000 + "}", encoding="utf-8")
    done = subprocess.run(
        cli_command("--dir", str(models_dir), "--catalog", str(bad), "list"),
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "nested too deeply" in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""


# -- settings -------------------------------------------------------------------------------------

HOSTILE_SETTINGS = {
    "version": 1,
    "models_dir": "/tmp/\ud800",
    "jobs": True,
    "connections": 1e999,
    "timeout": 1e300,
    "retries": -5,
    "limit_rate": 10**30,
    "rewrite_rules": [["https://a.invalid/", "https://b.invalid/"], ["\ud800", "x"], "not a rule"],
    "resume_on_start": "yes",
    "window_geometry": "\x00\ud800",
    "window_state": 7,
}


def write_settings(data: object) -> tuple[Path, bytes]:
    path = settings.settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = json.dumps(data).replace("1e+300", "1e300").replace("Infinity", "1e999").encode()
    path.write_bytes(raw)
    return path, raw


def test_hostile_settings_fall_back_with_a_warning_and_the_file_is_kept(caplog):
    path, raw = write_settings(HOSTILE_SETTINGS)
    with caplog.at_level(logging.WARNING, logger="ofa_manager.core.settings"):
        loaded = settings.load()
    defaults = settings.Settings()
    assert loaded.models_dir == "" and loaded.jobs == defaults.jobs
    assert loaded.connections == defaults.connections
    assert loaded.timeout == 3600.0 and loaded.retries == 0 and loaded.limit_rate == 100_000 * 1024 * 1024
    assert loaded.rewrite_rules == [["https://a.invalid/", "https://b.invalid/"]]
    assert loaded.resume_on_start is True and loaded.window_geometry == "" and loaded.window_state == ""
    warned = " ".join(record.getMessage() for record in caplog.records)
    for name in ("models_dir", "jobs", "connections", "timeout", "retries", "limit_rate", "rewrite_rules"):
        assert f"field '{name}'" in warned
    assert str(path) in warned
    # Saving (as the window does on closing) writes good values; what the user wrote is kept aside.
    settings.save(loaded)
    assert (path.parent / "settings.json.invalid.bak").read_bytes() == raw
    assert settings.load_checked() == (loaded, [])


def test_a_version_that_is_not_a_number_does_not_name_the_backup(tmp_path):
    path, raw = write_settings({"version": "../../escape", "jobs": 3})
    assert settings.load().jobs == 3
    assert (path.parent / "settings.json.vunknown.bak").read_bytes() == raw
    assert not (tmp_path.parent / "escape.bak").exists()


def test_deeply_nested_settings_are_set_aside():
    path = settings.settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("[" * 100_000)
    loaded, problems = settings.load_checked()
    assert loaded == settings.Settings() and "nested too deeply" in problems[0]
    assert (path.parent / "settings.json.unreadable.bak").exists()


def test_the_commands_warn_on_stderr_and_go_on(tmp_path, isolated_user_folders):
    write_settings(HOSTILE_SETTINGS)
    catalog = write_catalog(tmp_path / "c.json", [entry("a", URL)])
    done = subprocess.run(
        cli_command("--catalog", str(catalog), "list", "--json"),
        env=cli_env(**{k: str(v) for k, v in isolated_user_folders.items()}),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert [row["id"] for row in json.loads(done.stdout)] == ["a"]
    assert "field 'timeout'" in done.stderr and "Traceback" not in done.stderr


def test_the_window_opens_on_hostile_settings(tmp_path, models_dir, isolated_user_folders):
    write_settings(HOSTILE_SETTINGS)
    catalog = write_catalog(tmp_path / "c.json", [entry("a", URL)])
    env = cli_env(**{k: str(v) for k, v in isolated_user_folders.items()})
    env.update(QT_QPA_PLATFORM="offscreen", OFA_MANAGER_REPORT_FIRST_PAINT="exit")
    done = subprocess.run(
        cli_command("--dir", str(models_dir), "--catalog", str(catalog), "gui"),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "first-paint" in done.stdout
    assert "field 'window_geometry'" in done.stderr and "Traceback" not in done.stderr


def test_the_window_shows_a_catalog_error_in_a_dialog_and_exits_2(qtbot, tmp_path, models_dir, capsys):
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    bad = tmp_path / "bad.json"
    bad.write_text(one_entry(url="http://[::1/a.pt"), encoding="utf-8")
    shown: list[str] = []
    returned = False

    def answer() -> None:
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox):
            shown.append(box.informativeText())
            box.accept()
        elif not returned:
            QTimer.singleShot(20, answer)

    QTimer.singleShot(0, answer)
    code = cli.main(["--dir", str(models_dir), "--catalog", str(bad), "gui"])
    returned = True
    assert code == 2
    assert len(shown) == 1 and shown[0].startswith(f"{bad}: entry 'a', field 'url'")
    assert "Invalid IPv6 URL" in capsys.readouterr().err


@pytest.mark.parametrize("folder", ["x" * 256, "/tmp/" + "y" * 300 + "/models", "/z" * 2100])
def test_a_models_folder_no_file_system_can_hold_falls_back(folder):
    write_settings({"models_dir": folder, "jobs": 3})
    loaded, problems = settings.load_checked()
    assert loaded.models_dir == "" and loaded.jobs == 3
    assert "field 'models_dir'" in problems[0] and "255 bytes" in problems[0]
    loaded.models_path().exists()  # a name too long would raise here


# -- the CLI's numbers ----------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["1e300", "inf", "nan", "0", "-1"])
def test_out_of_range_timeouts_are_usage_errors(text, tmp_path, models_dir, capsys):
    catalog = write_catalog(tmp_path / "c.json", [entry("a", "http://127.0.0.1:9/a.pt")])
    argv = ["--dir", str(models_dir), "--catalog", str(catalog), "download", "--all"]
    assert cli.main([*argv, "--timeout", text]) == 2
    err = capsys.readouterr().err
    assert "--timeout must be more than 0 and at most 3600 seconds" in err and "Traceback" not in err


@pytest.mark.parametrize(
    "option,text,words",
    [
        ("--timeout", "soon", "invalid float value"),
        ("--jobs", "9" * 5000, "not a whole number"),
        ("--connections", "17", "between 1 and 16"),
    ],
)
def test_out_of_range_numbers_are_usage_errors(option, text, words, tmp_path, models_dir, capsys):
    # Nothing listens on the discard port: were a number taken, the download would fail at once.
    catalog = write_catalog(tmp_path / "c.json", [entry("a", "http://127.0.0.1:9/a.pt")])
    with pytest.raises(SystemExit) as info:
        cli.main(["--dir", str(models_dir), "--catalog", str(catalog), "download", "--all", option, text])
    err = capsys.readouterr().err
    assert info.value.code == 2 and f"argument {option}: " in err and words in err


def test_a_rate_of_hundreds_of_digits_is_a_usage_error(tmp_path, models_dir, capsys):
    catalog = write_catalog(tmp_path / "c.json", [entry("a", "http://127.0.0.1:9/a.pt")])
    argv = ["--dir", str(models_dir), "--catalog", str(catalog), "download", "--all"]
    code = cli.main([*argv, "--limit-rate", "9" * 400 + "G"])
    assert code == 2 and "--limit-rate: too large a rate" in capsys.readouterr().err


# -- scale ----------------------------------------------------------------------------------------


def test_statuses_list_the_folder_once_and_look_only_at_files_found(tmp_path, models_dir, monkeypatch):
    rows = [entry(f"m{i}", f"https://example.invalid/m{i}.pt", size=4) for i in range(2000)]
    catalog = load_catalog([write_catalog(tmp_path / "big.json", rows)])
    (models_dir / "m7.pt").write_bytes(b"1234")
    (models_dir / "m9.pt.part").write_bytes(b"12")
    library = Library(models_dir, catalog)
    listed: list[str] = []
    looked_at: list[str] = []
    real_listdir, real_stat = os.listdir, Path.stat
    # Counting calls, not replacing them: the files and the folder are real.
    monkeypatch.setattr(safe_files.os, "listdir", lambda p: listed.append(str(p)) or real_listdir(p))
    monkeypatch.setattr(Path, "stat", lambda self, **kw: looked_at.append(self.name) or real_stat(self, **kw))
    statuses = library.statuses()
    assert listed == [str(library.root)]
    assert set(looked_at) <= {"m7.pt", "m9.pt", "m9.pt.part"}
    # m7.pt was put there by hand (no metadata): present, and not ours.
    assert statuses["m7"].state is State.FOREIGN and statuses["m9"].state is State.PARTIAL
    assert statuses["m8"].state is State.REMOTE and statuses["m8"].size == 4


def test_sharing_and_dependants_answer_from_an_index(tmp_path):
    rows = [entry("base", URL)] + [
        entry(f"p{i}", "https://example.invalid/shared.pt", base="base") for i in range(3)
    ]
    catalog = load_catalog([write_catalog(tmp_path / "c.json", rows)])
    catalog.entries.clear()  # the answers come from the index built when the catalog was made
    assert [e.id for e in catalog.sharing(catalog.get("p0"))] == ["p1", "p2"]
    assert [e.id for e in catalog.dependants(catalog.get("base"))] == ["p0", "p1", "p2"]
