"""Settings: typed, versioned, atomic, forgiving of unknown keys, never losing a damaged file."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ofa_manager.core import settings
from ofa_manager.core.settings import Settings


def test_defaults_when_there_is_no_file(isolated_user_folders):
    assert not settings.settings_path().exists()
    loaded = settings.load()
    assert loaded == Settings()
    assert settings.settings_path().is_relative_to(isolated_user_folders["XDG_CONFIG_HOME"])


def test_round_trip(tmp_path):
    saved = Settings(
        models_dir=str(tmp_path / "models"),
        jobs=3,
        connections=8,
        limit_rate=5 * 1024 * 1024,
        timeout=12.5,
        retries=7,
        rewrite_rules=[["https://a.invalid/", "http://b.invalid/"]],
        resume_on_start=False,
        notifications=False,
        window_geometry="abc",
    )
    path = settings.save(saved)
    assert path == settings.settings_path()
    assert settings.load() == saved
    assert json.loads(path.read_text())["version"] == settings.VERSION


def test_save_is_atomic_and_leaves_no_temp_files():
    for jobs in range(1, 6):
        settings.save(Settings(jobs=jobs))
    folder = settings.settings_path().parent
    assert sorted(os.listdir(folder)) == ["settings.json"]
    assert settings.load().jobs == 5


def test_a_failed_write_keeps_the_old_file_and_no_temp_file(monkeypatch):
    settings.save(Settings(jobs=3))

    def broken_replace(src, dst):
        raise OSError("disk full")

    with monkeypatch.context() as patch:
        patch.setattr(os, "replace", broken_replace)
        with pytest.raises(OSError):
            settings.save(Settings(jobs=4))
    assert sorted(os.listdir(settings.settings_path().parent)) == ["settings.json"]
    assert settings.load().jobs == 3


def test_unknown_keys_are_ignored_and_bad_values_fall_back():
    path = settings.settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(
            {
                "version": 1,
                "jobs": 4,
                "from_the_future": {"x": 1},
                "connections": "many",
                "timeout": 20,
                "retries": 1000,
            }
        )
    )
    loaded = settings.load()
    assert loaded.jobs == 4
    assert loaded.connections == Settings().connections
    assert loaded.timeout == 20.0 and isinstance(loaded.timeout, float)
    assert loaded.retries == 100  # clamped


@pytest.mark.parametrize("rules", [[["only-a-prefix"]], ["not-a-pair"], [[1, 2, 3]], [None]])
def test_malformed_rewrite_rules_do_not_stop_the_app(rules):
    path = settings.settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"version": 1, "jobs": 3, "rewrite_rules": rules}))
    loaded = settings.load()
    assert loaded.jobs == 3 and loaded.rewrite_rules == []


@pytest.mark.parametrize("text", ["{not json", "[1, 2]", "\x00\x01"])
def test_a_corrupt_file_is_backed_up_not_lost(text):
    path = settings.settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    assert settings.load() == Settings()
    backups = [p for p in path.parent.iterdir() if p.name != "settings.json"]
    assert len(backups) == 1 and backups[0].read_text() == text
    # Saving afterwards does not touch the backup.
    settings.save(Settings(jobs=2))
    assert backups[0].read_text() == text


def test_an_older_version_is_migrated_with_a_backup():
    path = settings.settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    original = json.dumps({"version": 0, "jobs": 3})
    path.write_text(original)
    assert settings.load().jobs == 3
    assert (path.parent / "settings.json.v0.bak").read_text() == original


def test_environment_models_folder_wins(monkeypatch, tmp_path):
    saved = Settings(models_dir=str(tmp_path / "from-settings"))
    assert saved.models_path() == tmp_path / "from-settings"
    monkeypatch.setenv("OFA_MANAGER_DIR", str(tmp_path / "from-env"))
    assert saved.models_path() == tmp_path / "from-env"
    # The override is not written into the file.
    settings.save(saved)
    assert json.loads(settings.settings_path().read_text())["models_dir"] == str(tmp_path / "from-settings")


def test_default_models_folder_is_in_the_user_data_folder(isolated_user_folders):
    assert Settings().models_path() == Path(isolated_user_folders["XDG_DATA_HOME"]) / "ofa-manager" / "models"


def test_validated_clamps_numbers():
    clamped = Settings(jobs=0, connections=99, limit_rate=-5, timeout=0.1, retries=-1).validated()
    assert (clamped.jobs, clamped.connections, clamped.limit_rate, clamped.timeout, clamped.retries) == (
        1,
        16,
        0,
        1.0,
        0,
    )
