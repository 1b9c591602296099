"""Scenes a command-line test and a window test both start from: one name two hosts publish, a folder whose
checkpoints were moved away, a snapshot of a folder to compare after a command. Their fixtures are in
tests/conftest.py."""

from __future__ import annotations

import io
import json
import os
import shutil
from pathlib import Path

from ofa_manager.core import names
from ofa_manager.core.catalog import load_catalog
from ofa_manager.core.library import Library
from tests.catalogs import DATA, body_requests, entry, load, payload, run_cli, sha256, write_catalog

SIZE = 2 * 1024 * 1024


class SameNameSite:
    """Two different files published under one name, on two hosts (both names of the loopback server)."""

    def __init__(self, tmp_path, models_dir, http_server) -> None:
        self.one, self.two = payload(SIZE, 31), payload(SIZE // 2, 32)
        http_server.add("/a/model.pt", self.one)
        http_server.add("/b/model.pt", self.two)
        self.server = http_server
        port = http_server.port
        self.urls = {
            "one": f"http://127.0.0.1:{port}/a/model.pt",
            "two": f"http://localhost:{port}/b/model.pt",
        }
        self.catalog = write_catalog(
            tmp_path / "c.json",
            [
                entry("one", self.urls["one"], sha256=sha256(self.one)),
                entry("two", self.urls["two"], sha256=sha256(self.two)),
            ],
        )
        self.dir = models_dir
        self.args = ["--dir", str(models_dir), "--catalog", str(self.catalog)]
        self.library = Library(models_dir, load(self.catalog))
        self.hosts = {"one": f"127.0.0.1_{port}", "two": f"localhost_{port}"}

    def path(self, entry_id: str):
        return self.library.path(self.library.catalog.get(entry_id))

    def listed(self, capsys) -> dict[str, dict]:
        code, out, err = run_cli(capsys, *self.args, "list", "--json")
        assert code == 0, err
        return {row["id"]: row for row in json.loads(out)}


def to_earlier_name(site: SameNameSite, entry_id: str, earlier) -> list[str]:
    """Put an entry's files where an earlier version kept them (hash-named, or the plain name)."""
    moved = []
    for source, target in zip(names.beside(site.path(entry_id)), names.beside(earlier), strict=True):
        if source.exists():
            os.replace(source, target)
            moved.append(target.name)
    return moved


def move_away(tmp_path, http_server, capsys):
    """A real download into folder A, then `ofa-manager move B`: A's checkpoints are now in B."""
    data = payload(300_000, 7)
    http_server.add("/m.pt", data)
    catalog = write_catalog(tmp_path / "c.json", [entry("m", http_server.url("/m.pt"), sha256=sha256(data))])
    old, new = tmp_path / "A", tmp_path / "B"
    assert run_cli(capsys, "--dir", str(old), "--catalog", str(catalog), "download", "m")[0] == 0
    code, out, err = run_cli(capsys, "--dir", str(old), "--catalog", str(catalog), "move", str(new))
    assert code == 0, err
    assert (new / "m.pt").read_bytes() == data and not (old / "m.pt").exists()
    return old, new, catalog


def snapshot(folder: Path) -> dict:
    """Everything about a folder a write, a delete or a chmod would change."""
    found = {".": (os.lstat(folder).st_mode, os.lstat(folder).st_mtime_ns)}
    for path in sorted(folder.rglob("*")):
        st = os.lstat(path)
        found[str(path.relative_to(folder))] = (st.st_mode, st.st_size, st.st_mtime_ns, path.read_bytes())
    return found


class PetlProject:
    """A catalog on the test server in the built-in one's shape: backbones, and adapters whose published
    file names are not the names the scripts use (aliases); and a copy of the small project in
    tests/data/project whose scripts name them."""

    def __init__(self, tmp_path, models_dir, http_server, *, with_sizes: bool = False) -> None:
        self.files = {
            "ofa_large.pt": payload(150_000, 1),
            "ofa_base.pt": payload(90_000, 2),
            "a_rc.pt": payload(30_000, 3),
            "a_rcp.pt": payload(31_000, 4),
            "a_rcg.pt": payload(32_000, 5),
        }
        for name, data in self.files.items():
            http_server.add(f"/{name}", data)
        rows = [
            entry("ofa-large", http_server.url("/ofa_large.pt"), sha256=sha256(self.files["ofa_large.pt"])),
            entry("ofa-base", http_server.url("/ofa_base.pt"), sha256=sha256(self.files["ofa_base.pt"])),
        ]
        for entry_id, name, alias in (
            ("refcoco-adapter", "a_rc.pt", "refcoco_adapter.pt"),
            ("refcocoplus-adapter", "a_rcp.pt", "refcocoplus_adapter.pt"),
            ("refcocog-adapter", "a_rcg.pt", "refcocog_adapter.pt"),
        ):
            row = entry(
                entry_id, http_server.url(f"/{name}"), sha256=sha256(self.files[name]), base="ofa-large"
            )
            row["aliases"] = [alias]
            if with_sizes:
                row["size"] = len(self.files[name])
            rows.append(row)
        catalog_file = self.catalog_file = write_catalog(tmp_path / "catalog.json", rows)
        self.project = tmp_path / "project"
        shutil.copytree(DATA / "project", self.project)
        self.server, self.dir = http_server, models_dir
        self.args = ["--dir", str(models_dir), "--catalog", str(catalog_file)]
        self.catalog = load(catalog_file)
        self.library = Library(models_dir, self.catalog)
        self.checkpoints = self.project / "OFA" / "checkpoints"

    def gets(self) -> int:
        """Body requests the server has answered for the project's files."""
        return sum(len(body_requests(self.server, f"/{name}")) for name in self.files)


class ThreeFiles:
    """A catalog of three files on the test server, two entries sharing one of them (shared-a, shared-b),
    one with a sha256 (good), one with only a size (other)."""

    def __init__(self, tmp_path, models_dir, http_server) -> None:
        files = {"good": payload(300_000, 1), "shared": payload(200_000, 2), "other": payload(100_000, 3)}
        for name, data in files.items():
            http_server.add(f"/{name}.pt", data)
        self.catalog = write_catalog(
            tmp_path / "c.json",
            [
                entry("good", http_server.url("/good.pt"), title="Good one", sha256=sha256(files["good"])),
                entry("shared-a", http_server.url("/shared.pt"), title="Shared A", group=["Shared", "A"]),
                entry("shared-b", http_server.url("/shared.pt"), title="Shared B", group=["Shared", "B"]),
                entry("other", http_server.url("/other.pt"), size=len(files["other"])),
            ],
        )
        self.files, self.dir = files, models_dir
        self.library = Library(models_dir, load(self.catalog))
        self.args = ["--dir", str(models_dir), "--catalog", str(self.catalog)]


def library_of(tmp_path: Path, names: tuple[str, ...]) -> Library:
    entries = [entry(name, f"http://127.0.0.1:9/{name}.pt") for name in names]
    catalog = write_catalog(tmp_path / "c.json", entries)
    library = Library(tmp_path / "old", load_catalog([catalog]))
    library.root.mkdir()
    return library


class Trash:
    """A trash folder of the test's own, standing for the desktop's (each front end passes its own)."""

    def __init__(self, folder: Path, *, accepts: bool = True) -> None:
        self.folder, self.accepts, self.taken = folder, accepts, []

    def __call__(self, path: Path) -> str | None:
        if not self.accepts:
            return None
        self.folder.mkdir(exist_ok=True)
        where = self.folder / path.name
        os.replace(path, where)
        self.taken.append(path)
        return str(where)


class Terminal(io.StringIO):
    """Typed answers, on what the command takes for a terminal (a real one cannot be driven here)."""

    def isatty(self) -> bool:
        return True


def screen_lines(written: str) -> list[str]:
    """What a terminal shows after ``written``: carriage returns, newlines and cursor-up (ESC [ A, as the
    progress bars move between their rows) applied; other escape sequences dropped; trailing blanks cut."""
    import re

    rows: list[list[str]] = [[]]
    row = col = 0
    for token in re.findall(r"\x1b\[[0-9;]*[A-Za-z]|[\r\n]|[^\x1b\r\n]+", written):
        if token == "\r":
            col = 0
        elif token == "\n":
            row, col = row + 1, 0
        elif token == "\x1b[A":
            row = max(0, row - 1)
        elif not token.startswith("\x1b"):
            while len(rows) <= row:
                rows.append([])
            line = rows[row]
            line.extend(" " * (col + len(token) - len(line)))
            line[col : col + len(token)] = token
            col += len(token)
    return ["".join(line).rstrip() for line in rows]


def one_file_library(tmp_path: Path, data: bytes) -> Library:
    """A models folder whose catalog publishes one checkpoint "a" with these bytes' size and sha256."""
    published = entry("a", "http://127.0.0.1:9/a.pt", size=len(data), sha256=sha256(data))
    catalog = write_catalog(tmp_path / "c.json", [published])
    library = Library(tmp_path / "models", load_catalog([catalog]))
    library.root.mkdir()
    return library


class Shelf:
    """Four entries on the loopback server: one verified by sha256 (with a mirror behind a password), two
    sharing a file, one whose catalog sha256 is wrong (its download is kept as NAME.rejected)."""

    def __init__(self, tmp_path, models_dir, http_server, store=None) -> None:
        self.files = {"good": payload(300_000, 1), "shared": payload(200_000, 2), "bad": payload(50_000, 3)}
        for name, data in self.files.items():
            http_server.add(f"/{name}.pt", data)
        port = http_server.port
        mirror = f"http://reader:secret@127.0.0.1:{port}/mirror/good.pt"
        self.catalog = write_catalog(
            tmp_path / "c.json",
            [
                entry(
                    "good",
                    http_server.url("/good.pt"),
                    title="Gööd π",
                    group=["Base", "Large"],
                    sha256=sha256(self.files["good"]),
                    size=len(self.files["good"]),
                    params="470M",
                    mirrors=[mirror],
                    expect={"arch": "ofa_large"},
                ),
                entry("shared-a", http_server.url("/shared.pt"), base="good", group=["PETL"]),
                entry("shared-b", http_server.url("/shared.pt"), base="good", group=["PETL"]),
                entry("bad", http_server.url("/bad.pt"), sha256=sha256(b"something else")),
            ],
        )
        self.dir = models_dir
        self.url = http_server.url
        self.port = port
        self.args = ["--dir", str(models_dir), "--catalog", str(self.catalog)]
        if store is not None:
            self.args += ["--store", str(store)]
