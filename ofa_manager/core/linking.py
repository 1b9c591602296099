"""Put checkpoints where a project's scripts expect them: links into a project folder, and a scan of
its shell scripts for the checkpoint paths they read.

Linking (``link``) never replaces anything that is not our own link. Our own link is, for the file
the entry is linked from (the models folder's copy, else the shared store's, see
``Library.local_or_store_path``):

- a symbolic link whose target is that file, or any file in the models folder or a shared store (a
  link made earlier to another checkpoint, or to a file since deleted: re-pointed, never followed);
- a hard link: a regular file with the same device and inode as that file;
- a copy: a regular file with the same size and modification time (``link`` copies with the
  modification time kept). Only a copy of our file made with its time kept can match both.

Anything else at the name (a user's file, a folder, a link elsewhere) is refused and named. A link
of any of the three kinds satisfies a request of any mode: it is reported as already there.

Scanning (``scan``) reads ``*.sh`` files, split into commands and words as bash would (see
core.shell_words: quotes, escapes, line continuations, comments, here documents). ``NAME=value`` (also
after ``export``/``local``/``declare``/``readonly``) sets a variable that later ``$NAME``, ``${NAME}``
and ``${NAME:-default}`` in the same script expand to (single quotes stop that, as in the shell;
``${NAME:-default}`` of a variable the script does not set is its default, so a path a user may
override from the environment is still found); ``$0``, ``$(dirname "$0")``, ``$(cd "$(dirname
"${BASH_SOURCE[0]}")" && pwd)`` and ``$PWD`` stand for the script's own folder; other variables stay as
written. A checkpoint path is any value (of an assignment, a ``--flag=value`` or ``--flag value``, a
bare word, or a word of a here document's text) ending in a checkpoint suffix (``.pt``, ``.pth``,
``.ckpt``, ``.bin``, ``.safetensors``); values are cut at spaces (a variable holding several
arguments) and commas (``--combine-adapter-path=a,b``). Relative paths are resolved against the
script's folder, where π-Tuning's and OFA's scripts are run from.

Each path found is classified, in this order:

``produced``  under a folder the project's scripts write to (``save_dir=``, ``--save-dir``,
              ``output_dir=``, ``--output-dir``, ``save_path=``, ``--save-path``, in any script), or
              named as fairseq names its outputs (``checkpoint_best.pt``, ``checkpoint_last.pt``,
              ``checkpointN.pt``, ``checkpoint_N_M.pt``): the project makes it, nothing to fetch;
``catalog``   its file name is a catalog entry's alias (the entry's ``aliases`` list, the names
              scripts use for it) or file name: satisfied by that entry, downloaded or not, and
              ``linked`` when our own link is already there;
``member``    no entry has its file name, but an archive entry (``.zip``, see core.archives) holds a
              member whose path is the end of it (``vqgan/last.ckpt`` for
              ``../../checkpoints/vqgan/last.ckpt``; at least two segments of it, or the member's whole
              path): satisfied by that member, linked into the archive's unpacked folder. Members are
              known from the unpack record, the downloaded archive's directory, or the catalog entry's
              ``members`` list; a path of any suffix (a ``model.yaml`` beside a ``last.ckpt``) is
              matched against them;
``present``   something that is not our link is already there: left alone;
``unknown``   none of these (also a path that uses a variable the script does not set).
"""

from __future__ import annotations

import enum
import errno
import os
import re
import shutil
import stat
from dataclasses import dataclass, field
from pathlib import Path

from ofa_manager.core import shell_words
from ofa_manager.core.catalog import Catalog, Checkpoint, check_filename
from ofa_manager.core.library import Library
from ofa_manager.core.safe_files import describe_kind, path_kind

MODES = ("symlink", "hardlink", "copy")
CHECKPOINT_SUFFIXES = (".pt", ".pth", ".ckpt", ".bin", ".safetensors")
SAVE_DIR_NAMES = frozenset({"save_dir", "save_path", "output_dir"})
SAVE_DIR_FLAGS = frozenset({"--save-dir", "--save-path", "--output-dir"})
_PRODUCED_NAME = re.compile(r"checkpoint(_best|_last|\d+|_\d+_\d+)\.pt")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# A here document's text is cut into words at spaces, quotes and the punctuation around paths in code.
_HEREDOC_SPLIT = re.compile(r"[\s'\"=:,;()\[\]]+")
_DECLARERS = frozenset({"export", "local", "declare", "readonly"})
_NO_HARD_LINKS = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK, errno.ENOSYS}
MAX_SCRIPT_BYTES = 1024 * 1024
MAX_SCRIPTS = 2000


class Outcome(str, enum.Enum):
    CREATED = "created"
    REPLACED = "replaced"  # our own link to another (or a deleted) file, now pointing at this one
    ALREADY = "already-ours"
    REFUSED = "refused"  # something that is not our link is at the name: left alone
    NOT_HERE = "not-downloaded"  # neither in the models folder nor in a shared store
    FAILED = "failed"  # the link could not be made (e.g. a hard link across volumes)


@dataclass
class LinkResult:
    entry_id: str
    path: Path  # the name in the project
    target: Path | None  # the file it stands for
    outcome: Outcome
    mode: str
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.outcome in (Outcome.CREATED, Outcome.REPLACED, Outcome.ALREADY)

    def as_json(self) -> dict:
        return {
            "id": self.entry_id,
            "path": str(self.path),
            "target": str(self.target) if self.target else None,
            "outcome": self.outcome.value,
            "mode": self.mode,
            "reason": self.reason,
        }


class LinkNameError(ValueError):
    """A link name that is not a plain file name."""


def link(
    library: Library, entry: Checkpoint, into: Path | str, name: str | None = None, mode: str = "symlink"
) -> LinkResult:
    """Make ``into/name`` (name: the entry's file name by default) stand for the entry's file."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    name = name if name is not None else entry.filename
    problem = check_filename(name)
    if problem:
        raise LinkNameError(f"link name {name!r} {problem}")
    dest = Path(os.path.abspath(Path(into).expanduser())) / name
    source = library.local_or_store_path(entry)
    if source is None:
        state = library.status(entry).state.value
        why = f"{entry.id} is not downloaded ({state}); `ofa-manager download {entry.id}` fetches it"
        return LinkResult(entry.id, dest, None, Outcome.NOT_HERE, mode, why)
    return _link_file(library, entry.id, source, dest, mode)


def link_member(
    library: Library,
    entry: Checkpoint,
    member: str,
    into: Path | str,
    name: str | None = None,
    mode: str = "symlink",
) -> LinkResult:
    """Make ``into/name`` (name: the member's file name) stand for a member of the entry's unpacked
    archive (see core.archives); the same rules as ``link``."""
    from ofa_manager.core import archive_records

    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    name = name if name is not None else member.rsplit("/", 1)[-1]
    problem = check_filename(name)
    if problem:
        raise LinkNameError(f"link name {name!r} {problem}")
    dest = Path(os.path.abspath(Path(into).expanduser())) / name
    folder = archive_records.unpacked_folder(library, entry)
    known = archive_records.read_record(library, entry)
    if folder is None or known is None:
        why = f"{entry.id} is not unpacked; `ofa-manager unpack {entry.id}` unpacks it"
        return LinkResult(entry.id, dest, None, Outcome.NOT_HERE, mode, why)
    if member not in {m.name for m in known["members"]}:
        return LinkResult(entry.id, dest, None, Outcome.FAILED, mode, f"{entry.id} holds no {member}")
    return _link_file(library, entry.id, folder.joinpath(*member.split("/")), dest, mode)


def _link_file(library: Library, entry_id: str, source: Path, dest: Path, mode: str) -> LinkResult:
    owned, why = _ours(library, dest, source)
    if owned == "same":
        return LinkResult(entry_id, dest, source, Outcome.ALREADY, mode, why)
    if owned == "foreign":
        return LinkResult(entry_id, dest, source, Outcome.REFUSED, mode, why)
    if os.path.lexists(dest.parent) and not dest.parent.is_dir():
        why = f"{dest.parent} is {describe_kind(path_kind(dest.parent))}, not a folder"
        return LinkResult(entry_id, dest, source, Outcome.FAILED, mode, why)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        if owned == "ours-elsewhere":
            _replace_symlink(source, dest, mode)
            return LinkResult(entry_id, dest, source, Outcome.REPLACED, mode, why)
        _create(source, dest, mode)
    except FileExistsError:
        # Something appeared at the name since it was looked at: it is not ours, it stays.
        kind = describe_kind(path_kind(dest))
        return LinkResult(entry_id, dest, source, Outcome.REFUSED, mode, f"{kind} is there; left alone")
    except OSError as exc:
        why = exc.strerror or str(exc)
        if mode == "hardlink" and exc.errno in _NO_HARD_LINKS:
            why = f"a hard link cannot be made here ({why}); use --mode symlink or --mode copy"
        return LinkResult(entry_id, dest, source, Outcome.FAILED, mode, why)
    return LinkResult(entry_id, dest, source, Outcome.CREATED, mode)


def _ours(library: Library, dest: Path, source: Path) -> tuple[str, str]:
    """("free" | "same" | "ours-elsewhere" | "foreign", why) for what is at ``dest``."""
    try:
        st = os.lstat(dest)
    except (FileNotFoundError, NotADirectoryError):
        return "free", ""
    if stat.S_ISLNK(st.st_mode):
        target = os.readlink(dest)
        absolute = Path(os.path.normpath(os.path.join(dest.parent, target)))
        if absolute == Path(os.path.normpath(source)):
            return "same", "our symbolic link is there"
        # In the models folder (or a store), or in a source host's folder there (core/names.py), or
        # anywhere in the models folder (an archive's unpacked folder, core/archives.py).
        places = (library.root, *library.stores)
        near = any(folder in (absolute.parent, absolute.parent.parent) for folder in places)
        if near or absolute.is_relative_to(library.root):
            return "ours-elsewhere", f"our link pointed at {absolute}"
        return "foreign", f"a symbolic link to {target} is there, not ours; left alone"
    if stat.S_ISREG(st.st_mode):
        try:
            src = os.stat(source)
        except OSError as exc:
            return "foreign", f"{source}: {exc.strerror or exc}"
        if (st.st_dev, st.st_ino) == (src.st_dev, src.st_ino):
            return "same", "our hard link is there"
        if st.st_size == src.st_size and st.st_mtime_ns == src.st_mtime_ns:
            return "same", "our copy is there"
        return "foreign", "a file that is not our link is there; left alone"
    return "foreign", f"{describe_kind(path_kind(dest))} is there; left alone"


def _create(source: Path, dest: Path, mode: str) -> None:
    """Make the link; never replaces what is at ``dest`` (FileExistsError when something is)."""
    if mode == "symlink":
        os.symlink(source, dest)
    elif mode == "hardlink":
        os.link(source, dest)
    else:
        temporary = dest.with_name(f".{dest.name}.linking")
        try:
            shutil.copy2(source, temporary, follow_symlinks=False)
            _place_new(temporary, dest)
        finally:
            if os.path.lexists(temporary):
                os.unlink(temporary)


def _place_new(temporary: Path, dest: Path) -> None:
    """Give the complete copy its name without replacing anything there."""
    try:
        os.link(temporary, dest)  # fails if the name was taken meanwhile
    except OSError as exc:
        if exc.errno not in _NO_HARD_LINKS:
            raise
        if os.path.lexists(dest):
            raise FileExistsError(errno.EEXIST, "exists", str(dest)) from None
        os.replace(temporary, dest)


def _replace_symlink(source: Path, dest: Path, mode: str) -> None:
    """Our own symbolic link to another file becomes the requested link, atomically."""
    temporary = dest.with_name(f".{dest.name}.linking")
    if os.path.lexists(temporary):
        os.unlink(temporary)
    try:
        if mode == "symlink":
            os.symlink(source, temporary)
        elif mode == "hardlink":
            os.link(source, temporary)
        else:
            shutil.copy2(source, temporary, follow_symlinks=False)
        if not os.path.islink(dest):  # it changed since it was looked at: not ours any more
            raise FileExistsError(errno.EEXIST, "exists", str(dest))
        os.replace(temporary, dest)
    finally:
        if os.path.lexists(temporary):
            os.unlink(temporary)


# -- scanning a project ---------------------------------------------------------------------------


@dataclass
class Expected:
    """One checkpoint path a project's script reads, and what stands there or could."""

    path: Path  # absolute, not resolved through links
    written: str  # as the script has it (the first place it appears)
    script: Path
    line: int
    kind: str  # "catalog" | "member" | "present" | "produced" | "unknown"
    entry_id: str | None = None
    downloaded: bool = False  # the catalog entry's file is in the models folder or a shared store
    linked: bool = False  # our own link to it is already at the path
    detail: str = ""
    member: str | None = None  # for "member": the file inside the entry's archive
    unpacked: bool = False  # for "member": the archive is unpacked (see core.archives)

    def as_json(self) -> dict:
        return {
            "path": str(self.path),
            "written": self.written,
            "script": str(self.script),
            "line": self.line,
            "kind": self.kind,
            "id": self.entry_id,
            "downloaded": self.downloaded,
            "linked": self.linked,
            "detail": self.detail,
            "member": self.member,
            "unpacked": self.unpacked,
        }


@dataclass
class _Found:
    written: str
    value: str
    script: Path
    line: int
    checkpoint: bool = True  # ends in a checkpoint suffix; other paths count only as archive members


@dataclass
class _ScriptWords:
    paths: list[_Found] = field(default_factory=list)
    save_dirs: list[Path] = field(default_factory=list)


def scripts_in(project: Path) -> list[Path]:
    """The project's shell scripts, sorted; hidden folders (``.git``, ``.venv``) are skipped."""
    found = []
    for folder, dirs, files in os.walk(project):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if name.endswith(".sh"):
                found.append(Path(folder) / name)
                if len(found) >= MAX_SCRIPTS:
                    return found
    return found


def scan(project: Path | str, catalog: Catalog, library: Library) -> list[Expected]:
    """The checkpoint paths the project's shell scripts read, each classified (see the module)."""
    project = Path(os.path.abspath(Path(project).expanduser()))
    if not project.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "not a folder", str(project))
    words = _ScriptWords()
    for script in scripts_in(project):
        _read_script(script, words)
    names = name_index(catalog)
    members = member_index(catalog, library)
    statuses: dict[str, bool] = {}
    result: dict[Path, Expected] = {}
    for found in words.paths:
        if not found.checkpoint:
            path = _resolve(found.value, found.script.parent)
            if "$" not in found.value and path not in result and _member_matches(path, members):
                result[path] = _classify(path, found, words.save_dirs, names, members, library, statuses)
            continue
        if "$" in found.value:
            path = Path(found.value)
            if path not in result:
                why = "uses a variable the script does not set"
                result[path] = Expected(path, found.written, found.script, found.line, "unknown", detail=why)
            continue
        path = _resolve(found.value, found.script.parent)
        if path in result:
            continue
        result[path] = _classify(path, found, words.save_dirs, names, members, library, statuses)
    return list(result.values())


MemberIndex = dict[str, list[tuple[Checkpoint, str]]]


def member_index(catalog: Catalog, library: Library) -> MemberIndex:
    """A member's file name → (archive entry, member path) for every archive entry whose members are
    known (unpacked, downloaded, or listed in the catalog: see core.archive_records.members)."""
    from ofa_manager.core import archive_records

    index: MemberIndex = {}
    for entry in library.one_per_file(e for e in catalog if archive_records.is_archive(e)):
        for member in archive_records.members(library, entry) or []:
            index.setdefault(member.rsplit("/", 1)[-1], []).append((entry, member))
    return index


def _member_matches(path: Path, members: MemberIndex) -> list[tuple[Checkpoint, str]]:
    """The archive members that best fit an expected path: the member's whole path is the end of it
    (``vqgan/last.ckpt`` for ``…/checkpoints/vqgan/last.ckpt``), or at least its last two segments are
    (``a/vqgan/last.ckpt``). A lone file name deep in an archive fits nothing: ``last.ckpt`` is too
    common a name to go by."""
    best: list[tuple[Checkpoint, str]] = []
    best_score = 0
    wanted = path.parts
    for entry, member in members.get(path.name, []):
        parts = member.split("/")
        score = 0
        while score < min(len(parts), len(wanted)) and parts[-1 - score] == wanted[-1 - score]:
            score += 1
        if score < len(parts) and score < 2:
            continue
        if score > best_score:
            best, best_score = [(entry, member)], score
        elif score == best_score:
            best.append((entry, member))
    return best


def name_index(catalog: Catalog) -> dict[str, list[Checkpoint]]:
    """File name → the entries it may stand for: aliases first, then file names; one entry per file."""
    by_alias: dict[str, list[Checkpoint]] = {}
    by_file: dict[str, list[Checkpoint]] = {}
    for entry in catalog:
        aliases = entry.extra.get("aliases")
        if isinstance(aliases, list):
            for alias in aliases:
                if isinstance(alias, str):
                    by_alias.setdefault(alias, []).append(entry)
        by_file.setdefault(entry.filename, []).append(entry)
    index = {}
    for name in by_file.keys() | by_alias.keys():
        entries = by_alias.get(name) or by_file[name]
        one_per_url = {e.url: e for e in reversed(entries)}  # the first entry of each file
        index[name] = list(reversed(one_per_url.values()))
    return index


def _classify(
    path: Path,
    found: _Found,
    save_dirs: list[Path],
    names: dict[str, list[Checkpoint]],
    members: MemberIndex,
    library: Library,
    statuses: dict[str, bool],
) -> Expected:
    def make(kind: str, **fields) -> Expected:
        return Expected(path, found.written, found.script, found.line, kind, **fields)

    for folder in save_dirs:
        if path.is_relative_to(folder):
            return make("produced", detail=f"under {folder}, which the project's scripts write to")
    if _PRODUCED_NAME.fullmatch(path.name):
        return make("produced", detail="named as a training run names its outputs")
    candidates = names.get(path.name, [])
    if len(candidates) > 1:
        ids = ", ".join(e.id for e in candidates)
        if os.path.lexists(path):
            return make("present", detail=f"already there; the name fits several entries: {ids}")
        return make("unknown", detail=f"the name fits several catalog entries: {ids}")
    entry = candidates[0] if candidates else None
    if entry is not None:
        if entry.id not in statuses:
            statuses[entry.id] = library.local_or_store_path(entry) is not None
        downloaded = statuses[entry.id]
        if os.path.lexists(path):
            source = library.local_or_store_path(entry)
            # Not here any more: our link to where it was is still ours (downloaded again, it resolves).
            owned = _ours(library, path, source or library.path(entry))[0]
            if owned == "same" and source is not None:
                return make("catalog", entry_id=entry.id, downloaded=True, linked=True)
            if owned == "same":
                return make("catalog", entry_id=entry.id, detail="our link is there; the file is not")
            if owned != "ours-elsewhere":
                return make("present", entry_id=entry.id, downloaded=downloaded, detail="already there")
        return make("catalog", entry_id=entry.id, downloaded=downloaded)
    matches = _member_matches(path, members)
    if len({e.id for e, _ in matches}) > 1 or len(matches) > 1:
        fits = ", ".join(f"{m} of {e.id}" for e, m in matches)
        if os.path.lexists(path):
            return make("present", detail=f"already there; it fits several archive members: {fits}")
        return make("unknown", detail=f"it fits several archive members: {fits}")
    if matches:
        return _classify_member(path, make, matches[0], library, statuses)
    if os.path.lexists(path):
        return make("present", detail="already there")
    return make("unknown", detail="no catalog entry has this file name")


def _classify_member(path: Path, make, match: tuple[Checkpoint, str], library: Library, statuses) -> Expected:
    from ofa_manager.core import archive_records

    entry, member = match
    if entry.id not in statuses:
        statuses[entry.id] = library.local_or_store_path(entry) is not None
    folder = archive_records.unpacked_folder(library, entry)
    fields = {"entry_id": entry.id, "member": member, "downloaded": statuses[entry.id]}
    fields["unpacked"] = folder is not None
    if os.path.lexists(path):
        source = (folder or archive_records.folder_for(library, entry)).joinpath(*member.split("/"))
        owned = _ours(library, path, source)[0]
        if owned == "same" and folder is not None:
            return make("member", linked=True, **fields)
        if owned == "same":
            return make("member", detail="our link is there; the archive is not unpacked", **fields)
        if owned != "ours-elsewhere":
            return make("present", detail=f"already there (fits {member} of {entry.id})", **fields)
    return make("member", **fields)


def _resolve(value: str, folder: Path) -> Path:
    return Path(os.path.normpath(folder / Path(value).expanduser()))


def _read_script(script: Path, words: _ScriptWords) -> None:
    try:
        with open(script, "rb") as stream:
            raw = stream.read(MAX_SCRIPT_BYTES)
    except OSError:
        return
    text = raw.decode("utf-8", errors="replace")
    variables: dict[str, str] = {}
    try:
        items = shell_words.parse(text)
    except RecursionError:  # thousands of nested $( … ): no script of a project, nothing read
        return
    for item in items:
        if isinstance(item, shell_words.HereDoc):
            _read_heredoc(item, variables, script, words)
        else:
            _read_command(item.words, variables, script, words)


def _read_heredoc(
    heredoc: shell_words.HereDoc, variables: dict[str, str], script: Path, words: _ScriptWords
) -> None:
    """A here document is text given to a program (Python, a config file): its path-like words count."""
    for offset, line in enumerate(heredoc.body.split("\n")):
        if heredoc.expands:
            line = shell_words.expand_text(line, variables, script)
        for token in _HEREDOC_SPLIT.split(line):
            if token.endswith(CHECKPOINT_SUFFIXES) and "{" not in token:
                words.paths.append(_Found(token, token, script, heredoc.line + offset))


def _read_command(
    command: list[shell_words.Word], variables: dict[str, str], script: Path, words: _ScriptWords
) -> None:
    def expand(word: shell_words.Word) -> str:
        return shell_words.expand(word, variables, script)

    index = 0
    if command and command[0].written in _DECLARERS:
        index = 1
        while index < len(command) and command[index].written.startswith("-"):
            index += 1  # declare -r, local -a…
    # Leading NAME=value words are assignments (alone, or for the command after them).
    while index < len(command):
        split = command[index].split_at_equals()
        if split is None or not _NAME.fullmatch(split[0]):
            break
        name, rest = split
        written, value = rest.written, expand(rest)
        variables[name] = value
        if name in SAVE_DIR_NAMES and value and "$" not in value:
            words.save_dirs.append(_resolve(value, script.parent))
        _note_values(written, value, script, command[index].line, words)
        index += 1
    rest_words = command[index:]
    for position, word in enumerate(rest_words):
        token = word.written
        if token.startswith("--"):
            split = word.split_at_equals()
            if split is None:
                following = rest_words[position + 1] if position + 1 < len(rest_words) else None
                if token in SAVE_DIR_FLAGS and following and not following.written.startswith("-"):
                    value = expand(following)
                    if "$" not in value:
                        words.save_dirs.append(_resolve(value, script.parent))
                continue
            flag, value_word = split
            value = expand(value_word)
            if flag in SAVE_DIR_FLAGS and "$" not in value:
                words.save_dirs.append(_resolve(value, script.parent))
            _note_values(value_word.written, value, script, word.line, words)
        elif position > 0 or not _looks_like_command(token):
            _note_values(token, expand(word), script, word.line, words)


def _looks_like_command(token: str) -> bool:
    return not token.endswith(CHECKPOINT_SUFFIXES)


def _pieces(text: str) -> list[str]:
    """A value cut where the shell would cut it unquoted (spaces), or a program at commas; a ``--flag=``
    in front of a piece is taken off (a variable holding several arguments)."""
    pieces = []
    for word in text.split() or [text]:
        if word.startswith("--") and "=" in word:
            word = word.partition("=")[2]
        pieces.extend(word.split(","))
    return pieces


def _note_values(written: str, value: str, script: Path, line: int, words: _ScriptWords) -> None:
    parts = _pieces(value)
    pieces = _pieces(written)
    if len(pieces) != len(parts):  # a variable held commas: show the expanded piece
        pieces = parts
    for piece, part in zip(pieces, parts, strict=True):
        part = part.strip()
        if part.endswith(CHECKPOINT_SUFFIXES):
            words.paths.append(_Found(piece.strip(), part, script, line))
        elif "/" in part and "." in part.rsplit("/", 1)[-1] and "://" not in part:
            # A file path of another kind (a model's .yaml beside its .ckpt): kept in case an archive has it.
            words.paths.append(_Found(piece.strip(), part, script, line, checkpoint=False))
