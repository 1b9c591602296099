"""The settings file as a user may have left it: each value not used is named with what is used instead,
the file is kept aside before anything overwrites it, numbers are brought into the engine's ranges, and
the folders the settings name are the per-user ones."""

from __future__ import annotations

import json
import logging
import math
import subprocess
import sys
from pathlib import Path

import pytest

from ofa_manager.core import settings
from ofa_manager.core.settings import Settings
from tests.catalogs import cli_env

INVALID = " (the file is kept as settings.json.invalid.bak)"
UNREADABLE = " (the file is kept as settings.json.unreadable.bak)"


@pytest.fixture
def path(isolated_user_folders) -> Path:
    path = settings.settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def write(path: Path, data) -> str:
    text = data if isinstance(data, str) else json.dumps(data)
    path.write_text(text, encoding="utf-8")
    return text


def loaded_with(path: Path, **fields) -> tuple[Settings, list[str]]:
    write(path, {"version": 1, **fields})
    return settings.load_checked(path)


def test_the_folders_are_the_per_user_ones(isolated_user_folders):
    assert settings.config_dir() == isolated_user_folders["XDG_CONFIG_HOME"] / "ofa-manager"
    assert settings.state_dir() == isolated_user_folders["XDG_STATE_HOME"] / "ofa-manager"
    assert (
        settings.settings_path() == isolated_user_folders["XDG_CONFIG_HOME"] / "ofa-manager" / "settings.json"
    )
    assert settings.default_models_dir() == isolated_user_folders["XDG_DATA_HOME"] / "ofa-manager" / "models"


def test_a_missing_file_gives_the_defaults_and_no_problem(path):
    assert settings.load_checked(path) == (Settings(), [])
    assert settings.load_checked() == (Settings(), [])
    assert list(path.parent.iterdir()) == []


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("{not json", "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"),
        ("[" * 100_000, "nested too deeply"),
        (
            '{"jobs": ' + "1" * 5000 + "}",
            "Exceeds the limit (4300 digits) for integer string conversion: value has 5000 digits",
        ),
    ],
)
def test_an_unreadable_file_gives_the_defaults_says_why_and_is_kept(path, text, reason):
    write(path, text)
    loaded, problems = settings.load_checked(path)
    assert loaded == Settings()
    assert problems == [f"{path}: cannot be read ({reason}); using the defaults{UNREADABLE}"]
    assert (path.parent / "settings.json.unreadable.bak").read_text(encoding="utf-8") == text


def test_a_reason_is_cut_to_its_first_clause_and_a_hundred_characters(path):
    # A file name of 200 characters makes the error's text long (a folder is read instead of a file).
    long = path.parent / ("d" * 200)
    long.mkdir()
    loaded, problems = settings.load_checked(long)
    reason = f"[Errno 21] Is a directory: '{long}'"
    assert problems == [f"{long}: cannot be read ({reason[:99]}…); using the defaults"]
    assert loaded == Settings()


@pytest.mark.parametrize("extra", [0, 1])
def test_a_reason_of_a_hundred_characters_is_shown_whole_and_one_more_is_cut(path, extra):
    folder_words = len(f"[Errno 21] Is a directory: '{path.parent}/'")
    folder = path.parent / ("d" * (100 - folder_words + extra))
    folder.mkdir()
    reason = f"[Errno 21] Is a directory: '{folder}'"
    assert len(reason) == 100 + extra
    _, problems = settings.load_checked(folder)
    shown = reason if not extra else reason[:99] + "…"
    assert problems == [f"{folder}: cannot be read ({shown}); using the defaults"]


def test_an_error_without_words_is_named_by_its_kind(path, monkeypatch):
    # An I/O error that carries no text (a file system may raise one): stood in for by a patched read.
    write(path, "{}")

    def read_text(self, encoding=None):
        raise PermissionError()

    monkeypatch.setattr(Path, "read_text", read_text)
    _, problems = settings.load_checked(path)
    assert problems == [f"{path}: cannot be read (PermissionError); using the defaults{UNREADABLE}"]


def test_a_file_that_is_not_an_object_gives_the_defaults_and_is_kept(path):
    write(path, "[1, 2]")
    assert settings.load_checked(path) == (
        Settings(),
        [f"{path}: not a JSON object; using the defaults{UNREADABLE}"],
    )
    assert (path.parent / "settings.json.unreadable.bak").read_text(encoding="utf-8") == "[1, 2]"


def test_when_the_copy_cannot_be_made_the_message_says_nothing_of_one(path):
    write(path, "[1, 2]")
    (path.parent / "settings.json.unreadable.bak").symlink_to(path.parent / "no-such-folder" / "x")
    assert settings.load_checked(path) == (Settings(), [f"{path}: not a JSON object; using the defaults"])


@pytest.mark.parametrize(
    ("version", "backup"),
    [
        (0, "v0"),
        (2, "v2"),
        (-3, "v-3"),
        (999_999, "v999999"),
        (10**6, "vunknown"),
        ("1", "vunknown"),
        (None, "vunknown"),
    ],
)
def test_another_version_is_read_with_a_copy_named_for_it(path, version, backup):
    original = write(path, {"version": version, "jobs": 3})
    loaded, problems = settings.load_checked(path)
    assert loaded == Settings(jobs=3) and loaded.version == settings.VERSION and problems == []
    assert sorted(p.name for p in path.parent.iterdir()) == ["settings.json", f"settings.json.{backup}.bak"]
    assert (path.parent / f"settings.json.{backup}.bak").read_text(encoding="utf-8") == original


def test_the_current_version_and_a_file_without_one_make_no_copy(path):
    assert loaded_with(path, jobs=3) == (Settings(jobs=3), [])
    write(path, {"jobs": 4})
    assert settings.load_checked(path) == (Settings(jobs=4), [])
    assert [p.name for p in path.parent.iterdir()] == ["settings.json"]


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("notifications", 1, "must be true or false; using True"),
        ("resume_on_start", "no", "must be true or false; using True"),
        ("jobs", 2.5, "must be a whole number; using 2"),
        ("jobs", True, "must be a whole number; using 2"),
        ("jobs", "3", "must be a whole number; using 2"),
        ("retries", None, "must be a whole number; using 5"),
        ("timeout", "slow", "must be a number; using 30.0"),
        ("timeout", False, "must be a number; using 30.0"),
        ("timeout", math.inf, "must be a finite number; using 30.0"),
        ("timeout", math.nan, "must be a finite number; using 30.0"),
        ("models_dir", 5, "must be a string; using nothing"),
        (
            "window_state",
            "a\x00b",
            "holds control characters, lone surrogates or too much text; using nothing",
        ),
        (
            "window_state",
            "a\x7fb",
            "holds control characters, lone surrogates or too much text; using nothing",
        ),
        (
            "window_state",
            "a\ud800b",
            "holds control characters, lone surrogates or too much text; using nothing",
        ),
        (
            "window_state",
            "x" * 65537,
            "holds control characters, lone surrogates or too much text; using nothing",
        ),
        ("language", "fr", "must be one of '', 'en', 'zh_CN'; using nothing"),
        ("language", "EN", "must be one of '', 'en', 'zh_CN'; using nothing"),
        (
            "models_dir",
            "/data/" + "n" * 256,
            "is longer than a folder's path can be (255 bytes a name, 4096 in all); using nothing",
        ),
        (
            "models_dir",
            "C:\\" + "n" * 256,
            "is longer than a folder's path can be (255 bytes a name, 4096 in all); using nothing",
        ),
        (
            "models_dir",
            "/" + "/".join(["n" * 200] * 20) + "/" + "n" * 76,  # 4097 bytes
            "is longer than a folder's path can be (255 bytes a name, 4096 in all); using nothing",
        ),
        ("stores", "/srv/models", "is not a list of folders; using []"),
        ("disabled_catalogs", {"a": 1}, "is not a list of catalog names; using []"),
        ("rewrite_rules", "https://a/", "must be a list of [prefix, replacement] pairs; using []"),
    ],
)
def test_a_value_not_used_is_named_with_the_default_used_instead(path, field, value, problem):
    loaded, problems = loaded_with(path, **{field: value}, connections=7)
    assert loaded == Settings(connections=7)
    assert problems == [f"{path}: field {field!r} {problem}{INVALID}"]
    assert (
        json.loads((path.parent / "settings.json.invalid.bak").read_text(encoding="utf-8"))[field] == value
        or field == "timeout"
    )


@pytest.mark.parametrize(
    ("field", "value", "used"),
    [
        ("jobs", 0, 1),
        ("jobs", 9, 8),
        ("connections", 0, 1),
        ("connections", 17, 16),
        ("limit_rate", -1, 0),
        ("limit_rate", 100_000 * 1024 * 1024 + 1, 100_000 * 1024 * 1024),
        ("timeout", 0.5, 1.0),
        ("timeout", 3601, 3600.0),
        ("retries", -1, 0),
        ("retries", 101, 100),
    ],
)
def test_a_number_out_of_range_is_brought_to_the_nearest_end_and_named(path, field, value, used):
    loaded, problems = loaded_with(path, **{field: value})
    assert getattr(loaded, field) == used and type(getattr(loaded, field)) is type(used)
    assert problems == [f"{path}: field {field!r} is {value!r}; using {used!r}{INVALID}"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("jobs", 1),
        ("jobs", 8),
        ("connections", 1),
        ("connections", 16),
        ("limit_rate", 0),
        ("limit_rate", 100_000 * 1024 * 1024),
        ("timeout", 1.0),
        ("timeout", 3600),  # a whole number where a number is due: 3600.0
        ("retries", 0),
        ("retries", 100),
        ("language", "zh_CN"),
        ("language", ""),
        ("models_dir", "/data/" + "n" * 255),
        ("models_dir", "/" + "/".join(["n" * 200] * 20) + "/" + "n" * 75),  # 4096 bytes
        ("window_state", "x" * 65536),
        ("stores", ["/srv/a", "/srv/b"]),
        ("disabled_catalogs", ["lab", "old"]),
        ("rewrite_rules", [["https://a/", "http://b/"]]),
    ],
)
def test_a_value_in_range_is_used_as_it_is(path, field, value):
    loaded, problems = loaded_with(path, **{field: value})
    assert getattr(loaded, field) == value and problems == []
    assert [p.name for p in path.parent.iterdir()] == ["settings.json"]


def test_a_whole_number_of_seconds_is_read_as_a_number(path):
    loaded, _ = loaded_with(path, timeout=20)
    assert loaded.timeout == 20.0 and type(loaded.timeout) is float


@pytest.mark.parametrize(
    ("value", "used", "problem"),
    [
        (
            [" /srv/a ", "/srv/b"],
            ["/srv/a", "/srv/b"],
            "is [' /srv/a ', '/srv/b']; using ['/srv/a', '/srv/b']",
        ),
        (
            ["/srv/a", "/srv/a", "", 5, "\x00"],
            ["/srv/a"],
            "holds entries that are not folder names (or the same folder twice); using ['/srv/a']",
        ),
    ],
)
def test_the_shared_stores_keep_each_folder_once_and_name_what_was_dropped(path, value, used, problem):
    loaded, problems = loaded_with(path, stores=value)
    assert loaded.stores == used
    assert problems == [f"{path}: field 'stores' {problem}{INVALID}"]


def test_catalog_names_are_kept_once_and_only_as_written(path):
    loaded, problems = loaded_with(path, disabled_catalogs=["lab", "lab", " padded", "", 3, "ok"])
    assert loaded.disabled_catalogs == ["lab", "ok"]
    assert problems == [
        f"{path}: field 'disabled_catalogs' holds entries that are not catalog names "
        f"(or the same name twice); using ['lab', 'ok']{INVALID}"
    ]


def test_rules_that_are_not_pairs_of_text_are_counted_and_dropped(path):
    good = ["https://a/", "http://b/"]
    loaded, problems = loaded_with(
        path,
        rewrite_rules=[good, ["only"], ["", "http://c/"], ["https://d/", 5], ["https://e/", "x\x00"], "ab"],
    )
    assert loaded.rewrite_rules == [good]
    assert problems == [
        f"{path}: field 'rewrite_rules' has 5 rule(s) that are not [prefix, replacement] pairs of text;"
        f" using [['https://a/', 'http://b/']]{INVALID}"
    ]


def test_a_long_value_is_shown_cut_short(path):
    stores = [f"/srv/store-{n:02d}" for n in range(6)]
    loaded, problems = loaded_with(path, stores=[*stores, 7])
    shown = repr(stores)[:55] + "…"
    assert problems == [
        f"{path}: field 'stores' holds entries that are not folder names (or the same folder twice); "
        f"using {shown}{INVALID}"
    ]
    exactly = ["/srv/store-01", "/srv/store-02", "/srv/store-03", "/srv/"]  # a repr of 60 characters
    assert len(repr(exactly)) == 60
    _, problems = loaded_with(path, stores=[*exactly, 7])
    assert problems[0].endswith(f"using {exactly!r}{INVALID}")
    over = ["/srv/store-01", "/srv/store-02", "/srv/store-03", "/srv/s"]  # 61
    assert len(repr(over)) == 61
    _, problems = loaded_with(path, stores=[*over, 7])
    assert problems[0].endswith(f"using {repr(over)[:55]}…{INVALID}")


def test_several_problems_are_each_named_and_the_file_copied_once(path):
    original = write(path, {"version": 1, "jobs": 99, "notifications": "yes", "unknown_key": 1})
    loaded, problems = settings.load_checked(path)
    assert loaded == Settings(jobs=8)
    assert problems == [
        f"{path}: field 'jobs' is 99; using 8{INVALID}",
        f"{path}: field 'notifications' must be true or false; using True{INVALID}",
    ]
    assert (path.parent / "settings.json.invalid.bak").read_text(encoding="utf-8") == original


def test_load_reports_each_problem_as_a_warning(path, caplog):
    write(path, {"version": 1, "jobs": 3})
    other = path.parent / "other.json"  # not the usual file, which holds other values
    write(other, {"version": 1, "jobs": 99, "language": "fr"})
    with caplog.at_level(logging.WARNING, logger="ofa_manager.core.settings"):
        assert settings.load(other) == Settings(jobs=8)
    kept = " (the file is kept as other.json.invalid.bak)"
    assert [r.getMessage() for r in caplog.records] == [
        f"{other}: field 'jobs' is 99; using 8{kept}",
        f"{other}: field 'language' must be one of '', 'en', 'zh_CN'; using nothing{kept}",
    ]
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="ofa_manager.core.settings"):
        assert settings.load() == Settings(jobs=3)
    assert caplog.records == []


def test_validated_keeps_pairs_of_rules_stores_names_and_a_known_language():
    given = Settings(
        jobs=9,
        connections=0,
        limit_rate=-1,
        timeout=0,
        retries=101,
        rewrite_rules=[("https://a/", "http://b/"), ["", "http://c/"], ["one"], "ab", [1, 2]],
        stores=[" /srv/a ", "/srv/a", ""],
        disabled_catalogs=["lab", "lab", " x"],
        language="fr",
    )
    valid = given.validated()
    assert (valid.jobs, valid.connections, valid.limit_rate, valid.timeout, valid.retries) == (
        8,
        1,
        0,
        1.0,
        100,
    )
    assert type(valid.timeout) is float
    assert valid.rewrite_rules == [["https://a/", "http://b/"], ["1", "2"]]
    assert valid.stores == ["/srv/a"]
    assert valid.disabled_catalogs == ["lab"]
    assert valid.language == ""
    assert given.jobs == 9 and given.language == "fr"  # a copy
    assert Settings(jobs=8, connections=16, retries=0, language="zh_CN").validated() == Settings(
        jobs=8, connections=16, retries=0, language="zh_CN"
    )


def test_save_writes_the_validated_values(path):
    assert settings.save(Settings(jobs=50, language="fr")) == path
    written = json.loads(path.read_text(encoding="utf-8"))
    assert written["jobs"] == 8 and written["language"] == "" and written["version"] == 1
    other = path.parent / "other.json"
    assert settings.save(Settings(jobs=3), other) == other
    assert json.loads(other.read_text(encoding="utf-8"))["jobs"] == 3


@pytest.mark.parametrize(
    ("value", "folders", "warning"),
    [
        ("/srv/a", [], "the shared stores setting is not a list of folders; it is ignored"),
        (
            [" /srv/a", "/srv/a", 3, " "],
            ["/srv/a"],
            "the shared stores setting holds entries that are not folder names; they are ignored",
        ),
        (["/srv/b", "/srv/a"], ["/srv/b", "/srv/a"], None),
    ],
)
def test_store_folders_warn_of_what_they_drop(caplog, value, folders, warning):
    with caplog.at_level(logging.WARNING, logger="ofa_manager.core.settings"):
        assert settings.store_folders(value) == folders
    assert [r.getMessage() for r in caplog.records] == ([warning] if warning else [])


def test_folders_written_with_a_tilde_are_in_the_home_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    chosen = Settings(models_dir="~/models", stores=["~/store", "/srv/shared"])
    assert chosen.models_path() == tmp_path / "models"
    assert chosen.store_paths() == [tmp_path / "store", Path("/srv/shared")]
    monkeypatch.setenv("OFA_MANAGER_DIR", "~/elsewhere")
    assert chosen.models_path() == tmp_path / "elsewhere"
    monkeypatch.setenv("OFA_MANAGER_DIR", "")
    assert chosen.models_path() == tmp_path / "models"


def test_the_file_is_read_as_utf8_whatever_the_locale(path):
    # A process in the plain C locale (ASCII), without Python's UTF-8 mode, reads a folder name in Chinese.
    write(path, json.dumps({"version": 1, "models_dir": "/data/模型"}, ensure_ascii=False))
    env = cli_env(LC_ALL="C", LANG="C", PYTHONUTF8="0", PYTHONCOERCECLOCALE="0")
    code = "import json; from ofa_manager.core import settings; print(json.dumps(settings.load().models_dir))"
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == "/data/模型"


def test_every_field_is_of_a_kind_the_file_reader_checks():
    # The reader checks true/false, numbers (each with its range), texts, and three lists by name; a new
    # field of another kind needs its own check there.
    kinds = {}
    for name, value in vars(Settings()).items():
        kinds.setdefault(type(value).__name__, set()).add(name)
    assert set(kinds) == {"bool", "int", "float", "str", "list"}
    assert kinds["list"] == {"rewrite_rules", "stores", "disabled_catalogs"}
    assert kinds["int"] | kinds["float"] == set(settings.RANGES) | {"version"}
