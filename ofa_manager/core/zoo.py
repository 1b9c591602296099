"""Catalogs made from checkpoint lists written as Markdown or HTML pages, kept in the user's catalogs folder.

A page such as OFA's checkpoints.md is read for its links. A link counts as a checkpoint when the last
segment of its path ends in a file extension of checkpoints or archives (``FILE_EXTENSIONS``); images,
web pages and repository pages are left out and reported. Headings give the groups (nested, under a top
level named for the catalog), "(~470M parameters)" or a "930M" / "1.2B" table cell gives the size of the
model. The result is an ordinary catalog file (format 1), checked by the real loader before it is kept.

Plain Python: the command line and the window call the same functions.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urljoin, urlsplit

from ofa_manager.core import settings as settings_module
from ofa_manager.core.catalog import (
    MAX_ID,
    CatalogError,
    check_filename,
    default_filename,
    display_url,
    load_catalog,
)
from ofa_manager.core.durable import atomic_write_json
from ofa_manager.core.resources import builtin_catalog_path

# What a checkpoint file's name ends with (the longest first, so "x.tar.gz" is an archive, not ".gz").
FILE_EXTENSIONS = (
    ".tar.gz",
    ".safetensors",
    ".ckpt",
    ".pth",
    ".pt",
    ".bin",
    ".zip",
    ".tar",
    ".tgz",
    ".gz",
    ".npz",
    ".h5",
    ".onnx",
    ".pkl",
)
_IMAGE = (".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp", ".bmp", ".ico")
MAX_DOCUMENT_BYTES = 16 * 1024 * 1024
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
# Link text that says nothing about the checkpoint: the row's first cell names it instead.
_GENERIC = frozenset(("download", "link", "here", "ckpt", "checkpoint", "weights", "model", "url", "file"))
# "(~470M parameters)", "~1.2B params", "930M" alone in a table cell.
_PARAMS = re.compile(r"~?\s*(\d+(?:\.\d+)?)\s*([KMBT])\s*(?:parameters|params)\b", re.IGNORECASE)
_PARAMS_CELL = re.compile(r"~?\s*(\d+(?:\.\d+)?)\s*([KMBT])", re.IGNORECASE)
_SCALE = {"K": 10**3, "M": 10**6, "B": 10**9, "T": 10**12}


class ZooError(ValueError):
    """A document or catalog name that cannot be used; the message says why (nothing was written)."""


@dataclass
class Link:
    """One link found in a document, with where it stands."""

    text: str
    href: str
    headings: tuple[tuple[int, str], ...]  # (level, text) of each heading above it
    context: str = ""  # the list item, table row or paragraph around it
    cells: tuple[str, ...] = ()  # the table row's cells, when it is in one


@dataclass
class Imported:
    """What an import made: the catalog (not yet written) and the links left out, with why."""

    name: str
    catalog: dict
    skipped: list[tuple[str, str]] = field(default_factory=list)
    path: Path | None = None


# -- the user's catalogs folder ---------------------------------------------------------------------


def catalogs_dir() -> Path:
    return settings_module.config_dir() / "catalogs"


def catalog_path(name: str) -> Path:
    check_name(name)
    return catalogs_dir() / f"{name}.json"


def check_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise ZooError(
            f"catalog name {name!r} must be letters, digits, '.', '_' or '-' (at most 64, starting with "
            f"a letter or digit)"
        )
    return name


def user_catalogs() -> list[Path]:
    """The imported catalog files, by name."""
    folder = catalogs_dir()
    try:
        return sorted(p for p in folder.iterdir() if p.suffix == ".json" and _NAME.fullmatch(p.stem))
    except OSError:
        return []


def default_catalog_paths(disabled: list[str] | None = None) -> list[Path]:
    """The catalogs used when none is named: the built-in one, then each enabled imported one."""
    if disabled is None:
        disabled = settings_module.load().disabled_catalogs
    off = set(disabled)
    return [builtin_catalog_path(), *(p for p in user_catalogs() if p.stem not in off)]


def list_catalogs(disabled: list[str] | None = None) -> list[dict]:
    """Name, title, entries, source and enabled of each catalog in use or available."""
    if disabled is None:
        disabled = settings_module.load().disabled_catalogs
    off = set(disabled)
    rows = []
    for path in [builtin_catalog_path(), *user_catalogs()]:
        builtin = path == builtin_catalog_path()
        row: dict[str, object] = {"name": "built-in" if builtin else path.stem, "path": str(path)}
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            row["title"] = str(data.get("title", path.stem))
            row["entries"] = len(data.get("entries", []))
            row["source"] = str(data.get("source", "")) if not builtin else "built in"
        except (OSError, ValueError, AttributeError, TypeError) as exc:
            row.update(title="", entries=0, source="", problem=f"cannot be read: {exc}")
        row["enabled"] = builtin or path.stem not in off
        rows.append(row)
    return rows


def remove_catalog(name: str) -> Path:
    path = catalog_path(name)
    try:
        path.unlink()
    except FileNotFoundError:
        known = ", ".join(p.stem for p in user_catalogs()) or "none"
        raise ZooError(f"no imported catalog named {name!r} (imported: {known})") from None
    return path


# -- reading documents -------------------------------------------------------------------------------


def read_source(source: str) -> tuple[bytes, str, str]:
    """The bytes of a file or URL, the address relative links resolve against, and its content type."""
    if re.match(r"(?i)https?://", source):
        return fetch(source)
    path = Path(source).expanduser()
    try:
        if path.stat().st_size > MAX_DOCUMENT_BYTES:
            raise ZooError(f"{source}: larger than {MAX_DOCUMENT_BYTES // 2**20} MiB; not a checkpoint list")
        return path.read_bytes(), "", ""
    except FileNotFoundError:
        raise ZooError(f"{source}: no such file") from None
    except OSError as exc:
        raise ZooError(f"{source}: cannot be read: {exc.strerror or exc}") from None


def fetch(url: str) -> tuple[bytes, str, str]:
    """GET a page with the project's HTTP session; relative links resolve against the final URL."""
    import requests

    from ofa_manager.core.http import make_session

    session = make_session(pool=1)
    try:
        with session.get(url, timeout=30, stream=True) as response:
            if response.status_code >= 400:
                raise ZooError(f"{display_url(url)}: the server answered {response.status_code}")
            body = bytearray()
            for chunk in response.iter_content(65536):
                body += chunk
                if len(body) > MAX_DOCUMENT_BYTES:
                    raise ZooError(
                        f"{display_url(url)}: larger than {MAX_DOCUMENT_BYTES // 2**20} MiB; "
                        f"not a checkpoint list"
                    )
            return bytes(body), response.url, response.headers.get("Content-Type", "")
    except requests.RequestException as exc:
        raise ZooError(f"{display_url(url)}: cannot be fetched: {exc}") from None
    finally:
        session.close()


def decode(data: bytes, where: str) -> str:
    if not data.strip():
        raise ZooError(f"{where}: the document is empty")
    if b"\x00" in data[:65536]:
        raise ZooError(f"{where}: not a text document (it holds binary data); expected Markdown or HTML")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ZooError(f"{where}: not UTF-8 text; expected a Markdown or HTML page") from None


def is_html(text: str, where: str = "", content_type: str = "") -> bool:
    if "html" in content_type.lower():
        return True
    if where.lower().endswith((".html", ".htm")):
        return True
    if where.lower().endswith((".md", ".markdown", ".txt")):
        return False
    head = text.lstrip()[:1000].lower()
    return head.startswith(("<!doctype html", "<html")) or "<body" in head


_HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)\s*$")
# [text](url), [text]( url ), [text](<url>), [text](url "title"); text may hold [brackets], url (parens).
_MD_LINK = re.compile(
    r"!?\[((?:[^\[\]]|\[[^\]]*\])*)\]"
    r"\(\s*<?([^()\s>]*(?:\([^()]*\)[^()\s>]*)*)>?(?:\s+[\"'][^\"']*[\"'])?\s*\)"
)
_A_TAG = re.compile(r"<a\s[^>]*?href\s*=\s*([\"'])(.*?)\1[^>]*>(.*?)</a\s*>", re.IGNORECASE | re.DOTALL)
_AUTOLINK = re.compile(r"<(https?://[^>\s]+)>")
_TAG = re.compile(r"<[^>]+>")


def parse_markdown(text: str) -> list[Link]:
    """Links in a Markdown page: ``[text](url)``, ``<a href>`` (as GitHub pages mix them), ``<url>``."""
    links: list[Link] = []
    headings: list[tuple[int, str]] = []
    lines = text.splitlines()
    fence = False
    for number, line in enumerate(lines):
        if line.lstrip().startswith(("```", "~~~")):
            fence = not fence
            continue
        if fence:
            continue
        heading = _HEADING.match(line)
        level_text = None
        if heading:
            level_text = (len(heading.group(1)), _plain(heading.group(2)))
        elif (
            number + 1 < len(lines)
            and line.strip()
            and _SETEXT.match(lines[number + 1])
            and not line.lstrip().startswith(("|", "*", "-", "+"))
        ):
            level_text = (1 if lines[number + 1].strip()[0] == "=" else 2, _plain(line))
        if level_text is not None:
            headings = [h for h in headings if h[0] < level_text[0]] + [level_text]
            continue
        cells: tuple[str, ...] = ()
        stripped = line.strip()
        if stripped.startswith("|") or (stripped.count("|") >= 2 and not stripped.startswith(("*", "-"))):
            cells = tuple(c.strip() for c in stripped.strip("|").split("|"))
        found: list[tuple[int, str, str]] = []
        for match in _A_TAG.finditer(line):
            found.append((match.start(), match.group(3), match.group(2)))
        for match in _MD_LINK.finditer(line):
            if match.group(0).startswith("!"):
                found.append((match.start(), "image", match.group(2)))  # an image is never a checkpoint
            else:
                found.append((match.start(), match.group(1), match.group(2)))
        for match in _AUTOLINK.finditer(line):
            found.append((match.start(), "", match.group(1)))
        for _, link_text, href in sorted(found, key=lambda item: item[0]):
            links.append(
                Link(
                    _plain(link_text),
                    href,
                    tuple(headings),
                    context=_plain(line),
                    cells=tuple(_plain(c) for c in cells),
                )
            )
    return links


def _plain(text: str) -> str:
    """Markdown or HTML text as words: tags, links' targets, emphasis and extra spaces dropped."""
    text = _MD_LINK.sub(lambda m: m.group(1), text)
    text = _TAG.sub(" ", text)
    text = re.sub(r"[*_`]+", "", text)
    import html

    return " ".join(html.unescape(text).split())


class _PageParser(HTMLParser):
    """Links of an HTML page with the headings above them and the block (li, tr, p) around them."""

    _BLOCKS = frozenset(("li", "tr", "p", "dd", "dt", "div", "td", "th"))

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[Link] = []
        self.headings: list[tuple[int, str]] = []
        self.title = ""
        self._heading: tuple[int, list[str]] | None = None
        self._anchor: tuple[str, list[str], list[Link]] | None = None
        self._in_title = False
        self._blocks: list[tuple[str, list[str], list[Link]]] = []
        self._rows: list[list[str]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if re.fullmatch(r"h[1-6]", tag):
            self._heading = (int(tag[1]), [])
        elif tag == "title":
            self._in_title = True
        elif tag == "a":
            href = dict(attrs).get("href")
            if href is not None:
                self._anchor = (href, [], [])
        elif tag == "img" and self._anchor is not None:
            self._anchor[1].append(dict(attrs).get("alt") or "")
        if tag == "tr":
            self._rows.append([])
        if tag in ("td", "th"):
            self._cell = []
        if tag in self._BLOCKS:
            self._blocks.append((tag, [], []))

    def handle_endtag(self, tag: str) -> None:
        if re.fullmatch(r"h[1-6]", tag) and self._heading is not None:
            level, words = self._heading
            text = " ".join(" ".join(words).split())
            if text:
                self.headings = [h for h in self.headings if h[0] < level] + [(level, text)]
            self._heading = None
        elif tag == "title":
            self._in_title = False
        elif tag == "a" and self._anchor is not None:
            href, words, _ = self._anchor
            cells = tuple(self._rows[-1]) if self._rows else ()
            link = Link(" ".join(" ".join(words).split()), href, tuple(self.headings), cells=cells)
            self.links.append(link)
            for block in self._blocks:
                block[2].append(link)
            self._anchor = None
        if tag in ("td", "th") and self._cell is not None and self._rows:
            self._rows[-1].append(" ".join(" ".join(self._cell).split()))
            self._cell = None
        if tag in self._BLOCKS:
            while self._blocks:
                name, words, links = self._blocks.pop()
                context = " ".join(" ".join(words).split())
                for link in links:
                    if not link.context:
                        link.context = context
                if tag == "tr" and self._rows:
                    row = tuple(self._rows[-1])
                    for link in links:
                        link.cells = row
                if name == tag:
                    break
        if tag == "tr" and self._rows:
            self._rows.pop()

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        if self._heading is not None:
            self._heading[1].append(data)
        if self._anchor is not None:
            self._anchor[1].append(data)
        if self._cell is not None:
            self._cell.append(data)
        for block in self._blocks:
            block[1].append(data)


def parse_html(text: str) -> tuple[list[Link], str]:
    parser = _PageParser()
    parser.feed(text)
    parser.close()
    return parser.links, " ".join(parser.title.split())


# -- from links to a catalog -------------------------------------------------------------------------


def file_link_problem(url: str) -> str | None:
    """Why a link is not a checkpoint file (None when it is one), by the last segment of its path."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return "not a web address"
    last = unquote(PurePosixPath(parts.path).name).lower()
    if last.endswith(FILE_EXTENSIONS):
        return None
    if last.endswith(_IMAGE):
        return "an image, not a checkpoint file"
    repository_host = parts.netloc.lower() in ("github.com", "gitlab.com", "huggingface.co")
    if repository_host and "/resolve/" not in parts.path and "/raw/" not in parts.path:
        return "a repository page, not a file"
    if not last or "." not in last or last.endswith((".html", ".htm", ".php", ".asp", ".aspx", ".md")):
        return "a web page, not a file"
    return f"its name does not end in a checkpoint file extension ({', '.join(FILE_EXTENSIONS)})"


def parse_params(text: str, cells: tuple[str, ...] = ()) -> tuple[str, int] | None:
    """ "~470M parameters" or a table cell "930M" / "1.2B" as ("470M", 470000000)."""
    match = _PARAMS.search(text)
    if match is None:
        for cell in cells:
            match = _PARAMS_CELL.fullmatch(cell.strip())
            if match is not None:
                break
    if match is None:
        return None
    number, unit = match.group(1), match.group(2).upper()
    count = round(float(number) * _SCALE[unit])
    return f"{number}{unit}", count


def slug(text: str) -> str:
    out = re.sub(r"[^A-Za-z0-9._+-]+", "-", text.strip().lower())
    out = re.sub(r"-{2,}", "-", out).strip("-._+")
    return out[:MAX_ID].rstrip("-._+")


def build_catalog(
    links: list[Link],
    *,
    name: str,
    title: str,
    source: str,
    base_url: str = "",
    taken_ids: set[str] | frozenset[str] = frozenset(),
) -> Imported:
    """A catalog (format 1) of the links to checkpoint files; the rest are listed in ``skipped``."""
    entries: list[dict] = []
    skipped: list[tuple[str, str]] = []
    used = set(taken_ids)
    h1s = {text for level, text in (h for link in links for h in link.headings) if level == 1}
    for link in links:
        href = link.href.strip()  # hrefs with stray spaces, as published lists have them
        if not href or href.startswith(("#", "mailto:", "javascript:")):
            continue
        url = urljoin(base_url, href) if base_url else href
        if not re.match(r"(?i)https?://", url):
            skipped.append((href, "a relative link, and the document has no address to resolve it against"))
            continue
        problem = file_link_problem(url)
        if problem:
            skipped.append((url, problem))
            continue
        filename = default_filename(url)
        if check_filename(filename):
            skipped.append((url, f"its file name {filename!r} cannot be used"))
            continue
        text = link.text
        if not text or text.lower() in _GENERIC or text.lower().startswith("download"):
            first = next((c for c in link.cells if c and c != text and "http" not in c), "")
            text = first or filename
        # "Pre-trained checkpoint (OFA-Large)": the id is the name in brackets, as in the built-in catalog.
        named = re.search(r"checkpoint\s*\(([^()]{1,80})\)\s*$", text, re.IGNORECASE)
        groups = [h for level, h in link.headings if not (level == 1 and len(h1s) == 1)]
        wanted = slug(named.group(1) if named else text) or slug(PurePosixPath(filename).stem)
        entry_id = _unique(wanted or "checkpoint", used)
        row: dict = {
            "id": entry_id,
            "title": text[:1000],
            "group": [title, *groups][:32],
            "url": url,
            "size": None,
            "sha256": None,
            "mirrors": [],
            "filename": None,
            "base": None,
        }
        params = parse_params(link.context or text, link.cells)
        if params is not None:
            row["params"], row["parameters"] = params
        if link.context and link.context != text:
            row["description"] = link.context[:10000]
        entries.append(row)
    catalog = {"format": 1, "title": title, "source": source, "imported_at": _now(), "entries": entries}
    return Imported(name=name, catalog=catalog, skipped=skipped)


def _unique(base: str, used: set[str]) -> str:
    """``base`` (a slug, or "checkpoint": it starts with a letter or digit), numbered when taken."""
    candidate, number = base, 2
    while candidate in used:
        suffix = f"-{number}"
        candidate = base[: MAX_ID - len(suffix)] + suffix
        number += 1
    used.add(candidate)
    return candidate


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def default_name(source: str) -> str:
    parts = urlsplit(source)
    stem = PurePosixPath(parts.path).stem if parts.path.strip("/") else parts.netloc
    if not re.match(r"(?i)https?://", source):
        stem = Path(source).stem
    return slug(stem)[:64].strip("-._") or "imported"


def import_document(
    source: str,
    *,
    name: str | None = None,
    replace: bool = False,
    base: str = "",
    disabled: list[str] | None = None,
) -> Imported:
    """Read a Markdown or HTML checkpoint list (a file or a URL), write it as catalog NAME, return it.

    Nothing is written unless the catalog loads together with the catalogs already in use.
    """
    name = check_name(name or default_name(source))
    path = catalog_path(name)
    if path.exists() and not replace:
        raise ZooError(f"a catalog named {name!r} exists already ({path}); choose --name or use --replace")
    data, base_url, content_type = read_source(source)
    base_url = base or base_url  # a page saved to a file resolves its links against where it came from
    where = display_url(base_url or source)
    text = decode(data, where)
    title = ""
    if is_html(text, base_url or source, content_type):
        links, title = parse_html(text)
    else:
        links = parse_markdown(text)
        h1 = [text for level, text in (h for link in links for h in link.headings) if level == 1]
        title = h1[0] if len(set(h1)) == 1 else ""
    if not links:
        raise ZooError(f"{where}: no links found; expected a Markdown or HTML list of checkpoint links")
    title = title or name
    others = [p for p in default_catalog_paths(disabled) if p != path]
    taken = {entry.id for entry in load_catalog(others)}
    source_text = display_url(base_url) if base_url else str(Path(source).expanduser().resolve())
    result = build_catalog(
        links, name=name, title=title, source=source_text, base_url=base_url, taken_ids=taken
    )
    if not result.catalog["entries"]:
        reasons = "; ".join(f"{display_url(u)}: {why}" for u, why in result.skipped[:5])
        raise ZooError(
            f"{where}: none of its {len(links)} links is a checkpoint file (a name ending in "
            f"{', '.join(FILE_EXTENSIONS)}); nothing imported. {reasons}"
        )
    # Checked by the real loader, with the catalogs in use, before it takes its name.
    path.parent.mkdir(parents=True, exist_ok=True)
    trial = path.with_name(f".{name}.checking.json")
    atomic_write_json(trial, result.catalog, durable=False)
    try:
        load_catalog([*others, trial])
    except CatalogError as exc:
        raise ZooError(f"{where}: the catalog made from it does not load: {exc}") from None
    finally:
        trial.unlink(missing_ok=True)
    atomic_write_json(path, result.catalog)
    result.path = path
    return result
