"""Typed, versioned user settings in the platformdirs config folder, written atomically."""

from __future__ import annotations

import json
import logging
import os
import shutil
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import platformdirs

from ofa_manager import APP_NAME
from ofa_manager.core.durable import atomic_write_json

VERSION = 1
_log = logging.getLogger(__name__)


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
    resume_on_start: bool = True
    notifications: bool = True
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
        return copy

    def store_paths(self) -> list[Path]:
        return [Path(folder).expanduser() for folder in self.stores]


def store_folders(value: object) -> list[str]:
    """The shared store folders in a value read from the settings file: non-empty texts, each once.

    Anything else is dropped with a warning, so a damaged entry never stops the program.
    """
    if not isinstance(value, list):
        _log.warning("the shared stores setting is not a list of folders; it is ignored")
        return []
    folders = [item.strip() for item in value if isinstance(item, str) and item.strip()]
    if len(folders) != len(value):
        _log.warning("the shared stores setting holds entries that are not folder names; they are ignored")
    return list(dict.fromkeys(folders))


def settings_path() -> Path:
    return config_dir() / "settings.json"


def load(path: Path | None = None) -> Settings:
    """Read the settings; unknown keys are ignored, bad values fall back to defaults, old files migrate."""
    path = path or settings_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Settings()
    except (OSError, ValueError):
        # An unreadable file is kept aside rather than overwritten, so nothing the user set is lost.
        _backup(path, "unreadable")
        return Settings()
    if not isinstance(data, dict):
        _backup(path, "unreadable")
        return Settings()
    if data.get("version", VERSION) != VERSION:
        data = _migrate(path, data)
    defaults = Settings()
    values = {}
    for f in fields(Settings):
        if f.name in data and isinstance(data[f.name], type(getattr(defaults, f.name))):
            values[f.name] = data[f.name]
        elif f.name == "stores" and f.name in data:
            store_folders(data[f.name])  # says why it is ignored
        elif (
            f.name in data and isinstance(getattr(defaults, f.name), float) and isinstance(data[f.name], int)
        ):
            values[f.name] = float(data[f.name])
    values["version"] = VERSION
    return Settings(**values).validated()


def _backup(path: Path, why: str) -> None:
    try:
        shutil.copy2(path, path.with_name(f"{path.name}.{why}.bak"))
    except OSError:
        pass


def _migrate(path: Path, data: dict) -> dict:
    """Bring an older file to the current version, keeping a copy of the original."""
    _backup(path, f"v{data.get('version')}")
    data = dict(data)
    data["version"] = VERSION
    return data


def save(settings: Settings, path: Path | None = None) -> Path:
    """Write atomically: a temp file in the same folder, fsync, then os.replace."""
    path = path or settings_path()
    atomic_write_json(path, asdict(settings.validated()))
    return path
