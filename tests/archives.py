"""Helpers of the archive tests (tests/core/test_archives.py, tests/cli/test_archives.py): zip files built
in memory, member by member."""

from __future__ import annotations

import io
import warnings
import zipfile

from tests.catalogs import payload

GOOD = {
    "ofa_large.pt": payload(70_000, 1),
    "clip/ViT-B-16.pt": payload(40_000, 2),
    "vqgan/last.ckpt": payload(50_000, 3),
}


def build_zip(members: list[tuple[str | zipfile.ZipInfo, bytes]], method: int = zipfile.ZIP_DEFLATED):
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns of a duplicate name: that is the point of one test
        with zipfile.ZipFile(buffer, "w", method) as archive:
            for name, data in members:
                if isinstance(name, str):  # a fixed time: the same members make the same bytes
                    name = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
                    name.compress_type = method
                archive.writestr(name, data)
    return buffer.getvalue()
