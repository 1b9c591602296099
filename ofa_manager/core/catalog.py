"""The checkpoint catalog: loading, validating and querying the list of downloadable checkpoints."""

from __future__ import annotations

import contextlib
import gc
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit, urlunsplit

from ofa_manager.core.hosts import normalise_host
from ofa_manager.core.resources import builtin_catalog_path

FORMAT = 1
_SHA256 = re.compile(r"[0-9a-fA-F]{64}")
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]*")
_REQUIRED = ("id", "title", "group", "url")
# Limits far above any real catalog, so that a hostile or broken file is refused with a message rather
# than filling memory, the screen or a file system's name limit later.
MAX_FILE_BYTES = 256 * 1024 * 1024
MAX_ID = 128
MAX_TEXT = 1000  # a title, a group name, params
MAX_DESCRIPTION = 100_000
MAX_URL = 4096
MAX_MIRRORS = 64
MAX_GROUP_DEPTH = 32
MAX_SIZE = 2**50  # bytes: 1 PiB
# NAME.part.json, .NAME.meta.json and the -1234abcd that tells apart two URLs with one file name must
# still fit in the 255 bytes most file systems allow for a name.
MAX_FILENAME_BYTES = 200
# A lone surrogate (from a JSON escape such as "\ud800") is not text: it cannot be written as UTF-8 to a
# terminal, a file name or an HTTP request. Control characters break lines, names and headers.
_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_CONTROL_MULTILINE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_BAD_TEXT = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_BAD_MULTILINE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_HOST = re.compile(r"[A-Za-z0-9._~-]+")
_PLAIN_NAME = re.compile(rf"[A-Za-z0-9_+-][A-Za-z0-9._+-]{{0,{MAX_FILENAME_BYTES - 1}}}")
# A URL that is plainly fine (the usual case, checked in one match): http(s), a host of letters, digits
# and dashes in dot-separated labels, maybe a port, a path of URL characters; no query, no user name.
_PLAIN_URL = re.compile(
    r"https?://[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*(?::(\d{1,5}))?(/[A-Za-z0-9._~%!$&'()*+,;=:@/-]*)?",
    re.IGNORECASE,
)
_KNOWN = frozenset(
    (
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
        "expect",
    )
)


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
        return normalise_host(self.url)


@dataclass
class Catalog:
    """An ordered set of checkpoints loaded from one or more catalog files."""

    title: str
    entries: list[Checkpoint]
    sources: list[Path]
    # Each catalog file's own title, by the path its entries carry as ``source``.
    source_titles: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._by_id = {entry.id: entry for entry in self.entries}
        # Indexes, so that asking about every entry costs one pass, not one pass per entry.
        self._by_url: dict[str, list[Checkpoint]] = {}
        self._by_base: dict[str, list[Checkpoint]] = {}
        for entry in self.entries:
            self._by_url.setdefault(entry.url, []).append(entry)
            if entry.base is not None:
                self._by_base.setdefault(entry.base, []).append(entry)

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
        return [other for other in self._by_url.get(entry.url, ()) if other.id != entry.id]

    def dependants(self, entry: Checkpoint) -> list[Checkpoint]:
        """Entries whose ``base`` is this entry (PETL checkpoints that need this backbone)."""
        return list(self._by_base.get(entry.id, ()))

    def tree_path(self, entry: Checkpoint) -> tuple[str, ...]:
        """Where a tree shows the entry: its groups, under its catalog file's title when several catalogs
        are in use (an imported catalog's groups start with that title already)."""
        if len(self.sources) < 2:
            return entry.group
        top = self.source_titles.get(entry.source) or Path(entry.source).stem
        return entry.group if entry.group[0] == top else (top, *entry.group)


def unknown_id_message(entry_id: str, known: Iterable[str]) -> str:
    import difflib  # only when an id is unknown

    close = difflib.get_close_matches(entry_id, list(known), n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else "; `ofa-manager list` shows the ids"
    return f"unknown checkpoint id {entry_id!r}{hint}"


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
    return urlunsplit(parts._replace(netloc=f"{REDACTED}@{parts.netloc.rpartition('@')[2]}"))


def redact_text(text: str) -> str:
    """``text`` with the user and password of every URL in it replaced by ``***``."""
    return _URL_CREDENTIALS.sub(rf"\g<scheme>{REDACTED}@", text) if "@" in text else text


def default_filename(url: str) -> str:
    """The last path segment of a URL, as the file is named when the catalog does not say."""
    plain = _PLAIN_URL.fullmatch(url)
    path = (plain.group(2) or "") if plain is not None else urlsplit(url).path
    last = path.rpartition("/")[2]
    if not last or last == ".":
        last = PurePosixPath(path).name  # "dir/" and "dir/." name the folder "dir"
    return unquote(last)


def check_filename(name: str) -> str | None:
    """Why ``name`` is not a plain file name inside the models folder, or None when it is fine."""
    if _PLAIN_NAME.fullmatch(name) and not name.endswith((".part", ".part.json")):
        return None  # the usual case, in one match
    if not name:
        return "is empty"
    if "/" in name or "\\" in name:
        return "must be a plain file name, without '/' or '\\'"
    if name in (".", ".."):  # a ".." inside a name ("model..pt") is a plain name: "/" is refused above
        return "must not contain '..'"
    if name.startswith("."):
        return "must not start with a dot"
    if _CONTROL.search(name) or ":" in name:
        return "must not contain control characters or ':'"
    if _SURROGATE.search(name):
        return "must be text (it holds a lone surrogate such as \\ud800)"
    if len(name.encode("utf-8")) > MAX_FILENAME_BYTES:
        return f"is longer than {MAX_FILENAME_BYTES} bytes"
    if name.endswith(".part") or name.endswith(".part.json"):
        return "must not end with .part (reserved for downloads in progress)"
    return None


def _show(value: object, limit: int = 80) -> str:
    """A value as a message quotes it: repr (which escapes surrogates and control characters), cut short."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 5]}…{text[-4:]} ({len(text)} characters)"


def _text_problem(value: str, limit: int, *, multiline: bool = False) -> str | None:
    """Why ``value`` is not acceptable text for a catalog field, or None."""
    if len(value) <= limit and not (_BAD_MULTILINE if multiline else _BAD_TEXT).search(value):
        return None  # the common case, in one scan
    if len(value) > limit:
        return f"is {len(value)} characters long; at most {limit}"
    found = _SURROGATE.search(value)
    if found:
        return f"holds a lone surrogate ({found.group()!r}), which is not text"
    # What the scan above found is a surrogate or a control character: not a surrogate, so the latter.
    found = (_CONTROL_MULTILINE if multiline else _CONTROL).search(value)
    assert found is not None
    return f"holds the control character {found.group()!r}"


def _host_problem(host: str) -> str | None:
    """Why a URL's host name cannot be connected to, or None."""
    if ":" in host:
        import ipaddress

        try:
            # With its zone, if any ("fe80::1%eth0"): an empty zone or a second "%" cannot be connected to.
            ipaddress.IPv6Address(host)
        except ValueError:
            return f"has a malformed IPv6 address {_show(host)}"
        return None
    if host.isascii():
        if not _HOST.fullmatch(host) or ".." in host or host.startswith("."):
            return f"has a malformed host {_show(host)}"
        return None
    # Encoded as requests and urllib3 will encode it for the download (IDNA 2008, with UTS 46 mapping).
    import idna

    try:
        idna.encode(host, uts46=True)
        idna.encode(host.lower(), strict=True)  # labels split on "." only
    except (idna.IDNAError, UnicodeError, ValueError):
        return f"has a host name that cannot be encoded (IDNA): {_show(host)}"
    return None


def _check_url(value: object, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise CatalogError(f"{where}: must be a URL string")
    url = value.strip()
    plain = _PLAIN_URL.fullmatch(url) if len(url) <= MAX_URL else None
    if plain is not None and (plain.group(1) is None or int(plain.group(1)) <= 65535):
        return url
    problem = _text_problem(url, MAX_URL)
    if problem:
        raise CatalogError(f"{where}: URL {problem}")
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018  (raises ValueError on a port that is not a number from 0 to 65535)
    except ValueError as exc:
        # Unbalanced IPv6 brackets, a bad port: urllib refuses them here, requests would later.
        raise CatalogError(f"{where}: URL {_show(url)} is malformed: {exc}") from None
    if parts.scheme.lower() not in ("http", "https"):
        scheme = parts.scheme or "(none)"
        raise CatalogError(f"{where}: unsupported URL scheme {scheme!r} in {_show(url)}; only http and https")
    if not parts.netloc or not host:
        raise CatalogError(f"{where}: URL {_show(url)} has no host")
    problem = _host_problem(host)
    if problem:
        raise CatalogError(f"{where}: URL {problem}")
    return url


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


def _extra_problem(value: object) -> str | None:
    """A lone surrogate anywhere in a value the catalog carries along (walked without recursion)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return f"holds a lone surrogate in {_show(item)}, which is not text"
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return None


def _checkpoint(**values) -> Checkpoint:
    """A Checkpoint from checked values, made without the frozen dataclass's thirteen object.__setattr__
    calls (a third of the time a catalog of 100k entries takes to load); equal to Checkpoint(**values)."""
    entry = object.__new__(Checkpoint)
    entry.__dict__.update(values)
    return entry


def _entry(raw: object, index: int, source: str) -> Checkpoint:
    if not isinstance(raw, dict):
        raise CatalogError(f"{source}: entries[{index}] must be an object")
    raw_id = raw.get("id")
    # The entry is named by its id where that is a short string (repr escapes anything odd in it).
    name = raw_id if isinstance(raw_id, str) and 0 < len(raw_id) <= MAX_ID else f"#{index + 1}"
    where = f"{source}: entry {name!r}"
    for key in _REQUIRED:
        value = raw.get(key)
        if value is None or value == "":
            raise CatalogError(f"{where}: field {key!r} is required")
    if not isinstance(raw_id, str) or len(raw_id) > MAX_ID or not _ID.fullmatch(raw_id):
        raise CatalogError(
            f"{where}: field 'id' must be letters, digits, '.', '_', '+' or '-', at most {MAX_ID} of them"
        )
    title = raw["title"]
    if not isinstance(title, str):
        raise CatalogError(f"{where}: field 'title' must be a string")
    problem = _text_problem(title, MAX_TEXT)
    if problem:
        raise CatalogError(f"{where}: field 'title' {problem}")
    group = raw["group"]
    if not isinstance(group, list) or not group or len(group) > MAX_GROUP_DEPTH:
        raise CatalogError(
            f"{where}: field 'group' must be a list of 1 to {MAX_GROUP_DEPTH} strings (the tree path)"
        )
    for part in group:
        if not isinstance(part, str) or not part:
            raise CatalogError(f"{where}: field 'group' must be a non-empty list of strings (the tree path)")
        problem = _text_problem(part, MAX_TEXT)
        if problem:
            raise CatalogError(f"{where}: field 'group': the name {_show(part)} {problem}")
    url = _check_url(raw["url"], f"{where}, field 'url'")
    mirrors = raw.get("mirrors") or []
    if not isinstance(mirrors, list):
        raise CatalogError(f"{where}: field 'mirrors' must be a list of URLs")
    if len(mirrors) > MAX_MIRRORS:
        raise CatalogError(f"{where}: field 'mirrors' lists {len(mirrors)} URLs; at most {MAX_MIRRORS}")
    mirrors = [_check_url(m, f"{where}, field 'mirrors'") for m in mirrors]
    size = raw.get("size")
    if size is not None and (type(size) is not int or not 0 <= size <= MAX_SIZE):  # bool is not a size
        raise CatalogError(
            f"{where}: field 'size' must be a whole number of bytes from 0 to {MAX_SIZE} (1 PiB), or null"
        )
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
    for key, limit in (("base", MAX_ID), ("params", MAX_TEXT), ("description", MAX_DESCRIPTION)):
        value = raw.get(key)
        if value is None:
            continue
        if not isinstance(value, str):
            raise CatalogError(f"{where}: field {key!r} must be a string or null")
        problem = _text_problem(value, limit, multiline=key == "description")
        if problem:
            raise CatalogError(f"{where}: field {key!r} {problem}")
    base = raw.get("base")
    if base is not None and not _ID.fullmatch(base):
        raise CatalogError(f"{where}: field 'base' must be the id of another entry, found {_show(base)}")
    if base == raw_id:
        raise CatalogError(f"{where}: field 'base' names the entry itself")
    expect = _check_expect(raw.get("expect"), where)
    extra = {} if raw.keys() <= _KNOWN else {k: v for k, v in raw.items() if k not in _KNOWN}
    for key, value in extra.items():
        problem = _extra_problem(key) or _extra_problem(value)
        if problem:
            raise CatalogError(f"{where}: field {_show(key)} {problem}")
    return _checkpoint(
        id=raw_id,
        title=title,
        group=tuple(group),
        url=url,
        size=size,
        sha256=sha.lower() if sha else None,
        mirrors=tuple(mirrors),
        filename=filename,
        base=base,
        params=raw.get("params"),
        description=raw.get("description") or "",
        source=source,
        extra=extra,
        expect=expect,
    )


def _read(path: Path) -> tuple[str, list[Checkpoint]]:
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise CatalogError(f"{path}: larger than {MAX_FILE_BYTES // 1024 // 1024} MiB; not a catalog")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CatalogError(f"{path}: catalog file not found") from None
    except CatalogError:
        raise  # a ValueError too, but already in the user's words
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogError(f"{path}: cannot read catalog: {exc}") from None
    except ValueError as exc:  # a path with a NUL byte
        raise CatalogError(f"{path!r}: cannot read catalog: {exc}") from None
    data = _parse(path, text)
    if not isinstance(data, dict):
        raise CatalogError(f"{path}: the catalog must be a JSON object with 'format' and 'entries'")
    fmt = data.get("format")
    if isinstance(fmt, bool) or fmt != FORMAT:
        raise CatalogError(f"{path}: field 'format' must be {FORMAT} (found {_show(fmt)})")
    entries = data.get("entries")
    if not isinstance(entries, list):
        raise CatalogError(f"{path}: field 'entries' must be a list")
    given = data.get("title")
    title = given if isinstance(given, str) else path.stem
    problem = _text_problem(title, MAX_TEXT)
    if problem:
        raise CatalogError(f"{path}: field 'title' {problem}")
    source = str(path)
    return title, [_entry(raw, i, source) for i, raw in enumerate(entries)]


def _parse(path: Path, text: str) -> object:
    """The JSON in ``text``; whatever the json module raises becomes a CatalogError naming the place."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CatalogError(
            f"{path}: line {exc.lineno}, column {exc.colno}: invalid JSON: {exc.msg}"
        ) from None
    except RecursionError:
        raise CatalogError(f"{path}: nested too deeply (thousands of [ or {{ inside each other)") from None
    except ValueError as exc:
        # Python refuses to convert an integer of more than 4300 digits (CVE-2020-10735).
        long_number = re.search(r"\d{1000,}", text)
        if long_number is None:
            raise CatalogError(f"{path}: invalid JSON: {exc}") from None
        line = text.count("\n", 0, long_number.start()) + 1
        digits = long_number.end() - long_number.start()
        raise CatalogError(f"{path}: line {line}: a number of {digits} digits; not a catalog") from None


def load_catalog(paths: Iterable[Path | str] | None = None) -> Catalog:
    """Load and validate catalog files (the built-in one when ``paths`` is empty)."""
    with no_cycle_collection():
        return _load_catalog(paths)


@contextlib.contextmanager
def no_cycle_collection() -> Iterator[None]:
    """Python's cycle collector paused while many objects that form no cycles are made.

    A catalog is strings, numbers, tuples and dicts referring only downwards; with 100k entries the
    collector's passes over them (started by the count of new objects, not by any garbage) took a third
    of the time to load it. Reference counting still frees everything as usual.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _load_catalog(paths: Iterable[Path | str] | None) -> Catalog:
    files = [Path(p) for p in (paths or [])] or [builtin_catalog_path()]
    titles: list[str] = []
    entries: list[Checkpoint] = []
    seen: dict[str, Checkpoint] = {}
    source_titles: dict[str, str] = {}
    for path in files:
        title, loaded = _read(path)
        titles.append(title)
        source_titles[str(path)] = title
        for entry in loaded:
            if entry.id in seen:
                first = seen[entry.id].source
                raise CatalogError(f"{path}: entry {entry.id!r}: field 'id' is not unique (also in {first})")
            seen[entry.id] = entry
            entries.append(entry)
    _check_consistency(entries)
    return Catalog(title=" + ".join(titles), entries=entries, sources=files, source_titles=source_titles)


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
