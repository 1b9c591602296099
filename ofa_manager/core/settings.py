"""Typed, versioned user settings in the platformdirs config folder, written atomically."""

from __future__ import annotations

import json
import logging
import math
import os
import re
import shutil
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import platformdirs

from ofa_manager import APP_NAME
from ofa_manager.core.durable import atomic_write_json

VERSION = 1
log = logging.getLogger(__name__)
# The window's languages by code; "" follows the system's. The command line is English whatever is set.
LANGUAGES = ("", "en", "zh_CN")


def config_dir() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def state_dir() -> Path:
    return Path(platformdirs.user_state_dir(APP_NAME, appauthor=False))


def default_models_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)) / "models"


@dataclass
class Settings:
    """Everything the user can set; tokens are not here (they live in the keyring)."""

    version: int = VERSION
    models_dir: str = ""
    jobs: int = 2
    connections: int = 4
    limit_rate: int = 0
    timeout: float = 30.0
    retries: int = 5
    rewrite_rules: list[list[str]] = field(default_factory=list)
    # Read-only shared stores (folders of checkpoints an administrator keeps, e.g. on NFS).
    stores: list[str] = field(default_factory=list)
    # Imported catalogs (by name, see core/zoo.py) that are not loaded; every other one is.
    disabled_catalogs: list[str] = field(default_factory=list)
    resume_on_start: bool = True
    notifications: bool = True
    # The window's language (one of LANGUAGES); applied when the window next starts.
    language: str = ""
    window_geometry: str = ""
    window_state: str = ""
    splitter_state: str = ""

    def models_path(self) -> Path:
        """The models folder: ``OFA_MANAGER_DIR`` wins, then the setting, then the default."""
        override = os.environ.get("OFA_MANAGER_DIR")
        if override:
            return Path(override).expanduser()
        return Path(self.models_dir).expanduser() if self.models_dir else default_models_dir()

    def validated(self) -> Settings:
        """A copy with numbers clamped to what the engine accepts."""
        copy = Settings(**asdict(self))
        copy.jobs = max(1, min(8, int(copy.jobs)))
        copy.connections = max(1, min(16, int(copy.connections)))
        copy.limit_rate = max(0, int(copy.limit_rate))
        copy.timeout = max(1.0, float(copy.timeout))
        copy.retries = max(0, min(100, int(copy.retries)))
        # A hand-edited file may hold anything here: keep only [prefix, replacement] pairs.
        copy.rewrite_rules = [
            [str(rule[0]), str(rule[1])]
            for rule in copy.rewrite_rules
            if isinstance(rule, (list, tuple)) and len(rule) == 2 and rule[0]
        ]
        copy.stores = store_folders(copy.stores)
        copy.disabled_catalogs, _ = _catalog_names(copy.disabled_catalogs)
        if copy.language not in LANGUAGES:
            copy.language = ""
        return copy

    def store_paths(self) -> list[Path]:
        return [Path(folder).expanduser() for folder in self.stores]


def store_folders(value: object) -> list[str]:
    """The shared store folders in a value read from the settings file: non-empty texts, each once.

    Anything else is dropped with a warning, so a damaged entry never stops the program.
    """
    if not isinstance(value, list):
        log.warning("the shared stores setting is not a list of folders; it is ignored")
        return []
    folders = [item.strip() for item in value if isinstance(item, str) and item.strip()]
    if len(folders) != len(value):
        log.warning("the shared stores setting holds entries that are not folder names; they are ignored")
    return list(dict.fromkeys(folders))


def settings_path() -> Path:
    return config_dir() / "settings.json"


def load(path: Path | None = None) -> Settings:
    """Read the settings; unknown keys are ignored, bad values fall back to defaults, old files migrate.

    Each value that was not used is reported as a warning (on stderr when nothing else listens).
    """
    loaded, problems = load_checked(path)
    for problem in problems:
        log.warning("%s", problem)
    return loaded


def load_checked(path: Path | None = None) -> tuple[Settings, list[str]]:
    """The settings and, in words, each value of the file that was not used and what is used instead.

    A file with such values is copied to ``settings.json.invalid.bak`` first, so that saving the
    settings later (which writes the values in use) loses nothing the user wrote.
    """
    path = path or settings_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Settings(), []
    except (OSError, ValueError, RecursionError) as exc:
        # An unreadable file is kept aside rather than overwritten, so nothing the user set is lost.
        backup = _backup(path, "unreadable")
        return Settings(), [f"{path}: cannot be read ({_reason(exc)}); using the defaults{backup}"]
    if not isinstance(data, dict):
        backup = _backup(path, "unreadable")
        return Settings(), [f"{path}: not a JSON object; using the defaults{backup}"]
    if data.get("version", VERSION) != VERSION:
        data = _migrate(path, data)
    defaults = Settings()
    values: dict[str, Any] = {}  # each value checked by _checked against its field's default
    problems = []
    for f in fields(Settings):
        if f.name == "version" or f.name not in data:
            continue
        default = getattr(defaults, f.name)
        value, problem = _checked(f.name, data[f.name], default)
        values[f.name] = value
        if problem:
            shown = _short(value) if value != "" else "nothing"
            problems.append(f"{path}: field {f.name!r} {problem}; using {shown}")
        elif value != data[f.name]:
            problems.append(f"{path}: field {f.name!r} is {_short(data[f.name])}; using {_short(value)}")
    if problems:
        backup = _backup(path, "invalid")
        problems = [problem + backup for problem in problems]
    values["version"] = VERSION
    return Settings(**values), problems


# The ranges the engine and the Settings dialog accept; a value outside is brought to the nearest end.
RANGES: dict[str, tuple[float, float]] = {
    "jobs": (1, 8),
    "connections": (1, 16),
    "limit_rate": (0, 100_000 * 1024 * 1024),  # bytes per second; the dialog's largest, 100000 MiB/s
    "timeout": (1.0, 3600.0),
    "retries": (0, 100),
}
MAX_TEXT = 65536
_BAD_TEXT = re.compile("[\\x00-\\x1f\\x7f\\ud800-\\udfff]")


def _checked(name: str, value: object, default: object) -> tuple[object, str | None]:
    """The value to use for one field and, when it is the default instead, why."""
    if isinstance(default, bool):
        return (value, None) if isinstance(value, bool) else (default, "must be true or false")
    if isinstance(default, (int, float)):
        # bool is an int to Python, not a number to a person; a float where a whole number is due is refused.
        wanted = (int, float) if isinstance(default, float) else int
        if isinstance(value, bool) or not isinstance(value, wanted):
            return default, f"must be a {'number' if isinstance(default, float) else 'whole number'}"
        if isinstance(value, float) and not math.isfinite(value):
            return default, "must be a finite number"
        low, high = RANGES[name]  # every number has its range
        value = min(max(low, value), high)
        return (float(value) if isinstance(default, float) else int(value)), None
    if isinstance(default, str):
        if not isinstance(value, str):
            return default, "must be a string"
        if not _is_text(value):
            return default, "holds control characters, lone surrogates or too much text"
        if name == "language" and value not in LANGUAGES:
            return default, f"must be one of {', '.join(repr(code) for code in LANGUAGES)}"
        if name == "models_dir" and not _fits_file_system(value):
            return default, "is longer than a folder's path can be (255 bytes a name, 4096 in all)"
        return value, None
    if name == "stores":
        if not isinstance(value, list):
            return default, "is not a list of folders"
        folders = list(dict.fromkeys(item.strip() for item in value if _is_text(item) and item.strip()))
        if len(folders) != len(value):
            return folders, "holds entries that are not folder names (or the same folder twice)"
        return folders, None
    if name == "disabled_catalogs":
        return _catalog_names(value)  # not a list: none, as by default
    # The last field, rewrite_rules (a test holds Settings to these kinds of fields).
    if not isinstance(value, list):
        return default, "must be a list of [prefix, replacement] pairs"
    # A hand-edited file may hold anything here: keep only [prefix, replacement] pairs of text.
    rules = [
        [rule[0], rule[1]]
        for rule in value
        if isinstance(rule, list) and len(rule) == 2 and all(_is_text(part) for part in rule) and rule[0]
    ]
    if len(rules) != len(value):
        dropped = len(value) - len(rules)
        return rules, f"has {dropped} rule(s) that are not [prefix, replacement] pairs of text"
    return rules, None


def _catalog_names(value: object) -> tuple[list[str], str | None]:
    """The catalog names in a value read from the settings file, each once, and what was dropped."""
    if not isinstance(value, list):
        return [], "is not a list of catalog names"
    names = list(dict.fromkeys(item for item in value if _is_text(item) and item.strip() == item and item))
    if len(names) != len(value):
        return names, "holds entries that are not catalog names (or the same name twice)"
    return names, None


def _is_text(value: object) -> bool:
    return isinstance(value, str) and len(value) <= MAX_TEXT and not _BAD_TEXT.search(value)


def _fits_file_system(path: str) -> bool:
    """True when no name in ``path`` is longer than file systems allow (else every look at it fails)."""
    encoded = path.encode("utf-8")
    return len(encoded) <= 4096 and all(len(name) <= 255 for name in re.split(rb"[/\\]", encoded))


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:55] + "…"


def _reason(exc: BaseException) -> str:
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    # The first clause only: Python's advice on raising its integer-digits limit is not the user's.
    text = str(exc).split(";")[0]
    return (text if len(text) <= 100 else text[:99] + "…") or type(exc).__name__


def _backup(path: Path, why: str) -> str:
    """Copy the file aside as ``NAME.WHY.bak``; the words for a message saying where (or "")."""
    backup = path.with_name(f"{path.name}.{why}.bak")
    try:
        shutil.copy2(path, backup)
    except OSError:
        return ""
    return f" (the file is kept as {backup.name})"


def _migrate(path: Path, data: dict) -> dict:
    """Bring an older file to the current version, keeping a copy of the original. (Version 1 is the only
    one so far: its fields are read from any version as they are; the version itself is never read.)"""
    version = data.get("version")
    # The version becomes part of a file name: only a plain number may.
    _backup(path, f"v{version}" if type(version) is int and abs(version) < 10**6 else "vunknown")
    return data


def save(settings: Settings, path: Path | None = None) -> Path:
    """Write atomically: a temp file in the same folder, fsync, then os.replace."""
    path = path or settings_path()
    atomic_write_json(path, asdict(settings.validated()))
    return path
