"""Fuzzing what is found on disk: any catalog gives a catalog or exit 2 naming the place; any settings file
gives usable settings; any number on the command line is used or refused as a usage error.

The examples are generated from a fixed seed (``derandomize``) and no example database is kept, so a run
in CI is the same as a run here; the example counts keep the whole file to some 20-40 s on the test
machine. ``OFA_FUZZ_SCALE=10`` runs ten times as many examples (not fixed seeds then: new ones each run).
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
from pathlib import Path
from urllib.parse import urlsplit

import hypothesis
import requests
from hypothesis import HealthCheck
from hypothesis import strategies as st

from ofa_manager import cli
from ofa_manager.cli.common import MAX_TIMEOUT, UsageError
from ofa_manager.cli.download import _options
from ofa_manager.cli.parser import build_parser
from ofa_manager.core import catalog as catalog_module
from ofa_manager.core import settings
from ofa_manager.core.catalog import CatalogError, check_filename, load_catalog

SCALE = int(os.environ.get("OFA_FUZZ_SCALE", "1"))
hypothesis.settings.register_profile(
    "inputs",
    deadline=None,
    derandomize=SCALE == 1,
    database=None,
    print_blob=True,
    # The temp folder is shared by the examples of one test on purpose: each writes its files afresh.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
PROFILE = hypothesis.settings.get_profile("inputs")


def examples(count: int) -> hypothesis.settings:
    return hypothesis.settings(PROFILE, max_examples=count * SCALE)


# -- values ---------------------------------------------------------------------------------------

# Any code point, lone surrogates and control characters included (hypothesis leaves surrogates out
# unless asked).
ANY_CHAR = st.characters(codec=None, categories=None, exclude_categories=[])
HUGE_INT = "__huge_int__"  # replaced in the JSON text by an integer of 5000 digits (json.dumps cannot)
DEEP = "__deep__"  # replaced by 50 000 nested lists
NUMBER_TEXT = "__number_text__"  # replaced by 1e999 (inf to Python) and similar spellings
SPECIAL_STRINGS = [
    "",
    " ",
    ".",
    "..",
    "../x.pt",
    "a/b.pt",
    "a\\b.pt",
    ".hidden",
    "x.pt.part",
    "x.pt.part.json",
    "a:b.pt",
    "\x00",
    "\n",
    "\x7f",
    "\x85",
    "\u202e",
    "\ud800",
    "\udfff",
    "\udcff.pt",
    "x" * 5000,
    "é" * 130,
    "http://[::1",
    "http://[::1]/a.pt",
    "http://[zz]/a.pt",
    "https://h.invalid:99999/a.pt",
    "https://h.invalid:x/a.pt",
    "https://h.invalid:/a.pt",
    "https://a..b/c.pt",
    "https://.a/c.pt",
    "https://ü..x/a.pt",
    "https://" + "a" * 70 + "ü/a.pt",
    "https://a b/c.pt",
    "https:///a.pt",
    "https://h.invalid/a.pt?x=1#frag",
    "https://user:pw@h.invalid/a.pt",
    "HTTPS://H.INVALID/UPPER.PT",
    "https://h.invalid/%00.pt",
    "https://h.invalid/%ff%fe.pt",
    "https://h.invalid/%ED%A0%80.pt",
    "https://h.invalid/dir/",
    "https://h.invalid/dir/.",
    "https://h.invalid/%2e%2e",
    "https://h.invalid/" + "a" * 300 + ".pt",
    "https://h.invalid/\ud800.pt",
    "https://h.invalid/a\tb.pt",
    "ftp://h.invalid/a.pt",
    "file:///etc/passwd",
    "javascript:alert(1)",
    " https://h.invalid/spaces.pt ",
    "a" * 64,
    "A" * 64,
    "g" * 64,
    "entry-0",
    "entry-1",
    HUGE_INT,
    DEEP,
    NUMBER_TEXT,
]
SPECIAL_NUMBERS = [0, -1, 1, 2**50, 2**50 + 1, 2**63, 10**400, -(10**400), 1e308, -0.0, 0.5, True, False]
FIELDS = ["id", "title", "group", "url", "size", "sha256", "mirrors", "filename", "base", "params"]
FIELDS += ["description", "format", "entries", "extra-field", "\ud800"]

SURROGATE = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF, exclude_categories=[])
CONTROL = st.characters(max_codepoint=0x9F).filter(lambda c: c < " " or c >= "\x7f")
texts = st.one_of(
    st.text(ANY_CHAR, max_size=40),
    st.sampled_from(SPECIAL_STRINGS),
    # Plain text with one lone surrogate or control character somewhere in it.
    st.tuples(st.text(max_size=6), st.one_of(SURROGATE, CONTROL), st.text(max_size=6)).map("".join),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(SPECIAL_NUMBERS),
    texts,
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(texts, st.sampled_from(FIELDS)), inner, max_size=4),
    ),
    max_leaves=12,
)


# What a field may hold: mostly the hostile values above, sometimes anything at all.
RAW = [HUGE_INT, DEEP, NUMBER_TEXT]
field_values = st.one_of(
    st.sampled_from(RAW),
    texts,
    st.sampled_from(SPECIAL_NUMBERS),
    st.lists(texts, min_size=1, max_size=3),
    json_values,
)
URLS = [s for s in SPECIAL_STRINGS if "://" in s or s.startswith("javascript")]
FILE_NAMES = [s for s in SPECIAL_STRINGS if "://" not in s and len(s) < 400]


def spliced(base: str) -> st.SearchStrategy[str]:
    """``base`` with a hostile character or a piece of any text put in somewhere."""
    return st.tuples(
        st.integers(0, len(base)), st.one_of(SURROGATE, CONTROL, st.text(ANY_CHAR, min_size=1, max_size=4))
    ).map(lambda at: base[: at[0]] + at[1] + base[at[0] :])


# Per field, the values most likely to get through a check that is missing or wrong.
FIELD_VALUES = {
    "url": st.one_of(st.sampled_from(URLS), spliced("https://h.invalid:8080/files/x.pt")),
    "mirrors": st.lists(st.one_of(st.sampled_from(URLS), spliced("https://m.invalid/x.pt")), max_size=2),
    "title": spliced("A title"),
    "group": st.lists(st.one_of(spliced("Group"), texts), min_size=1, max_size=3),
    "params": spliced("470M"),
    "description": spliced("Two\nlines"),
    "filename": st.one_of(st.sampled_from(FILE_NAMES), spliced("named.bin")),
    "size": st.one_of(st.sampled_from(SPECIAL_NUMBERS), st.integers(), st.floats(), st.sampled_from(RAW)),
    "extra-field": st.one_of(st.sampled_from(RAW), json_values),
    "sha256": st.one_of(spliced("a" * 64), st.text("0123456789abcdefABCDEFg", min_size=63, max_size=65)),
    "id": st.one_of(spliced("entry-x"), st.sampled_from(["entry-0", "entry-1", "a" * 129])),
    "base": st.one_of(st.sampled_from(["entry-0", "entry-1", "entry-2", "nowhere"]), spliced("entry-0")),
}


# The fields with the most ways to go wrong come up more often.
CHANGED_FIELDS = FIELDS + ["url", "url", "url", "mirrors", "filename", "title", "group"]


def valid_entry(i: int) -> dict:
    return {
        "id": f"entry-{i}",
        "title": f"Entry {i}",
        "group": ["Fuzz", f"Group {i % 2}"],
        "url": f"https://h.invalid/files/entry-{i}.pt",
        "size": 1000 + i,
        "sha256": f"{i:064x}",
    }


@st.composite
def catalog_documents(draw) -> object:
    """A catalog of valid structure with hostile values in some fields, or any JSON value at all."""
    # Small numbers come up most (hypothesis favours them): they are the common case, one field changed.
    shape = draw(st.integers(0, 99))
    if shape >= 98:
        return draw(json_values)
    entries: list[object] = [valid_entry(i) for i in range(draw(st.integers(1, 3)))]
    for _ in range(1 if shape < 80 else draw(st.integers(1, 4))):
        target = draw(st.integers(0, len(entries) - 1))
        key = draw(st.sampled_from(CHANGED_FIELDS))
        if 88 <= shape < 92:
            entries[target] = draw(json_values)  # maybe not even an object
        elif 92 <= shape < 95 and isinstance(entries[target], dict):
            entries[target].pop(key, None)
        elif isinstance(entries[target], dict):
            hostile = FIELD_VALUES.get(key)
            use_any = hostile is None or draw(st.integers(0, 3)) == 2
            entries[target][key] = draw(field_values if use_any else hostile)
    document: dict[object, object] = {"format": 1, "title": "Fuzz", "entries": entries}
    if 95 <= shape < 98:
        document[draw(st.sampled_from(["format", "title", "entries", "extra"]))] = draw(json_values)
    return document


def json_text(document: object) -> str:
    """JSON as a hand-edited file may hold it: escapes for lone surrogates, NaN, huge and deep values."""
    text = json.dumps(document, ensure_ascii=True, allow_nan=True)
    text = text.replace(json.dumps(HUGE_INT), "9" * 5000)
    text = text.replace(json.dumps(DEEP), "[" * 50_000 + "]" * 50_000)
    return text.replace(json.dumps(NUMBER_TEXT), "1e999")


@st.composite
def catalog_files(draw) -> bytes:
    """The bytes of a catalog file: a generated document, or a valid one with bytes changed."""
    if draw(st.integers(0, 4)) == 0:
        text = json.dumps({"format": 1, "entries": [valid_entry(0), valid_entry(1)]}).encode()
        at = draw(st.integers(0, len(text)))
        cut = draw(st.integers(0, 8))
        return text[:at] + draw(st.binary(max_size=8)) + text[at + cut :]
    return json_text(draw(catalog_documents())).encode("utf-8")


# -- running the real entry point -----------------------------------------------------------------


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    """cli.main in this process with a stdout that refuses what a UTF-8 terminal refuses."""
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="strict", write_through=True)
    err = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="backslashreplace", write_through=True)
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(argv)
    return code, out.buffer.getvalue().decode(), err.buffer.getvalue().decode()


def assert_usable(loaded) -> None:
    """What the rest of the program relies on for each entry of a catalog that loaded."""
    for entry in loaded:
        for text in (entry.id, entry.title, entry.url, entry.filename, *entry.group, *entry.mirrors):
            text.encode("utf-8")  # no lone surrogates
        assert check_filename(entry.filename) is None
        for url in (entry.url, *entry.mirrors):
            parts = urlsplit(url)
            assert parts.scheme in ("http", "https") and parts.hostname
            parts.port  # noqa: B018  (raises on a malformed port)
            requests.PreparedRequest().prepare_url(url, None)  # as a download will (IDNA, host syntax)
        assert entry.size is None or (type(entry.size) is int and 0 <= entry.size <= catalog_module.MAX_SIZE)
        assert entry.sha256 is None or len(entry.sha256) == 64


def check_catalog_bytes(data: bytes, folder: Path) -> str | None:
    """Load the catalog and run the commands on it; the refusal's message, or None when it loaded."""
    path = folder / "catalog.json"
    path.write_bytes(data)
    models = folder / "models"
    models.mkdir(exist_ok=True)
    try:
        loaded, message = load_catalog([path]), None
    except CatalogError as exc:
        loaded, message = None, str(exc)
        assert message.startswith(str(path)), message
    if loaded is not None:
        assert_usable(loaded)
    # A refusal happens before any command runs, so one command shows it; a catalog in use, all of them.
    commands = [["list"], ["list", "--json"], ["du"], ["verify"]] if loaded is not None else [["list"]]
    for command in commands:
        code, out, err = run_cli(["--dir", str(models), "--catalog", str(path), *command])
        assert "Traceback" not in err
        if loaded is None:
            assert code == 2 and err.startswith(f"ofa-manager: error: {message}"), err
            assert out == ""
        else:
            assert code == 0, err
            if command == ["list", "--json"]:
                assert [row["id"] for row in json.loads(out)] == loaded.ids()
    return message


def assert_names_the_place(message: str | None) -> None:
    """A refusal of an entry says which entry and which field; refusals above the entries name the file."""
    if message is not None and "entry " in message:
        assert "field " in message or "must be an object" in message, message


@examples(600)
@hypothesis.given(key=st.sampled_from(sorted(FIELD_VALUES)), data=st.data())
def test_a_hostile_value_in_any_field_loads_or_exit_2_names_entry_and_field(tmp_path, key, data):
    entries = [valid_entry(0), valid_entry(1)]
    entries[1][key] = data.draw(FIELD_VALUES[key], label=key)
    message = check_catalog_bytes(json_text({"format": 1, "entries": entries}).encode(), tmp_path)
    if message is not None and "line " not in message and "nested" not in message:
        assert "entry " in message and "field " in message, message


@examples(300)
@hypothesis.given(document=catalog_documents())
def test_any_catalog_loads_or_exit_2_names_file_entry_and_field(tmp_path, document):
    assert_names_the_place(check_catalog_bytes(json_text(document).encode("utf-8"), tmp_path))


@examples(150)
@hypothesis.given(data=catalog_files())
def test_any_catalog_bytes_load_or_exit_2(tmp_path, data):
    check_catalog_bytes(data, tmp_path)


# -- settings -------------------------------------------------------------------------------------

numbers = st.one_of(
    st.sampled_from(SPECIAL_NUMBERS), st.integers(), st.floats(allow_nan=True, allow_infinity=True)
)
rule_part = st.one_of(st.just("https://a.invalid/"), texts, json_values)
# Per setting, the values most likely to get through a check that is missing or wrong.
SETTING_VALUES = {
    "version": st.one_of(st.just(1), numbers, texts),
    "models_dir": st.one_of(spliced("/tmp/models"), texts),
    "jobs": numbers,
    "connections": numbers,
    "limit_rate": numbers,
    "timeout": numbers,
    "retries": numbers,
    "rewrite_rules": st.one_of(st.lists(st.lists(rule_part, max_size=3), max_size=3), json_values),
    "resume_on_start": st.one_of(st.booleans(), numbers, texts),
    "notifications": st.one_of(st.booleans(), numbers, texts),
    "window_geometry": st.one_of(spliced("AdnQywADAAA="), texts, numbers),
    "window_state": st.one_of(spliced("AAAA/wAAAAD9"), texts),
    "splitter_state": st.one_of(spliced("AAAA/wAAAAEAAAAC"), texts),
    "unknown": json_values,
}


@st.composite
def settings_files(draw) -> bytes:
    shape = draw(st.integers(0, 19))
    if shape == 18:
        return json_text(draw(json_values)).encode("utf-8")
    if shape == 19:
        return draw(st.binary(max_size=40))
    good = {"jobs": 3, "timeout": 12.5, "rewrite_rules": [["https://a.invalid/", "https://b.invalid/"]]}
    document = {name: value for name, value in good.items() if draw(st.booleans())}
    for name in draw(st.lists(st.sampled_from(sorted(SETTING_VALUES)), min_size=1, max_size=4, unique=True)):
        document[name] = draw(SETTING_VALUES[name])
    return json_text(document).encode("utf-8")


# What the engine and the Settings dialog can take (the dialog's spin boxes have these ranges).
USABLE = {
    "jobs": (1, 8),
    "connections": (1, 16),
    "limit_rate": (0, 100_000 * 1024 * 1024),
    "timeout": (1, 3600),
    "retries": (0, 100),
}


def assert_settings_usable(loaded: settings.Settings) -> None:
    defaults = settings.Settings()
    for field in settings.fields(settings.Settings):
        value = getattr(loaded, field.name)
        assert type(value) is type(getattr(defaults, field.name)), field.name
        if isinstance(value, str):
            value.encode("utf-8")
            assert "\x00" not in value
        if field.name in USABLE:
            low, high = USABLE[field.name]
            assert low <= value <= high and math.isfinite(value), field.name
    for rule in loaded.rewrite_rules:
        assert len(rule) == 2 and all(isinstance(part, str) for part in rule)
        "".join(rule).encode("utf-8")
    # What the window and the commands do with them at once.
    loaded.models_path().exists()
    for text in (loaded.window_geometry, loaded.window_state, loaded.splitter_state):
        text.encode()
    _options(build_parser().parse_args(["download", "--all"]), loaded)


@examples(300)
@hypothesis.given(data=settings_files())
def test_any_settings_file_gives_usable_settings_and_keeps_the_file(tmp_path, data):
    path = settings.settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    for old in path.parent.iterdir():
        old.unlink()
    path.write_bytes(data)
    loaded, problems = settings.load_checked()
    assert_settings_usable(loaded)
    if problems:
        # Whatever was not used is still on disk, byte for byte, beside the settings file.
        kept = [p for p in path.parent.iterdir() if p.name.endswith(".bak")]
        assert any(p.read_bytes() == data for p in kept), problems
    for problem in problems:
        problem.encode("utf-8")
    # The real command line starts on these settings (the models folder comes from them).
    catalog = tmp_path / "one.json"
    catalog.write_text(json.dumps({"format": 1, "entries": [valid_entry(0)]}))
    code, out, err = run_cli(["--catalog", str(catalog), "list", "--json"])
    assert code == 0, err
    assert [row["id"] for row in json.loads(out)] == ["entry-0"]


# -- numbers on the command line ------------------------------------------------------------------

numbers_as_text = st.one_of(
    st.integers().map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["1e999", "-1e999", "nan", "inf", "0", "-0", "1e-400", "9" * 5000, "0x10", "", " 3 "]),
    st.text(ANY_CHAR, max_size=10),
)
OPTIONS = ["--jobs", "--connections", "--retries", "--timeout", "--limit-rate"]


@examples(300)
@hypothesis.given(option=st.sampled_from(OPTIONS), text=numbers_as_text)
def test_any_number_on_the_command_line_is_used_or_a_usage_error(option, text):
    parser = build_parser()
    err = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="backslashreplace", write_through=True)
    try:
        with contextlib.redirect_stderr(err):
            args = parser.parse_args(["download", "--all", f"{option}={text}"])
    except SystemExit as exc:
        message = err.buffer.getvalue().decode()
        assert exc.code == 2 and f"argument {option}" in message, message
        return
    try:
        options, jobs, limit = _options(args, settings.Settings())
    except UsageError as exc:
        assert option in str(exc)
        return
    assert 1 <= jobs <= 8 and 1 <= options.connections <= 16 and 0 <= options.retries <= 100
    assert 0 < options.timeout <= MAX_TIMEOUT and 0 <= limit < 2**63
