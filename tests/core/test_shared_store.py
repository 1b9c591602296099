"""A read-only shared store: its files count as present, are checked, used from there and never touched.

The store is a real folder made read-only (0555, files 0444). Tests may run as root, whom modes do not
stop, so every test also snapshots the store (names, bytes, modes, times) and compares after each command.
Commands run through the real command line against the loopback server.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
from pathlib import Path

import pytest

from ofa_manager import cli
from ofa_manager.core import settings
from ofa_manager.core.file_status import State
from ofa_manager.core.library import Library
from tests.catalogs import body_requests, entry, load, payload, sha256, write_catalog
from tests.scenes import snapshot

SIZE = 200_000
DATA = {name: payload(SIZE, seed) for seed, name in enumerate(("good", "short", "rotten", "absent"), 1)}


class Lab:
    """A user's models folder, a catalog with sizes and sha256s, and a store an administrator filled."""

    def __init__(self, folder: Path, http_server) -> None:
        self.server = http_server
        self.dir = folder / "models"
        self.dir.mkdir()
        for name, data in DATA.items():
            http_server.add(f"/{name}.pt", data)
        catalog = write_catalog(
            folder / "catalog.json",
            [
                entry(name, http_server.url(f"/{name}.pt"), size=SIZE, sha256=sha256(data))
                for name, data in DATA.items()
            ],
        )
        self.store = folder / "store"
        self.store.mkdir()
        (self.store / "good.pt").write_bytes(DATA["good"])
        (self.store / "short.pt").write_bytes(DATA["short"][:-10])
        rotten = bytearray(DATA["rotten"])
        rotten[1000] ^= 0xFF
        (self.store / "rotten.pt").write_bytes(bytes(rotten))
        for path in self.store.iterdir():
            path.chmod(0o444)
        self.store.chmod(0o555)
        self.before = snapshot(self.store)
        self.catalog = catalog
        self.args = ["--dir", str(self.dir), "--catalog", str(catalog), "--store", str(self.store)]

    def run(self, *args: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = cli.main([*self.args, *args])
        assert snapshot(self.store) == self.before, f"the store changed after {args}"
        return code, out.getvalue(), err.getvalue()

    def rows(self) -> dict[str, dict]:
        code, out, _ = self.run("list", "--json")
        assert code == 0
        return {row["id"]: row for row in json.loads(out)}

    def library(self) -> Library:
        return Library(self.dir, load(self.catalog), stores=[self.store])


@pytest.fixture
def lab(tmp_path, http_server):
    made = Lab(tmp_path, http_server)
    yield made
    made.store.chmod(0o755)  # so that pytest can clean up when not root


def test_list_counts_a_store_file_of_the_right_size_and_says_why_another_is_not_used(lab):
    rows = lab.rows()
    assert rows["good"]["state"] == "in-store"
    assert rows["good"]["store_path"] == str(lab.store / "good.pt")
    # Same size, wrong bytes: the size is all a listing checks (hashing a store at every start is too
    # slow on NFS); verify finds it out.
    assert rows["rotten"]["state"] == "in-store"
    assert rows["short"]["state"] == "remote"
    assert "has 199990 bytes, the catalog says 200000" in rows["short"]["reason"]
    assert rows["absent"]["state"] == "remote" and rows["absent"]["store_path"] is None
    code, out, _ = lab.run("list")
    assert code == 0
    assert f"in the shared store: {lab.store / 'good.pt'}" in out


def test_verify_hashes_the_store_records_in_the_users_state_folder_and_drops_a_bad_copy(
    lab, isolated_user_folders
):
    code, out, _ = lab.run("verify")
    assert code == 1
    assert f"good: ok in the shared store ({lab.store / 'good.pt'}" in out
    assert "verified against the catalog sha256" in out
    assert f"rotten: CORRUPT in the shared store ({lab.store / 'rotten.pt'})" in out
    record = isolated_user_folders["XDG_STATE_HOME"] / "ofa-manager" / "store-hashes.json"
    hashes = json.loads(record.read_text())["sha256"]
    assert sorted(hashes.values()) == sorted([sha256(DATA["good"]), sha256(bytes(_rotten()))])
    rows = lab.rows()
    assert rows["good"]["state"] == "in-store" and rows["good"]["verified"] is True
    assert rows["rotten"]["state"] == "remote"
    assert "does not match the catalog's" in rows["rotten"]["reason"]
    assert not any(lab.dir.iterdir()), "nothing is written in the models folder by a verify of the store"


def _rotten() -> bytearray:
    rotten = bytearray(DATA["rotten"])
    rotten[1000] ^= 0xFF
    return rotten


def test_a_recorded_hash_holds_only_for_the_same_size_and_time(lab):
    assert lab.run("verify", "good")[0] == 0
    assert lab.rows()["good"]["verified"] is True
    os.chmod(lab.store, 0o755)
    os.utime(lab.store / "good.pt", ns=(1, 1))  # the administrator replaced the file
    os.chmod(lab.store, 0o555)
    lab.before = snapshot(lab.store)
    assert lab.rows()["good"]["verified"] is False


def test_download_of_a_file_in_the_store_does_nothing_unless_here(lab):
    code, _, err = lab.run("download", "good")
    assert code == 0
    assert f"good: in the shared store ({lab.store / 'good.pt'}); not downloaded" in err
    assert body_requests(lab.server, "/good.pt") == []
    assert not (lab.dir / "good.pt").exists()

    code, _, _ = lab.run("download", "short", "absent")
    assert code == 0
    assert (lab.dir / "short.pt").read_bytes() == DATA["short"]
    assert (lab.dir / "absent.pt").read_bytes() == DATA["absent"]

    code, _, _ = lab.run("download", "--here", "good")
    assert code == 0
    assert (lab.dir / "good.pt").read_bytes() == DATA["good"]
    assert lab.rows()["good"]["state"] == "downloaded"


def test_a_store_copy_found_corrupt_is_downloaded_into_the_users_folder(lab):
    code, _, err = lab.run("verify", "rotten")
    assert code == 1, err
    code, _, _ = lab.run("download", "rotten")
    assert code == 0
    assert (lab.dir / "rotten.pt").read_bytes() == DATA["rotten"]
    assert lab.rows()["rotten"]["state"] == "downloaded"


def test_rm_never_touches_the_store(lab):
    code, out, err = lab.run("rm", "--yes", "good")
    assert code == 1
    assert f"good: in the shared store ({lab.store / 'good.pt'}), which is read-only" in err
    assert "nothing to delete" in out
    library = lab.library()
    assert library.delete(library.catalog.get("good")) == 0  # the engine's delete cannot reach it either


def test_du_counts_the_store_apart_from_the_models_folder(lab):
    assert lab.run("download", "absent")[0] == 0
    code, out, _ = lab.run("du", "--json")
    assert code == 0
    usage = json.loads(out)
    assert usage["downloaded"] == SIZE
    assert usage["in_stores"] == 2 * SIZE  # good and rotten (same size, not hashed yet)
    assert set(usage["files"]) == {str(lab.dir / "absent.pt")}
    code, out, _ = lab.run("du")
    assert code == 0 and "in shared stores" in out


def test_local_or_store_path_prefers_the_users_own_file(lab):
    library = lab.library()
    good, absent = library.catalog.get("good"), library.catalog.get("absent")
    assert library.local_or_store_path(good) == lab.store / "good.pt"
    assert library.local_or_store_path(absent) is None
    assert lab.run("download", "--here", "good")[0] == 0
    assert library.local_or_store_path(good) == lab.dir / "good.pt"


def test_a_link_in_the_store_is_not_followed(lab, tmp_path):
    elsewhere = tmp_path / "elsewhere.pt"
    elsewhere.write_bytes(DATA["absent"])
    os.chmod(lab.store, 0o755)
    (lab.store / "absent.pt").symlink_to(elsewhere)
    os.chmod(lab.store, 0o555)
    status = lab.library().status(lab.library().catalog.get("absent"))
    assert status.state is State.REMOTE
    assert "a symbolic link is at" in status.reason


def test_stores_from_the_settings_and_the_command_line_add_up(lab, tmp_path):
    other = tmp_path / "other-store"
    other.mkdir()
    (other / "absent.pt").write_bytes(DATA["absent"])
    saved = settings.Settings(stores=[str(other)])
    settings.save(saved)
    rows = lab.rows()
    assert rows["absent"]["state"] == "in-store" and rows["absent"]["store_path"] == str(other / "absent.pt")
    assert rows["good"]["state"] == "in-store"


def test_a_damaged_stores_setting_falls_back_with_a_warning(tmp_path, caplog):
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"version": 1, "jobs": 3, "stores": ["/srv/models", 7, "", None]}))
    with caplog.at_level(logging.WARNING):
        loaded = settings.load(path)
    assert loaded.stores == ["/srv/models"] and loaded.jobs == 3
    assert "not folder names" in caplog.text
    caplog.clear()
    path.write_text(json.dumps({"version": 1, "stores": "/srv/models"}))
    with caplog.at_level(logging.WARNING):
        assert settings.load(path).stores == []
    assert "not a list" in caplog.text


def test_inspect_of_an_id_reads_the_store_file(lab):
    code, _, err = lab.run("inspect", "good")
    # The payload is not a PyTorch checkpoint: the error names the file that was read.
    assert code == 2
    assert str(lab.store / "good.pt") in err
    code, _, err = lab.run("inspect", "absent")
    assert code == 2 and "is not downloaded" in err
