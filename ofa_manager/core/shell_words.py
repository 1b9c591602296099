"""Shell scripts split into commands and words as bash would, and words expanded as far as a script's
own assignments allow: for reading the paths a script names, never for running it.

What is understood: single quotes (nothing inside expands), double quotes, backslash escapes and
backslash-newline continuations; comments; ``;`` ``&&`` ``||`` ``|`` ``&`` ``(`` ``)`` and
redirections as command separators; ``$NAME``, ``${NAME}``, ``${NAME:-default}``, ``${NAME-default}``,
``${NAME:=default}`` (which also sets it), ``${NAME:+alt}``; ``$0``/``${BASH_SOURCE[0]}`` as the
script's own path and ``$PWD``/``$(pwd)`` as its folder (scripts are run from their folder); command
substitutions ``$(dirname X)``, ``$(realpath X)``, ``$(readlink -f X)`` and ``$(cd X && pwd)`` of
anything that expands (``$(cd "$(dirname "$0")"/.. && pwd)`` is the script folder's parent); here
documents, whose bodies are given as text (expanded unless the delimiter is quoted), not as
commands. Anything else that expands (``$HOME``, ``$(date)``, ``${#x}``) stays as written, ``$`` and
all, so a caller can tell it is unknown.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

OPERATORS = ";&|()<>"
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_BRACE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*|[0-9]|BASH_SOURCE\[0\])(?:(:?[-=+?])(.*))?", re.DOTALL)
_CD_PWD = re.compile(r"cd\s+(?:-[LP]\s+)?(.+?)\s*(?:&&|;)\s*pwd(?:\s+-[LP])?", re.DOTALL)
# The options first: "realpath -s X" is realpath of X, not of "-s X".
_ONE_ARGUMENT = re.compile(r"(dirname|realpath\s+-[se]|readlink\s+-[fem]|realpath)\s+(.+)", re.DOTALL)
MAX_DEPTH = 8


@dataclass
class Segment:
    text: str
    literal: bool  # single-quoted or escaped: taken as it is, nothing expands


@dataclass
class Word:
    segments: list[Segment]
    line: int

    @property
    def written(self) -> str:
        """The word as the script has it, quotes taken off and nothing expanded."""
        return "".join(s.text for s in self.segments)

    def split_at_equals(self) -> tuple[str, Word] | None:
        """(what is before the first '=', the rest) when the '=' is in the word's first, unquoted part."""
        if not self.segments or self.segments[0].literal or "=" not in self.segments[0].text:
            return None
        head, _, tail = self.segments[0].text.partition("=")
        rest = ([Segment(tail, False)] if tail else []) + self.segments[1:]
        return head, Word(rest, self.line)


@dataclass
class Command:
    words: list[Word]
    line: int


@dataclass
class HereDoc:
    body: str
    line: int  # of the body's first line
    expands: bool  # the delimiter was not quoted


@dataclass
class _Reader:
    text: str
    items: list = field(default_factory=list)
    words: list[Word] = field(default_factory=list)
    current: list[Segment] | None = None
    current_line: int = 0
    line: int = 1
    heredocs: list[tuple[str, bool, bool]] = field(default_factory=list)

    def add(self, text: str, literal: bool) -> None:
        if self.current is None:
            self.current, self.current_line = [], self.line
        if self.current and self.current[-1].literal == literal:
            self.current[-1].text += text
        else:
            self.current.append(Segment(text, literal))

    def end_word(self) -> None:
        if self.current is not None:
            self.words.append(Word(self.current, self.current_line))
            self.current = None

    def end_command(self) -> None:
        self.end_word()
        if self.words:
            self.items.append(Command(self.words, self.words[0].line))
            self.words = []


def parse(text: str) -> list[Command | HereDoc]:
    """The script's commands and here-document bodies, in order."""
    text = text.replace("\r\n", "\n")  # written on Windows: read as meant
    r = _Reader(text)
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "\n":
            r.end_command()
            r.line += 1
            i += 1
            if r.heredocs:
                i = _read_heredocs(r, i)
        elif c in " \t\r":
            r.end_word()
            i += 1
        elif c == "#" and r.current is None:
            end = text.find("\n", i)
            i = n if end < 0 else end
        elif c == "\\":
            if text.startswith("\n", i + 1):
                r.line += 1
            else:
                r.add(text[i + 1 : i + 2], True)
            i += 2
        elif c == "'":
            end = text.find("'", i + 1)
            end = n if end < 0 else end
            r.add(text[i + 1 : end], True)
            r.line += text.count("\n", i, end)
            i = end + 1
        elif c == '"':
            i = _read_double(r, i)
        elif c == "$" and text[i + 1 : i + 2] in ("(", "{"):
            end = balanced_end(text, i)
            r.add(text[i:end], False)
            r.line += text.count("\n", i, end)
            i = end
        elif c == "`":
            end = text.find("`", i + 1)
            end = n if end < 0 else end + 1
            r.add(text[i:end], False)
            r.line += text.count("\n", i, end)
            i = end
        elif c in OPERATORS:
            r.end_command()
            if text.startswith("<<<", i):
                i += 3
            elif text.startswith("<<", i):
                i = _heredoc_start(r, i)
            else:
                i += 1
        else:
            r.add(c, False)
            i += 1
    r.end_command()
    return r.items


def _read_double(r: _Reader, i: int) -> int:
    """A double-quoted string from ``i`` (the opening quote); the index after the closing one."""
    text, n = r.text, len(r.text)
    if r.current is None:
        r.add("", False)  # "" is a word, even empty
    j = i + 1
    while j < n:
        c = text[j]
        if c == '"':
            return j + 1
        if c == "\\" and j + 1 < n:
            following = text[j + 1]
            if following == "\n":
                r.line += 1
            elif following in '$`"\\':
                r.add(following, True)
            else:
                r.add(c + following, False)
            j += 2
        elif c == "$" and text[j + 1 : j + 2] in ("(", "{"):
            end = balanced_end(text, j)
            r.add(text[j:end], False)
            r.line += text.count("\n", j, end)
            j = end
        else:
            if c == "\n":
                r.line += 1
            r.add(c, False)
            j += 1
    return n


def balanced_end(text: str, i: int) -> int:
    """The index after the ``)`` or ``}`` closing the ``$(`` or ``${`` at ``i`` (quotes and nesting
    followed); the end of the text when it is never closed."""
    opening = text[i + 1]
    closing = ")" if opening == "(" else "}"
    depth, j, n = 1, i + 2, len(text)
    while j < n:
        c = text[j]
        if c == "\\":
            j += 2
            continue
        if c == "'" and opening == "(":
            end = text.find("'", j + 1)
            j = n if end < 0 else end + 1
            continue
        if c == '"':
            j = _skip_double(text, j)
            continue
        if c == "$" and text[j + 1 : j + 2] in ("(", "{"):
            j = balanced_end(text, j)
            continue
        if c == opening:
            depth += 1
        elif c == closing:
            depth -= 1
            if depth == 0:
                return j + 1
        j += 1
    return n


def _skip_double(text: str, j: int) -> int:
    n, k = len(text), j + 1
    while k < n:
        c = text[k]
        if c == "\\":
            k += 2
        elif c == '"':
            return k + 1
        elif c == "$" and text[k + 1 : k + 2] in ("(", "{"):
            k = balanced_end(text, k)
        else:
            k += 1
    return n


def _heredoc_start(r: _Reader, i: int) -> int:
    """After ``<<`` or ``<<-``: note the delimiter; the body is read at the end of the line."""
    text, n = r.text, len(r.text)
    i += 2
    strip_tabs = text.startswith("-", i)
    if strip_tabs:
        i += 1
    while i < n and text[i] in " \t":
        i += 1
    start = i
    while i < n and text[i] not in " \t\n;&|()<>":
        if text[i] in "'\"":
            end = text.find(text[i], i + 1)
            i = n if end < 0 else end + 1
        else:
            i += 1
    raw = text[start:i]
    delimiter = raw.replace("'", "").replace('"', "").replace("\\", "")
    if delimiter:
        r.heredocs.append((delimiter, strip_tabs, raw == delimiter))
    return i


def _read_heredocs(r: _Reader, i: int) -> int:
    text, n = r.text, len(r.text)
    for delimiter, strip_tabs, expands in r.heredocs:
        body, first = [], r.line
        while i < n:
            end = text.find("\n", i)
            end = n if end < 0 else end
            line = text[i:end]
            i = min(end + 1, n)
            r.line += 1
            if strip_tabs:
                line = line.lstrip("\t")
            if line == delimiter:
                break
            body.append(line)
        r.items.append(HereDoc("\n".join(body), first, expands))
    r.heredocs = []
    return i


# -- expansion ---------------------------------------------------------------------------------------


def expand(word: Word, variables: dict[str, str], script: Path) -> str:
    return "".join(s.text if s.literal else expand_text(s.text, variables, script) for s in word.segments)


def expand_text(text: str, variables: dict[str, str], script: Path, depth: int = 0) -> str:
    """``text`` with what can be known expanded; the rest left as written."""
    if depth > MAX_DEPTH or "$" not in text and "`" not in text:
        return text
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if c == "$" and text.startswith("((", i + 1):
            end = balanced_end(text, i)
            out.append(text[i:end])  # arithmetic
            i = end
        elif c == "$" and text[i + 1 : i + 2] == "{":
            end = balanced_end(text, i)
            out.append(_brace(text[i + 2 : end - 1], text[i:end], variables, script, depth))
            i = end
        elif c == "$" and text[i + 1 : i + 2] == "(":
            end = balanced_end(text, i)
            out.append(_substitute(text[i + 2 : end - 1], text[i:end], variables, script, depth))
            i = end
        elif c == "$":
            match = _NAME.match(text, i + 1)
            if match:
                value = _lookup(match.group(), variables, script)
                out.append(match.group(0) and (value if value is not None else "$" + match.group()))
                i = match.end()
            elif text[i + 1 : i + 2] == "0":
                out.append(str(script))
                i += 2
            else:
                out.append(c)
                i += 1
        elif c == "`":
            end = text.find("`", i + 1)
            end = n if end < 0 else end + 1
            out.append(_substitute(text[i + 1 : end - 1], text[i:end], variables, script, depth))
            i = end
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _lookup(name: str, variables: dict[str, str], script: Path) -> str | None:
    if name in ("0", "BASH_SOURCE", "BASH_SOURCE[0]"):
        return str(script)
    if name == "PWD" and name not in variables:
        return str(script.parent)
    return variables.get(name)


def _unquote(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


def _brace(inner: str, whole: str, variables: dict[str, str], script: Path, depth: int) -> str:
    match = _BRACE.fullmatch(inner)
    if not match:
        return whole  # ${#x}, ${x%/*}, ${x[2]}…: not followed
    name, operator, word = match.groups()
    value = _lookup(name, variables, script)
    if operator is None:
        return value if value is not None else whole
    alternative = expand_text(_unquote(word), variables, script, depth + 1)
    empty = value is None or (operator.startswith(":") and value == "")
    kind = operator[-1]
    if kind == "+":
        return "" if empty else alternative
    if kind == "?":
        return whole if empty else str(value)
    if empty:
        if kind == "=" and "$" not in alternative:
            variables[name] = alternative
        return alternative
    return str(value)


def _substitute(inner: str, whole: str, variables: dict[str, str], script: Path, depth: int) -> str:
    """A command substitution the script's folder is found with; any other stays as written."""
    command = inner.strip()
    if re.fullmatch(r"pwd(\s+-[LP])?", command):
        return str(script.parent)
    match = _CD_PWD.fullmatch(command)
    if match:
        folder = _argument(match.group(1), variables, script, depth)
        return os.path.normpath(os.path.join(script.parent, folder)) if folder is not None else whole
    match = _ONE_ARGUMENT.fullmatch(command)
    if match:
        argument = _argument(match.group(2), variables, script, depth)
        if argument is None:
            return whole
        absolute = os.path.normpath(os.path.join(script.parent, argument))
        return os.path.dirname(absolute) if match.group(1) == "dirname" else absolute
    return whole


def _argument(text: str, variables: dict[str, str], script: Path, depth: int) -> str | None:
    """One argument of a substituted command, expanded, or None when something in it is unknown."""
    words = [item for item in parse(text) if isinstance(item, Command)]
    if len(words) != 1 or len(words[0].words) != 1:
        return None
    value = "".join(
        s.text if s.literal else expand_text(s.text, variables, script, depth + 1)
        for s in words[0].words[0].segments
    )
    return None if "$" in value or "`" in value else value
