"""One timestamp format in the metadata records: downloaded, verified and adopted read alike."""

from __future__ import annotations

import datetime

from ofa_manager import cli
from ofa_manager.core import units
from ofa_manager.core.library import Library
from tests.catalogs import entry, load, payload, sha256, write_catalog

FORMAT = "%Y-%m-%dT%H:%M:%S%z"


def test_the_helper_writes_local_iso_time_with_its_offset():
    text = units.timestamp(86_400.0)
    parsed = datetime.datetime.strptime(text, FORMAT)
    assert parsed.timestamp() == 86_400.0


def test_download_verify_and_adoption_record_their_moments_in_the_one_format(
    capsys, tmp_path, models_dir, http_server
):
    data, found = payload(50_000, 4), payload(40_000, 6)
    http_server.add("/x.pt", data)
    catalog = load(
        write_catalog(
            tmp_path / "c.json",
            [
                entry("x", http_server.url("/x.pt")),
                entry("y", http_server.url("/y.pt"), sha256=sha256(found), size=len(found)),
            ],
        )
    )
    args = ["--dir", str(models_dir), "--catalog", str(tmp_path / "c.json")]
    assert cli.main([*args, "download", "x"]) == 0
    assert cli.main([*args, "verify", "x"]) == 0
    library = Library(models_dir, catalog)
    y = catalog.get("y")
    library.path(y).write_bytes(found)  # a file put there by hand, matching the catalog: adopted on Verify
    assert cli.main([*args, "verify", "y"]) == 0
    x_meta, y_meta = library.read_meta(catalog.get("x")), library.read_meta(y)
    moments = [x_meta["downloaded_at"], x_meta["verified_at"], y_meta["adopted_at"], y_meta["verified_at"]]
    for text in moments:
        assert isinstance(text, str)
        datetime.datetime.strptime(text, FORMAT)
