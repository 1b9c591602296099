"""A download that fails its sha256 or fingerprint check is kept as NAME.rejected, not thrown away."""

from __future__ import annotations

import json

import pytest

from ofa_manager.core.file_status import State
from ofa_manager.core.transfer import Transfer
from ofa_manager.core.transfer_options import DownloadError
from tests.catalogs import (
    MiB,
    fast_options,
    leftovers,
    payload,
    run_cli,
    sha256,
)
from tests.httpserver import oss_headers
from tests.transfers import serve_entry

PATH = "/q/model.pt"


pytestmark = pytest.mark.usefixtures("engine_threads_end")


def run(library, e):
    return Transfer(library, e, fast_options()).run()


def gets(server):
    return [r for r in server.requests_for(PATH, "GET") if r.status in (200, 206)]


def test_wrong_catalog_sha256_keeps_a_rejected_copy(tmp_path, models_dir, http_server):
    data = payload(3 * MiB)
    library, m, _ = serve_entry(
        tmp_path, models_dir, http_server, data, path=PATH, fields={"sha256": sha256(b"other")}
    )
    with pytest.raises(DownloadError) as caught:
        run(library, m)
    assert "kept as model.pt.rejected" in caught.value.reason and "accept m" in caught.value.reason
    assert not library.path(m).exists() and leftovers(models_dir) == []
    assert library.rejected_path(m).read_bytes() == data
    status = library.status(m)
    assert status.state is State.REMOTE
    assert status.rejected["check"] == "sha256" and status.rejected["found"] == sha256(data)
    assert library.disk_usage().rejected == len(data)


def test_keep_anyway_adopts_without_downloading_and_is_never_verified(tmp_path, models_dir, http_server):
    data = payload(2 * MiB)
    library, m, _ = serve_entry(
        tmp_path, models_dir, http_server, data, path=PATH, fields={"sha256": sha256(b"other")}
    )
    with pytest.raises(DownloadError):
        run(library, m)
    served = len(gets(http_server))
    status = library.accept_rejected(m)
    assert len(gets(http_server)) == served  # nothing fetched again
    assert status.state is State.DOWNLOADED and status.differs
    assert not status.verified and status.verified_by is None
    assert library.path(m).read_bytes() == data and not library.rejected_path(m).exists()
    # verify holds it to the bytes kept; it stays "differs", not "corrupt" and not "verified"
    again = library.verify(m)
    assert again.state is State.DOWNLOADED and again.differs and not again.verified
    # a later download finds it there and fetches nothing
    assert run(library, m) == library.path(m) and len(gets(http_server)) == served


def test_a_fingerprint_mismatch_is_quarantined_too(tmp_path, models_dir, http_server):
    data = payload(2 * MiB)
    library, m, _ = serve_entry(
        tmp_path, models_dir, http_server, data, path=PATH, headers=oss_headers(data), corrupt_at=99
    )
    with pytest.raises(DownloadError, match="CRC-64 mismatch.*kept as model.pt.rejected"):
        run(library, m)
    info = library.read_rejected(m)
    assert info["check"] == "crc64" and info["expected"] != info["found"]
    # the retry (the fault is gone) brings good data, and the rejected copy goes
    run(library, m)
    assert library.status(m).verified_by == "crc64" and not library.rejected_path(m).exists()


def test_a_file_at_the_rejected_name_that_is_not_ours_stays(tmp_path, models_dir, http_server):
    data = payload(MiB)
    library, m, _ = serve_entry(
        tmp_path, models_dir, http_server, data, path=PATH, fields={"sha256": sha256(b"other")}
    )
    library.rejected_path(m).write_bytes(b"mine")
    with pytest.raises(DownloadError, match="the bad data was discarded"):
        run(library, m)
    assert library.rejected_path(m).read_bytes() == b"mine" and leftovers(models_dir) == []
    assert library.status(m).rejected is None


def test_delete_rejected(tmp_path, models_dir, http_server):
    data = payload(MiB)
    library, m, _ = serve_entry(
        tmp_path, models_dir, http_server, data, path=PATH, fields={"sha256": sha256(b"other")}
    )
    with pytest.raises(DownloadError):
        run(library, m)
    assert library.delete_rejected(m) == len(data)
    assert not library.rejected_path(m).exists() and not library.rejected_meta_path(m).exists()
    with pytest.raises(OSError, match="no rejected download"):
        library.accept_rejected(m)


def test_a_changed_rejected_file_is_not_accepted(tmp_path, models_dir, http_server):
    data = payload(MiB)
    library, m, _ = serve_entry(
        tmp_path, models_dir, http_server, data, path=PATH, fields={"sha256": sha256(b"other")}
    )
    with pytest.raises(DownloadError):
        run(library, m)
    with open(library.rejected_path(m), "ab") as fh:
        fh.write(b"x")
    assert library.read_rejected(m) is None
    with pytest.raises(OSError):
        library.accept_rejected(m)
    assert not library.path(m).exists()


# -- the command line -------------------------------------------------------------------------------------


def test_cli_rejected_then_accept(capsys, tmp_path, models_dir, http_server, monkeypatch):
    data = payload(2 * MiB)
    library, m, catalog = serve_entry(
        tmp_path, models_dir, http_server, data, path=PATH, fields={"sha256": sha256(b"x")}
    )
    site = ["--dir", str(models_dir), "--catalog", str(catalog)]
    code, _, err = run_cli(capsys, *site, "download", "m")
    assert code == 1 and "kept as model.pt.rejected" in err
    _, out, _ = run_cli(capsys, *site, "list")
    assert "rejected: sha256 mismatch (kept as model.pt.rejected)" in out
    _, out, _ = run_cli(capsys, *site, "du", "--json")
    assert json.loads(out)["rejected"] == len(data)
    # downloading again is refused off a terminal, naming the ways out; nothing is fetched
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    served = len(gets(http_server))
    code, _, err = run_cli(capsys, *site, "download", "m")
    assert code == 2 and "--yes" in err and "accept ID" in err and "rm --rejected ID" in err
    assert len(gets(http_server)) == served
    code, out, err = run_cli(capsys, *site, "accept", "m")
    assert code == 0 and "differs from the catalog" in out, err
    assert len(gets(http_server)) == served
    _, out, _ = run_cli(capsys, *site, "list", "--json")
    (row,) = json.loads(out)
    assert row["state"] == "downloaded" and row["differs"] and not row["verified"] and row["rejected"] is None


def test_cli_rm_rejected(capsys, tmp_path, models_dir, http_server):
    data = payload(MiB)
    library, m, catalog = serve_entry(
        tmp_path, models_dir, http_server, data, path=PATH, fields={"sha256": sha256(b"x")}
    )
    site = ["--dir", str(models_dir), "--catalog", str(catalog)]
    run_cli(capsys, *site, "download", "m")
    assert library.rejected_path(m).exists()
    code, out, _ = run_cli(capsys, *site, "rm", "--rejected", "m", "--yes")
    assert code == 0 and "deleted 1 rejected file(s)" in out
    assert not library.rejected_path(m).exists()
    # --yes downloads again (still the wrong catalog hash: rejected once more, and kept)
    code, _, err = run_cli(capsys, *site, "download", "m", "--yes")
    assert code == 1 and library.rejected_path(m).exists()
