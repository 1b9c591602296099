"""`ofa-manager verify ID` of a checkpoint with no file to check: one line naming its state and why."""

from __future__ import annotations

import os

import pytest

from tests.catalogs import run_cli
from tests.scenes import ThreeFiles

pytestmark = pytest.mark.usefixtures("engine_threads_end")


def test_a_link_at_the_partial_files_name_is_named_and_nothing_is_read_through_it(
    capsys, tmp_path, models_dir, http_server
):
    site = ThreeFiles(tmp_path, models_dir, http_server)
    precious = tmp_path / "precious.bin"
    precious.write_bytes(b"precious")
    os.symlink(precious, models_dir / "good.pt.part")
    (models_dir / "other.pt.part").write_bytes(b"abc")
    code, out, err = run_cli(capsys, *site.args, "verify", "good", "other")
    assert code == 0 and err == ""
    assert out.splitlines() == [
        "good: not downloaded (not-ours; a symbolic link is at good.pt.part; ofa-manager leaves it alone)",
        "other: not downloaded (partial)",
        "0 file(s) checked, 0 corrupt",
    ]
    assert precious.read_bytes() == b"precious" and (models_dir / "good.pt.part").is_symlink()
    # Not named, they are not spoken of.
    code, out, _ = run_cli(capsys, *site.args, "verify")
    assert code == 0 and out == "0 file(s) checked, 0 corrupt\n"
