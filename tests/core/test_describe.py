"""One rule for "verified": after Verify on an entry without sha256, both front ends say verified."""

from __future__ import annotations

import json

import pytest

from ofa_manager import cli
from ofa_manager.core.describe import Proof, Word, describe
from ofa_manager.core.library import Library
from tests.catalogs import entry, load, payload, rot, sha256, write_catalog

pytestmark = pytest.mark.usefixtures("engine_threads_end")


@pytest.fixture
def site(tmp_path, models_dir, http_server):
    files = {"plain": payload(150_000, 7), "hashed": payload(120_000, 8)}
    for name, data in files.items():
        http_server.add(f"/{name}.pt", data)
    catalog = write_catalog(
        tmp_path / "c.json",
        [
            entry("plain", http_server.url("/plain.pt")),  # no sha256 in the catalog
            entry("hashed", http_server.url("/hashed.pt"), sha256=sha256(files["hashed"])),
        ],
    )
    library = Library(models_dir, load(catalog))
    return library, ["--dir", str(models_dir), "--catalog", str(catalog)]


def run(capsys, *args) -> tuple[int, str]:
    code = cli.main(list(args))
    return code, capsys.readouterr().out


def list_words(capsys, args) -> dict[str, str]:
    code, out = run(capsys, *args, "list")
    assert code == 0
    words = {}
    for line in out.splitlines():
        for entry_id in ("plain", "hashed"):
            if line.strip().startswith(entry_id + " "):
                words[entry_id] = line
    return words


def test_an_entry_without_sha256_reads_verified_after_verify_in_core_and_in_list(capsys, site):
    library, args = site
    plain = library.catalog.get("plain")
    assert run(capsys, *args, "download", "plain")[0] == 0
    assert describe(library.status(plain)).word is Word.DOWNLOADED
    assert "downloaded" in list_words(capsys, args)["plain"]

    assert run(capsys, *args, "verify", "plain")[0] == 0
    described = describe(library.status(plain))
    assert described.word is Word.VERIFIED and described.proof is Proof.ARRIVAL and described.checked_at
    assert "verified" in list_words(capsys, args)["plain"]
    code, out = run(capsys, *args, "list", "--json")
    assert code == 0
    assert {row["id"]: row["verified"] for row in json.loads(out)}["plain"] is True


def test_a_catalog_sha256_match_is_verified_against_the_catalog(capsys, site):
    library, args = site
    assert run(capsys, *args, "download", "hashed")[0] == 0
    described = describe(library.status(library.catalog.get("hashed")))
    assert described.word is Word.VERIFIED and described.proof is Proof.CATALOG


def test_a_file_that_rotted_after_verify_is_not_verified(capsys, site):
    library, args = site
    plain = library.catalog.get("plain")
    assert run(capsys, *args, "download", "plain")[0] == 0
    assert run(capsys, *args, "verify", "plain")[0] == 0
    rot(library.path(plain))
    assert run(capsys, *args, "verify", "plain")[0] != 0
    assert describe(library.status(plain)).word is Word.CORRUPT
    assert "verified" not in list_words(capsys, args)["plain"]
