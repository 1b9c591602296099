"""The checkpoint catalog: loading, validating and querying the list of downloadable checkpoints."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit, urlunsplit

from ofa_manager.core.resources import builtin_catalog_path

FORMAT = 1
_SHA256 = re.compile(r"[0-9a-fA-F]{64}")
_REQUIRED = ("id", "title", "group", "url")


class CatalogError(ValueError):
    """A catalog file that cannot be used; the message names the file and the entry or line."""


@dataclass(frozen=True)
class Checkpoint:
    """One downloadable checkpoint as the catalog describes it."""

    id: str
    title: str
    group: tuple[str, ...]
    url: str
    size: int | None = None
    sha256: str | None = None
    mirrors: tuple[str, ...] = ()
    filename: str = ""
    base: str | None = None
    params: str | None = None
    description: str = ""
    source: str = ""
    # What the file should hold (arch, task, params, petl), as the published list states it.
    expect: dict | None = field(default=None, hash=False)
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def host(self) -> str:
        return url_host(self.url)


@dataclass
class Catalog:
    """An ordered set of checkpoints loaded from one or more catalog files."""

    title: str
    entries: list[Checkpoint]
    sources: list[Path]

    def __post_init__(self) -> None:
        self._by_id = {entry.id: entry for entry in self.entries}

    def __iter__(self) -> Iterator[Checkpoint]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def __contains__(self, entry_id: object) -> bool:
        return entry_id in self._by_id

    def get(self, entry_id: str) -> Checkpoint:
        """The entry with this id; raises KeyError with close matches in the message."""
        try:
            return self._by_id[entry_id]
        except KeyError:
            raise KeyError(unknown_id_message(entry_id, self._by_id)) from None

    def ids(self) -> list[str]:
        return [entry.id for entry in self.entries]

    def sharing(self, entry: Checkpoint) -> list[Checkpoint]:
        """Other entries that download the very same object (same URL)."""
        return [other for other in self.entries if other.url == entry.url and other.id != entry.id]

    def dependants(self, entry: Checkpoint) -> list[Checkpoint]:
        """Entries whose ``base`` is this entry (PETL checkpoints that need this backbone)."""
        return [other for other in self.entries if other.base == entry.id]


def unknown_id_message(entry_id: str, known: Iterable[str]) -> str:
    import difflib  # only when an id is unknown

    close = difflib.get_close_matches(entry_id, list(known), n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else "; `ofa-manager list` shows the ids"
    return f"unknown checkpoint id {entry_id!r}{hint}"


def url_host(url: str) -> str:
    """A URL's server as it reads in messages: ``host`` or ``host:port`` (never the user and password)."""
    return urlsplit(url).netloc.rpartition("@")[2]


# The user-and-password part of any URL inside a text: everything between "scheme://" and the last
# "@" before the path. Quotes end it too, so a URL inside a repr() is cut where the repr ends.
_URL_CREDENTIALS = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)[^/\s?#'\"<>]*@")
REDACTED = "***"


def display_url(url: str) -> str:
    """A URL as it may be shown, printed or stored: a user and password in it become ``***``.

    Only the request itself needs them (requests sends them as HTTP Basic authentication); the catalog
    keeps them, every file and text derived from it does not, as curl and pip show such URLs.
    """
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=f"{REDACTED}@{url_host(url)}"))


def redact_text(text: str) -> str:
    """``text`` with the user and password of every URL in it replaced by ``***``."""
    return _URL_CREDENTIALS.sub(rf"\g<scheme>{REDACTED}@", text) if "@" in text else text


def default_filename(url: str) -> str:
    """The last path segment of a URL, as the file is named when the catalog does not say."""
    return unquote(PurePosixPath(urlsplit(url).path).name)


def check_filename(name: str) -> str | None:
    """Why ``name`` is not a plain file name inside the models folder, or None when it is fine."""
    if not name:
        return "is empty"
    if "/" in name or "\\" in name:
        return "must be a plain file name, without '/' or '\\'"
    if name in (".", "..") or ".." in name.split("."):
        return "must not contain '..'"
    if name.startswith("."):
        return "must not start with a dot"
    if any(ord(ch) < 32 for ch in name) or ":" in name:
        return "must not contain control characters or ':'"
    if name.endswith(".part") or name.endswith(".part.json"):
        return "must not end with .part (reserved for downloads in progress)"
    return None


def _check_url(value: object, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise CatalogError(f"{where}: must be a URL string")
    parts = urlsplit(value.strip())
    shown = redact_text(display_url(value.strip()))
    if parts.scheme.lower() not in ("http", "https"):
        scheme = parts.scheme or "(none)"
        raise CatalogError(f"{where}: unsupported URL scheme {scheme!r} in {shown!r}; only http and https")
    if not parts.hostname:
        raise CatalogError(f"{where}: URL {shown!r} has no host")
    return value.strip()


# The PETL families a claim may name. A π-Adapter is adapters merged by π-Tuning's interpolation: its file
# carries the same adapter1/adapter2 keys as an Adapter checkpoint, so on contents it reads as "adapter".
EXPECT_PETL = ("adapter", "lora", "prompt", "pi-adapter")
_EXPECT_NAME = re.compile(r"[a-z][a-z0-9_+-]{0,39}")


def _check_expect(value: object, where: str) -> dict | None:
    """The ``expect`` object (what the file should hold), checked field by field."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise CatalogError(f"{where}: field 'expect' must be an object (arch, task, params, petl) or null")
    for key in value:
        if key not in ("arch", "task", "params", "petl"):
            raise CatalogError(
                f"{where}: field 'expect.{key}' is not known; expect takes arch, task, params and petl"
            )
    for key in ("arch", "task"):
        if key in value and (not isinstance(value[key], str) or not _EXPECT_NAME.fullmatch(value[key])):
            raise CatalogError(
                f"{where}: field 'expect.{key}' must be a short lower-case name such as "
                f"{'ofa_large' if key == 'arch' else 'refcoco'}"
            )
    params = value.get("params")
    if "params" in value and (isinstance(params, bool) or not isinstance(params, int) or params <= 0):
        raise CatalogError(f"{where}: field 'expect.params' must be a positive whole number of parameters")
    if "petl" in value and value["petl"] not in EXPECT_PETL:
        raise CatalogError(f"{where}: field 'expect.petl' must be one of {', '.join(EXPECT_PETL)}")
    return dict(value) or None


def _entry(raw: object, index: int, path: Path) -> Checkpoint:
    if not isinstance(raw, dict):
        raise CatalogError(f"{path}: entries[{index}] must be an object")
    name = raw.get("id") if isinstance(raw.get("id"), str) else f"#{index + 1}"
    where = f"{path}: entry {name!r}"
    for key in _REQUIRED:
        if key not in raw or raw[key] in (None, ""):
            raise CatalogError(f"{where}: field {key!r} is required")
    if not isinstance(raw["id"], str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._+-]*", raw["id"]):
        raise CatalogError(f"{where}: field 'id' must be letters, digits, '.', '_', '+' or '-'")
    if not isinstance(raw["title"], str):
        raise CatalogError(f"{where}: field 'title' must be a string")
    group = raw["group"]
    if not isinstance(group, list) or not group or not all(isinstance(g, str) and g for g in group):
        raise CatalogError(f"{where}: field 'group' must be a non-empty list of strings (the tree path)")
    url = _check_url(raw["url"], f"{where}, field 'url'")
    mirrors = raw.get("mirrors") or []
    if not isinstance(mirrors, list):
        raise CatalogError(f"{where}: field 'mirrors' must be a list of URLs")
    mirrors = [_check_url(m, f"{where}, field 'mirrors'") for m in mirrors]
    size = raw.get("size")
    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 0):
        raise CatalogError(f"{where}: field 'size' must be a whole number of bytes or null")
    sha = raw.get("sha256")
    if sha is not None and (not isinstance(sha, str) or not _SHA256.fullmatch(sha)):
        raise CatalogError(f"{where}: field 'sha256' must be 64 hexadecimal digits or null")
    filename = raw.get("filename")
    if filename is None:
        filename = default_filename(url)
        problem = check_filename(filename)
        if problem:
            raise CatalogError(f"{where}: field 'url' does not end in a usable file name; set 'filename'")
    else:
        problem = check_filename(filename) if isinstance(filename, str) else "must be a string"
        if problem:
            raise CatalogError(f"{where}: field 'filename' {problem}")
    for key in ("base", "params", "description"):
        if raw.get(key) is not None and not isinstance(raw[key], str):
            raise CatalogError(f"{where}: field {key!r} must be a string or null")
    expect = _check_expect(raw.get("expect"), where)
    known = {
        "expect",
        "id",
        "title",
        "group",
        "url",
        "size",
        "sha256",
        "mirrors",
        "filename",
        "base",
        "params",
        "description",
    }
    return Checkpoint(
        id=raw["id"],
        title=raw["title"],
        group=tuple(group),
        url=url,
        size=size,
        sha256=sha.lower() if sha else None,
        mirrors=tuple(mirrors),
        filename=filename,
        base=raw.get("base"),
        params=raw.get("params"),
        description=raw.get("description") or "",
        source=str(path),
        expect=expect,
        extra={k: v for k, v in raw.items() if k not in known},
    )


def _read(path: Path) -> tuple[str, list[Checkpoint]]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CatalogError(f"{path}: catalog file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogError(f"{path}: cannot read catalog: {exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CatalogError(
            f"{path}: line {exc.lineno}, column {exc.colno}: invalid JSON: {exc.msg}"
        ) from None
    if not isinstance(data, dict):
        raise CatalogError(f"{path}: the catalog must be a JSON object with 'format' and 'entries'")
    if data.get("format") != FORMAT:
        raise CatalogError(f"{path}: field 'format' must be {FORMAT} (found {data.get('format')!r})")
    entries = data.get("entries")
    if not isinstance(entries, list):
        raise CatalogError(f"{path}: field 'entries' must be a list")
    title = data.get("title") if isinstance(data.get("title"), str) else path.stem
    return title, [_entry(raw, i, path) for i, raw in enumerate(entries)]


def load_catalog(paths: Iterable[Path | str] | None = None) -> Catalog:
    """Load and validate catalog files (the built-in one when ``paths`` is empty)."""
    files = [Path(p) for p in (paths or [])] or [builtin_catalog_path()]
    titles: list[str] = []
    entries: list[Checkpoint] = []
    seen: dict[str, Checkpoint] = {}
    for path in files:
        title, loaded = _read(path)
        titles.append(title)
        for entry in loaded:
            if entry.id in seen:
                first = seen[entry.id].source
                raise CatalogError(f"{path}: entry {entry.id!r}: field 'id' is not unique (also in {first})")
            seen[entry.id] = entry
            entries.append(entry)
    _check_consistency(entries)
    return Catalog(title=" + ".join(titles), entries=entries, sources=files)


def _check_consistency(entries: list[Checkpoint]) -> None:
    ids = {entry.id for entry in entries}
    by_url: dict[str, Checkpoint] = {}
    for entry in entries:
        where = f"{entry.source}: entry {entry.id!r}"
        if entry.base is not None and entry.base not in ids:
            raise CatalogError(f"{where}: field 'base' names unknown entry {entry.base!r}")
        first = by_url.setdefault(entry.url, entry)
        if first is not entry:
            # One object, one file: entries sharing a URL must agree on what the file is.
            for attr in ("filename", "sha256", "size"):
                mine, theirs = getattr(entry, attr), getattr(first, attr)
                if mine is not None and theirs is not None and mine != theirs:
                    raise CatalogError(
                        f"{where}: field {attr!r} disagrees with entry {first.id!r}, which has the same URL"
                    )
