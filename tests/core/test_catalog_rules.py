"""The catalog's own rules, each refusal read word for word: the file, its entries' fields, URLs and hosts,
file names, what entries sharing a file must agree on, and the queries the window and the command line
make (ids, sharing, backbones, tree paths, URLs shown without their passwords). Fast on purpose: the
catalog is loaded by nearly every test, and these are the tests its mutation row runs."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from pathlib import Path

import pytest

from ofa_manager.core import catalog as catalog_module
from ofa_manager.core.catalog import (
    Catalog,
    CatalogError,
    Checkpoint,
    check_filename,
    default_filename,
    display_url,
    load_catalog,
    redact_text,
    unknown_id_message,
)
from ofa_manager.core.resources import builtin_catalog_path
from tests.catalogs import cli_env

URL = "https://bucket.example.org/ofa/model.pt"
SHA = "ab" * 32


def row(entry_id: str = "x", url: str = URL, **fields) -> dict:
    return {"id": entry_id, "title": str(entry_id).upper(), "group": ["G"], "url": url, **fields}


def write(path: Path, entries: list, **document) -> Path:
    path.write_text(json.dumps({"format": 1, "title": "T", "entries": entries, **document}), encoding="utf-8")
    return path


def loaded(tmp_path: Path, *rows: dict) -> Catalog:
    return load_catalog([write(tmp_path / "c.json", list(rows))])


def refusal(tmp_path: Path, *rows: dict) -> str:
    path = write(tmp_path / "c.json", list(rows))
    with pytest.raises(CatalogError) as refused:
        load_catalog([path])
    return str(refused.value)


def entry_refusal(tmp_path: Path, entry_id: str = "x", **fields) -> str:
    """The refusal of one entry, without the file's path and the entry's name in front."""
    message = refusal(tmp_path, row(entry_id, **fields))
    prefix = f"{tmp_path / 'c.json'}: entry {entry_id!r}: "
    assert message.startswith(prefix), message
    return message[len(prefix) :]


# -- an entry's fields ---------------------------------------------------------------------------------


def test_an_entry_keeps_every_field_as_given(tmp_path):
    given = row(
        "x",
        size=12,
        sha256=SHA.upper(),
        mirrors=["https://m.example.org/x.pt"],
        filename="named.pt",
        base="b",
        params="93M",
        description="line one\nline two\ttabbed\r",
        expect={"arch": "ofa_base", "task": "refcoco", "params": 5, "petl": "lora"},
        homepage="https://example.org",
    )
    catalog = loaded(tmp_path, row("b", url="https://bucket.example.org/b.pt"), given)
    x = catalog.get("x")
    assert x == Checkpoint(
        id="x",
        title="X",
        group=("G",),
        url=URL,
        size=12,
        sha256=SHA,  # lower case
        mirrors=("https://m.example.org/x.pt",),
        filename="named.pt",
        base="b",
        params="93M",
        description="line one\nline two\ttabbed\r",
        source=str(tmp_path / "c.json"),
        expect={"arch": "ofa_base", "task": "refcoco", "params": 5, "petl": "lora"},
    )
    assert x.extra == {"homepage": "https://example.org"}
    assert x.expect == {"arch": "ofa_base", "task": "refcoco", "params": 5, "petl": "lora"}
    assert x.host == "bucket.example.org"
    b = catalog.get("b")
    assert (b.size, b.sha256, b.mirrors, b.filename, b.base, b.params, b.description, b.expect, b.extra) == (
        None,
        None,
        (),
        "b.pt",
        None,
        None,
        "",
        None,
        {},
    )


def test_a_url_and_its_mirrors_are_kept_without_surrounding_spaces(tmp_path):
    x = loaded(tmp_path, row(url=f"  {URL} ", mirrors=[" https://m.example.org/x.pt\n"])).get("x")
    assert x.url == URL and x.mirrors == ("https://m.example.org/x.pt",)


@pytest.mark.parametrize("field", ["id", "title", "group", "url"])
@pytest.mark.parametrize("value", [None, ""])
def test_each_required_field_is_named_when_missing_or_empty(tmp_path, field, value):
    given = row("x")
    given[field] = value
    name = "'x'" if field != "id" else "'#1'"
    assert refusal(tmp_path, given) == f"{tmp_path / 'c.json'}: entry {name}: field {field!r} is required"


def test_an_entry_that_is_not_an_object_is_named_by_its_place(tmp_path):
    assert refusal(tmp_path, row("a"), ["x"]) == f"{tmp_path / 'c.json'}: entries[1] must be an object"


@pytest.mark.parametrize(
    ("entry_id", "name"),
    [
        ("bad id", "'bad id'"),
        ("-x", "'-x'"),
        ("x" * 127 + "!", repr("x" * 127 + "!")),  # 128 characters: still named by its id
        ("x" * 129, "'#1'"),
        (5, "'#1'"),
        ("é", "'é'"),
    ],
)
def test_an_id_is_letters_digits_and_a_few_marks_at_most_128(tmp_path, entry_id, name):
    assert refusal(tmp_path, row(entry_id)) == (
        f"{tmp_path / 'c.json'}: entry {name}: field 'id' must be letters, digits, '.', '_', '+' or '-', "
        "at most 128 of them"
    )


@pytest.mark.parametrize("entry_id", ["a", "A9._+-z", "x" * 128, "0"])
def test_an_id_of_those_marks_up_to_128_is_taken(tmp_path, entry_id):
    assert loaded(tmp_path, row(entry_id)).ids() == [entry_id]


def test_the_second_entry_without_an_id_is_named_by_its_number(tmp_path):
    assert (
        refusal(tmp_path, row("a"), {"title": "T"})
        == f"{tmp_path / 'c.json'}: entry '#2': field 'id' is required"
    )


@pytest.mark.parametrize(
    ("title", "problem"),
    [
        (5, "must be a string"),
        ("t" * 1001, "is 1001 characters long; at most 1000"),
        ("a\nb", "holds the control character '\\n'"),
        ("a\x85b", "holds the control character '\\x85'"),
        ("a\ud800b", "holds a lone surrogate ('\\ud800'), which is not text"),
        ("t" * 999 + "\n", "holds the control character '\\n'"),  # 1000 characters: not too long
    ],
)
def test_a_title_is_one_line_of_text_of_at_most_1000_characters(tmp_path, title, problem):
    assert entry_refusal(tmp_path, title=title) == f"field 'title' {problem}"


def test_a_title_of_1000_characters_is_taken(tmp_path):
    assert loaded(tmp_path, row(title="t" * 1000)).get("x").title == "t" * 1000


@pytest.mark.parametrize("group", ["G", [], ["g"] * 33, {"a": 1}])
def test_a_group_is_a_list_of_1_to_32_names(tmp_path, group):
    assert (
        entry_refusal(tmp_path, group=group)
        == "field 'group' must be a list of 1 to 32 strings (the tree path)"
    )


@pytest.mark.parametrize("group", [["a", ""], ["a", 3], [None]])
def test_each_group_name_is_a_non_empty_string(tmp_path, group):
    assert entry_refusal(tmp_path, group=group) == (
        "field 'group' must be a non-empty list of strings (the tree path)"
    )


def test_a_group_name_is_one_line_of_text(tmp_path):
    assert (
        entry_refusal(tmp_path, group=["ok", "a\tb"])
        == "field 'group': the name 'a\\tb' holds the control character '\\t'"
    )
    assert entry_refusal(tmp_path, group=["n" * 1001]) == (
        f"field 'group': the name {repr('n' * 1001)[:75]}…{repr('n' * 1001)[-4:]} (1003 characters) "
        "is 1001 characters long; at most 1000"
    )


def test_a_group_of_32_names_is_taken(tmp_path):
    assert loaded(tmp_path, row(group=["g"] * 32)).get("x").group == ("g",) * 32


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"mirrors": "https://m/x.pt"}, "field 'mirrors' must be a list of URLs"),
        ({"mirrors": {"a": 1}}, "field 'mirrors' must be a list of URLs"),
        (
            {"mirrors": [f"https://m{n}.example.org/x.pt" for n in range(65)]},
            "field 'mirrors' lists 65 URLs; at most 64",
        ),
    ],
)
def test_mirrors_are_a_list_of_at_most_64_urls(tmp_path, fields, problem):
    assert entry_refusal(tmp_path, **fields) == problem


def test_64_mirrors_or_none_are_taken(tmp_path):
    mirrors = [f"https://m{n}.example.org/x.pt" for n in range(64)]
    assert len(loaded(tmp_path, row(mirrors=mirrors)).get("x").mirrors) == 64
    assert loaded(tmp_path, row(mirrors=[])).get("x").mirrors == ()


def test_a_mirror_is_checked_as_a_url_and_named_as_a_mirror(tmp_path):
    assert refusal(tmp_path, row(mirrors=["https://m.example.org/x.pt", "ftp://m/x.pt"])) == (
        f"{tmp_path / 'c.json'}: entry 'x', field 'mirrors': unsupported URL scheme 'ftp' in 'ftp://m/x.pt'; "
        "only http and https"
    )


SIZE = "field 'size' must be a whole number of bytes from 0 to 1125899906842624 (1 PiB), or null"


@pytest.mark.parametrize("size", [-1, 2**50 + 1, 1.0, "5", True])
def test_a_size_is_a_whole_number_of_bytes_up_to_a_pebibyte(tmp_path, size):
    assert entry_refusal(tmp_path, size=size) == SIZE


@pytest.mark.parametrize("size", [0, 2**50, None])
def test_a_size_from_0_to_a_pebibyte_or_null_is_taken(tmp_path, size):
    assert loaded(tmp_path, row(size=size)).get("x").size == size


@pytest.mark.parametrize("sha", ["ab" * 31, "ab" * 33, "g" * 64, 5, " " + "a" * 63])
def test_a_sha256_is_64_hexadecimal_digits(tmp_path, sha):
    assert entry_refusal(tmp_path, sha256=sha) == "field 'sha256' must be 64 hexadecimal digits or null"


@pytest.mark.parametrize(("sha", "kept"), [("AB" * 32, "ab" * 32), (None, None)])
def test_a_sha256_is_kept_in_lower_case(tmp_path, sha, kept):
    assert loaded(tmp_path, row(sha256=sha)).get("x").sha256 == kept


@pytest.mark.parametrize(
    ("filename", "problem"),
    [
        (5, "must be a string"),
        ("", "is empty"),
        ("a/b.pt", "must be a plain file name, without '/' or '\\'"),
        ("a\\b.pt", "must be a plain file name, without '/' or '\\'"),
        ("..", "must not contain '..'"),
        (".", "must not contain '..'"),
        (".hidden.pt", "must not start with a dot"),
        ("a:b.pt", "must not contain control characters or ':'"),
        ("a\x01b.pt", "must not contain control characters or ':'"),
        ("a\x9fb.pt", "must not contain control characters or ':'"),
        ("a\ud800b.pt", "must be text (it holds a lone surrogate such as \\ud800)"),
        ("é" * 101, "is longer than 200 bytes"),
        ("x.part", "must not end with .part (reserved for downloads in progress)"),
        ("x.part.json", "must not end with .part (reserved for downloads in progress)"),
        ("é.part", "must not end with .part (reserved for downloads in progress)"),
    ],
)
def test_a_file_name_is_a_plain_name_in_the_models_folder(tmp_path, filename, problem):
    assert entry_refusal(tmp_path, filename=filename) == f"field 'filename' {problem}"
    if isinstance(filename, str):
        assert check_filename(filename) == problem


@pytest.mark.parametrize(
    "name",
    ["model.pt", "x" * 200, "é" * 100, "a b.pt", "model..pt", "x.part.pt", "partial", "a~b(1).pt", "_x"],
)
def test_an_ordinary_file_name_is_fine(name):
    assert check_filename(name) is None


@pytest.mark.parametrize(
    "url", ["https://bucket.example.org/", "https://bucket.example.org/.part", "https://b.example.org/.."]
)
def test_a_url_without_a_usable_last_segment_needs_a_file_name(tmp_path, url):
    assert (
        entry_refusal(tmp_path, url=url) == "field 'url' does not end in a usable file name; set 'filename'"
    )
    assert loaded(tmp_path, row(url=url, filename="given.pt")).get("x").filename == "given.pt"


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("https://b.example.org/dir/model.pt", "model.pt"),
        ("https://b.example.org/dir/my%20model.pt", "my model.pt"),
        ("https://b.example.org/dir/model.pt?v=2#x", "model.pt"),
        ("https://b.example.org/dir/", "dir"),
        ("https://b.example.org/dir/.", "dir"),
        ("https://user@b.example.org/a/b.pt", "b.pt"),
        ("https://b.example.org", ""),
        ("https://b.example.org:8443/x/y.bin", "y.bin"),
    ],
)
def test_the_default_file_name_is_the_urls_last_segment_decoded(url, name):
    assert default_filename(url) == name


@pytest.mark.parametrize(
    ("key", "value", "problem"),
    [
        ("base", 5, "must be a string or null"),
        ("params", ["93M"], "must be a string or null"),
        ("description", {"a": 1}, "must be a string or null"),
        ("base", "b" * 129, "is 129 characters long; at most 128"),
        ("params", "p" * 1001, "is 1001 characters long; at most 1000"),
        ("description", "d" * 100_001, "is 100001 characters long; at most 100000"),
        ("params", "9\n3M", "holds the control character '\\n'"),
        ("description", "a\x00b", "holds the control character '\\x00'"),
        ("description", "a\x0bb", "holds the control character '\\x0b'"),
        ("description", "line\nbad\x00", "holds the control character '\\x00'"),  # not the line break
        ("description", "a\udfffb", "holds a lone surrogate ('\\udfff'), which is not text"),
    ],
)
def test_the_optional_texts_are_strings_of_their_lengths(tmp_path, key, value, problem):
    assert entry_refusal(tmp_path, **{key: value}) == f"field {key!r} {problem}"


def test_the_optional_texts_up_to_their_lengths_are_taken(tmp_path):
    x = loaded(
        tmp_path,
        row("b" * 128, url="https://b.example.org/b.pt"),
        row(base="b" * 128, params="p" * 1000, description="d" * 100_000),
    ).get("x")
    assert (len(x.base), len(x.params), len(x.description)) == (128, 1000, 100_000)


def test_a_base_is_the_id_of_another_entry(tmp_path):
    assert (
        entry_refusal(tmp_path, base="not an id")
        == "field 'base' must be the id of another entry, found 'not an id'"
    )
    assert entry_refusal(tmp_path, base="x") == "field 'base' names the entry itself"
    assert (
        refusal(tmp_path, row(base="missing"))
        == f"{tmp_path / 'c.json'}: entry 'x': field 'base' names unknown entry 'missing'"
    )


@pytest.mark.parametrize(
    ("expect", "problem"),
    [
        ([], "field 'expect' must be an object (arch, task, params, petl) or null"),
        ("ofa", "field 'expect' must be an object (arch, task, params, petl) or null"),
        ({"size": 1}, "field 'expect.size' is not known; expect takes arch, task, params and petl"),
        ({"arch": "OFA"}, "field 'expect.arch' must be a short lower-case name such as ofa_large"),
        ({"arch": 5}, "field 'expect.arch' must be a short lower-case name such as ofa_large"),
        ({"arch": "a" * 41}, "field 'expect.arch' must be a short lower-case name such as ofa_large"),
        ({"task": "9ref"}, "field 'expect.task' must be a short lower-case name such as refcoco"),
        ({"params": 0}, "field 'expect.params' must be a positive whole number of parameters"),
        ({"params": True}, "field 'expect.params' must be a positive whole number of parameters"),
        ({"params": 1.5}, "field 'expect.params' must be a positive whole number of parameters"),
        ({"params": None}, "field 'expect.params' must be a positive whole number of parameters"),
        ({"petl": "bitfit"}, "field 'expect.petl' must be one of adapter, lora, prompt, pi-adapter"),
        ({"petl": None}, "field 'expect.petl' must be one of adapter, lora, prompt, pi-adapter"),
    ],
)
def test_what_a_file_should_hold_is_checked_field_by_field(tmp_path, expect, problem):
    assert entry_refusal(tmp_path, expect=expect) == problem


@pytest.mark.parametrize(
    ("expect", "kept"),
    [
        (None, None),
        ({}, None),
        ({"arch": "ofa_large", "task": "a" * 40}, {"arch": "ofa_large", "task": "a" * 40}),
        ({"params": 1}, {"params": 1}),
        ({"petl": "pi-adapter"}, {"petl": "pi-adapter"}),
    ],
)
def test_what_a_file_should_hold_is_kept_as_given(tmp_path, expect, kept):
    assert loaded(tmp_path, row(expect=expect)).get("x").expect == kept


@pytest.mark.parametrize(
    ("key", "value", "shown"),
    [
        ("note", "a\ud800", "'note' holds a lone surrogate in 'a\\ud800', which is not text"),
        (
            "note",
            {"k": ["ok", {"deep": "\udc00"}]},
            "'note' holds a lone surrogate in '\\udc00', which is not text",
        ),
        ("note", {"\ud801": 1}, "'note' holds a lone surrogate in '\\ud801', which is not text"),
        ("n\ud802", 1, "'n\\ud802' holds a lone surrogate in 'n\\ud802', which is not text"),
    ],
)
def test_a_field_the_catalog_carries_along_must_be_text_too(tmp_path, key, value, shown):
    assert entry_refusal(tmp_path, **{key: value}) == f"field {shown}"


def test_fields_the_catalog_carries_along_are_kept(tmp_path):
    x = loaded(tmp_path, row(note={"k": ["ok", 1, None, {"a": "b"}]}, other=2)).get("x")
    assert x.extra == {"note": {"k": ["ok", 1, None, {"a": "b"}]}, "other": 2}


# -- URLs and hosts ------------------------------------------------------------------------------------


def url_refusal(tmp_path: Path, url) -> str:
    message = refusal(tmp_path, row(url=url, filename="x.pt"))
    prefix = f"{tmp_path / 'c.json'}: entry 'x', field 'url': "
    assert message.startswith(prefix), message
    return message[len(prefix) :]


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        (5, "must be a URL string"),
        (["https://b/x.pt"], "must be a URL string"),
        ("   ", "must be a URL string"),
        (
            "https://b.example.org:65536/x.pt",
            "URL 'https://b.example.org:65536/x.pt' is malformed: Port out of range 0-65535",
        ),
        (
            "https://b.example.org:99999/x.pt",
            "URL 'https://b.example.org:99999/x.pt' is malformed: Port out of range 0-65535",
        ),
        ("http://[::1/x.pt", "URL 'http://[::1/x.pt' is malformed: Invalid IPv6 URL"),
        (
            "ftp://b.example.org/x.pt",
            "unsupported URL scheme 'ftp' in 'ftp://b.example.org/x.pt'; only http and https",
        ),
        (
            "b.example.org/x.pt",
            "unsupported URL scheme '(none)' in 'b.example.org/x.pt'; only http and https",
        ),
        ("https:///x.pt", "URL 'https:///x.pt' has no host"),
        ("https://user@/x.pt", "URL 'https://user@/x.pt' has no host"),
        ("https://a..b/x.pt", "URL has a malformed host 'a..b'"),
        ("https://.a/x.pt", "URL has a malformed host '.a'"),
        ("https://a!b/x.pt", "URL has a malformed host 'a!b'"),
        ("https://a b/x.pt", "URL has a malformed host 'a b'"),
        (
            "https://a\u200db.example/x.pt",
            "URL has a host name that cannot be encoded (IDNA): 'a\\u200db.example'",
        ),
        ("https://ü_b.example/x.pt", "URL has a host name that cannot be encoded (IDNA): 'ü_b.example'"),
        ("https://Ⅻ.example/x.pt", "URL has a host name that cannot be encoded (IDNA): 'ⅻ.example'"),
        # Only "." separates labels: a wide or ideographic full stop is no dot in a host name.
        (
            "https://bücher。example/x.pt",
            "URL has a host name that cannot be encoded (IDNA): 'bücher。example'",
        ),
        (
            "https://bücher．example/x.pt",
            "URL has a host name that cannot be encoded (IDNA): 'bücher．example'",
        ),
        (
            "https://ü" + "x" * 70 + ".example/x.pt",
            "URL has a host name that cannot be encoded (IDNA): 'ü" + "x" * 70 + ".ex…ple' (81 characters)",
        ),
        (  # a quoted host of 80 characters is shown whole
            "https://ü" + "x" * 69 + ".example/x.pt",
            "URL has a host name that cannot be encoded (IDNA): 'ü" + "x" * 69 + ".example'",
        ),
        ("https://b.example.org/" + "x" * 4075, "URL is 4097 characters long; at most 4096"),
        ("https://b.example.org/\x00", "URL holds the control character '\\x00'"),
        ("https://b.example.org/a\nb", "URL holds the control character '\\n'"),
        ("https://b.example.org/\ud800", "URL holds a lone surrogate ('\\ud800'), which is not text"),
    ],
)
def test_a_url_that_cannot_be_fetched_is_refused_saying_why(tmp_path, url, problem):
    assert url_refusal(tmp_path, url) == problem


@pytest.mark.parametrize("host", ["fe80::zz", "fe80::1%", "fe80::1%a%b", "1::2::3"])
def test_a_malformed_ipv6_address_is_refused_by_name(tmp_path, host):
    url = f"https://[{host}]/x.pt"
    # Python from 3.11.4 refuses it as it splits the URL; before, the catalog's own check does.
    assert url_refusal(tmp_path, url) in (
        f"URL {url!r} is malformed: {host!r} does not appear to be an IPv4 or IPv6 address",
        f"URL has a malformed IPv6 address {host!r}",
    )


@pytest.mark.parametrize(
    "url",
    [
        "https://b.example.org:65535/x.pt",
        "http://b.example.org:0/x.pt",
        "HTTPS://B.example.org/x.pt",
        "https://b.example.org/x y.pt",
        "https://b.example.org/x.pt?v=1",
        "http://b.example.org/x.pt?v=1",  # not the plain form: the full check takes http too
        "HTTP://b.example.org/x y.pt",
        "https://u:p@b.example.org/x.pt",
        "https://[::1]:8080/x.pt",
        "https://[fe80::1%eth0]/x.pt",
        "https://[fe80::1%25eth0]/x.pt",
        "https://a_b.example/x.pt",
        "https://bücher.example/x.pt",
        "https://BÜCHER.Example/x.pt",
        "https://xn--bcher-kva.example/x.pt",
        "https://b.example.org/" + "x" * 4074,
    ],
)
def test_a_url_that_can_be_fetched_is_taken_as_given(tmp_path, url):
    assert loaded(tmp_path, row(url=url, filename="x.pt")).get("x").url == url


# -- the file ------------------------------------------------------------------------------------------


def test_the_file_must_exist_be_readable_and_be_utf8(tmp_path):
    missing = tmp_path / "missing.json"
    with pytest.raises(CatalogError) as refused:
        load_catalog([missing])
    assert str(refused.value) == f"{missing}: catalog file not found"
    with pytest.raises(CatalogError) as refused:
        load_catalog([tmp_path])
    assert str(refused.value) == f"{tmp_path}: cannot read catalog: [Errno 21] Is a directory: '{tmp_path}'"
    latin = tmp_path / "latin.json"
    latin.write_bytes(b'{"format": 1, "title": "\xe9", "entries": []}')
    with pytest.raises(CatalogError) as refused:
        load_catalog([latin])
    assert str(refused.value) == (
        f"{latin}: cannot read catalog: 'utf-8' codec can't decode byte 0xe9 in position 24: "
        "invalid continuation byte"
    )
    with pytest.raises(CatalogError) as refused:
        load_catalog(["a\0b.json"])
    assert str(refused.value) == "PosixPath('a\\x00b.json'): cannot read catalog: embedded null byte"


def test_a_file_larger_than_256_mib_is_not_read(tmp_path, monkeypatch):
    huge = tmp_path / "huge.json"
    with open(huge, "wb") as sparse:
        sparse.truncate(256 * 1024 * 1024 + 1)  # a hole: no bytes written
    with pytest.raises(CatalogError) as refused:
        load_catalog([huge])
    assert str(refused.value) == f"{huge}: larger than 256 MiB; not a catalog"
    # The limit itself is allowed (checked with a smaller limit: 256 MiB of text would take long to parse).
    exactly = tmp_path / "exactly.json"
    exactly.write_text(json.dumps({"format": 1, "entries": []}), encoding="utf-8")
    monkeypatch.setattr(catalog_module, "MAX_FILE_BYTES", exactly.stat().st_size)
    assert len(load_catalog([exactly])) == 0


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{not json", "line 1, column 2: invalid JSON: Expecting property name enclosed in double quotes"),
        ('{"format": 1,\n  "entries": [}', "line 2, column 15: invalid JSON: Expecting value"),
        ("[" * 100_000, "nested too deeply (thousands of [ or { inside each other)"),
        (
            '{"format": 1,\n"entries": [],\n"n": ' + "7" * 5000 + "}",
            "line 3: a number of 5000 digits; not a catalog",
        ),
        (
            '\n{"format": 1,\n"n": ' + "7" * 4400 + ',\n"entries": []\n}\n',
            "line 3: a number of 4400 digits; not a catalog",
        ),
        ("[1, 2]", "the catalog must be a JSON object with 'format' and 'entries'"),
        ('"text"', "the catalog must be a JSON object with 'format' and 'entries'"),
        ('{"entries": []}', "field 'format' must be 1 (found None)"),
        ('{"format": 2, "entries": []}', "field 'format' must be 1 (found 2)"),
        ('{"format": true, "entries": []}', "field 'format' must be 1 (found True)"),
        ('{"format": "1", "entries": []}', "field 'format' must be 1 (found '1')"),
        ('{"format": 1}', "field 'entries' must be a list"),
        ('{"format": 1, "entries": {}}', "field 'entries' must be a list"),
        (
            '{"format": 1, "title": "a\\u0000", "entries": []}',
            "field 'title' holds the control character '\\x00'",
        ),
        (
            '{"format": 1, "title": "' + "t" * 1001 + '", "entries": []}',
            "field 'title' is 1001 characters long; at most 1000",
        ),
    ],
)
def test_a_file_that_is_not_a_catalog_is_refused_naming_the_place(tmp_path, text, problem):
    path = tmp_path / "c.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CatalogError) as refused:
        load_catalog([path])
    assert str(refused.value) == f"{path}: {problem}"


def test_the_catalog_title_is_the_files_title_or_its_name(tmp_path):
    named = write(tmp_path / "lab.json", [row("a")], title="Lab models")
    untitled = tmp_path / "untitled.json"
    untitled.write_text(
        json.dumps({"format": 1, "entries": [row("b", url="https://b.example.org/b.pt")]}), encoding="utf-8"
    )
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"format": 1, "title": 5, "entries": []}), encoding="utf-8")
    catalog = load_catalog([named, untitled, other])
    assert catalog.title == "Lab models + untitled + other"
    assert catalog.source_titles == {str(named): "Lab models", str(untitled): "untitled", str(other): "other"}
    assert catalog.sources == [named, untitled, other]
    assert catalog.ids() == ["a", "b"]


def test_without_files_the_builtin_catalog_is_loaded():
    for given in (None, [], ()):
        catalog = load_catalog(given)
        assert catalog.sources == [builtin_catalog_path()] and len(catalog) > 0


def test_an_id_given_twice_is_refused_naming_where_it_was_first(tmp_path):
    first = write(tmp_path / "a.json", [row("x")])
    second = write(
        tmp_path / "b.json",
        [row("y", url="https://b.example.org/y.pt"), row("x", url="https://b.example.org/z.pt")],
    )
    with pytest.raises(CatalogError) as refused:
        load_catalog([first, second])
    assert str(refused.value) == f"{second}: entry 'x': field 'id' is not unique (also in {first})"


@pytest.mark.parametrize(
    ("attr", "mine", "theirs"), [("filename", "a.pt", "b.pt"), ("sha256", SHA, "cd" * 32), ("size", 1, 2)]
)
def test_entries_sharing_a_url_must_agree_on_the_file(tmp_path, attr, mine, theirs):
    assert refusal(tmp_path, row("a", **{attr: theirs}), row("b", **{attr: mine})) == (
        f"{tmp_path / 'c.json'}: entry 'b': field {attr!r} disagrees with entry 'a', which has the same URL"
    )


def test_entries_sharing_a_url_may_leave_out_what_the_other_says(tmp_path):
    catalog = loaded(
        tmp_path,
        row("a", size=5, sha256=SHA),
        row("b"),
        row("c", size=5),
        row("d", url="https://b.example.org/model.pt", size=6),
    )
    assert [e.id for e in catalog.sharing(catalog.get("a"))] == ["b", "c"]
    assert [e.id for e in catalog.sharing(catalog.get("c"))] == ["a", "b"]
    assert catalog.sharing(catalog.get("d")) == []


def test_the_cycle_collector_is_paused_while_loading_and_restored(tmp_path):
    path = write(tmp_path / "c.json", [row("x")])
    seen = []

    def paths():
        seen.append(gc.isenabled())
        yield path

    assert gc.isenabled()
    assert load_catalog(paths()).ids() == ["x"]
    assert seen == [False] and gc.isenabled()
    gc.disable()
    try:
        load_catalog(paths())
        assert not gc.isenabled()
    finally:
        gc.enable()
    with pytest.raises(CatalogError):
        load_catalog([tmp_path / "missing.json"])
    assert gc.isenabled()


# -- asking the catalog --------------------------------------------------------------------------------


def test_entries_are_found_by_id_and_kept_in_order(tmp_path):
    catalog = loaded(tmp_path, row("b", url="https://b.example.org/b.pt"), row("a"))
    assert catalog.ids() == ["b", "a"] and [e.id for e in catalog] == ["b", "a"] and len(catalog) == 2
    assert "a" in catalog and "c" not in catalog and 5 not in catalog
    assert catalog.get("a").url == URL


@pytest.mark.parametrize(
    ("asked", "message"),
    [
        ("ofa-bse", "unknown checkpoint id 'ofa-bse'; did you mean ofa-base, ofa-base-2, ofa-large?"),
        ("ofa-larg", "unknown checkpoint id 'ofa-larg'; did you mean ofa-large, ofa-base, ofa-base-2?"),
        ("zzz", "unknown checkpoint id 'zzz'; `ofa-manager list` shows the ids"),
    ],
)
def test_an_unknown_id_is_named_with_the_closest_ids(tmp_path, asked, message):
    ids = ["ofa-base", "ofa-base-2", "ofa-large", "x"]
    catalog = loaded(tmp_path, *(row(i, url=f"https://b.example.org/{i}.pt") for i in ids))
    with pytest.raises(KeyError) as refused:
        catalog.get(asked)
    assert refused.value.args[0] == message
    assert refused.value.__suppress_context__
    assert unknown_id_message(asked, ids) == message


def test_at_most_three_close_ids_are_offered_and_only_close_ones():
    # Closest first (difflib's order), three at most.
    ids = ["model-1", "model-2", "model-3", "model-4"]
    assert (
        unknown_id_message("model-", ids)
        == "unknown checkpoint id 'model-'; did you mean model-4, model-3, model-2?"
    )
    # Half the letters in common is close enough; less is not.
    assert unknown_id_message("abcd", ["abxy"]) == "unknown checkpoint id 'abcd'; did you mean abxy?"
    assert (
        unknown_id_message("abcd", ["axyz"])
        == "unknown checkpoint id 'abcd'; `ofa-manager list` shows the ids"
    )


def test_the_entries_needing_a_backbone_are_its_dependants(tmp_path):
    catalog = loaded(
        tmp_path,
        row("base", url="https://b.example.org/base.pt"),
        row("p1", url="https://b.example.org/p1.pt", base="base"),
        row("p2", url="https://b.example.org/p2.pt", base="base"),
        row("lone", url="https://b.example.org/lone.pt"),
    )
    assert [e.id for e in catalog.dependants(catalog.get("base"))] == ["p1", "p2"]
    assert catalog.dependants(catalog.get("lone")) == []
    assert catalog.dependants(catalog.get("p1")) == []
    listed = catalog.dependants(catalog.get("base"))
    listed.clear()  # a copy: the catalog's own index is untouched
    assert len(catalog.dependants(catalog.get("base"))) == 2


def test_an_entry_sits_under_its_catalogs_title_only_when_there_are_several(tmp_path):
    one = write(tmp_path / "one.json", [row("a", group=["Backbones"])], title="Lab")
    other = write(
        tmp_path / "other.json",
        [
            row("b", url="https://b.example.org/b.pt", group=["Zoo", "x"]),
            row("c", url="https://b.example.org/c.pt"),
        ],
        title="Zoo",
    )
    single = load_catalog([one])
    assert single.tree_path(single.get("a")) == ("Backbones",)
    both = load_catalog([one, other])
    assert both.tree_path(both.get("a")) == ("Lab", "Backbones")
    assert both.tree_path(both.get("b")) == ("Zoo", "x")  # its groups start with the title already
    assert both.tree_path(both.get("c")) == ("Zoo", "G")
    # A catalog made without titles files its entries under their file's name.
    bare = Catalog(title="t", entries=list(both), sources=both.sources)
    assert bare.tree_path(bare.get("a")) == ("one", "Backbones")


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://user:pw@b.example.org/x.pt", "https://***@b.example.org/x.pt"),
        ("https://us%40er:p@ss@b.example.org:8443/x.pt?q=1", "https://***@b.example.org:8443/x.pt?q=1"),
        ("https://b.example.org/x@y.pt", "https://b.example.org/x@y.pt"),
        ("https://b.example.org/x.pt", "https://b.example.org/x.pt"),
    ],
)
def test_a_url_is_shown_without_its_user_and_password(url, shown):
    assert display_url(url) == shown


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (
            "failed: https://u:p@b.example.org/x.pt and http://v@c/y",
            "failed: https://***@b.example.org/x.pt and http://***@c/y",
        ),
        ("'https://u:p@b/x.pt' see a@b", "'https://***@b/x.pt' see a@b"),
        ("mail me at a@b.example.org", "mail me at a@b.example.org"),
        ("https://b.example.org/x@y", "https://b.example.org/x@y"),
        ("no at sign: https://b/x", "no at sign: https://b/x"),
    ],
)
def test_every_url_in_a_text_is_shown_without_its_user_and_password(text, shown):
    assert redact_text(text) == shown
    assert catalog_module.REDACTED == "***"


def test_an_entry_of_another_catalog_shares_nothing_and_needs_nothing_here(tmp_path):
    here = loaded(tmp_path, row("a"))
    elsewhere = load_catalog(
        [write(tmp_path / "other.json", [row("b", url="https://other.example.org/b.pt")])]
    )
    stranger = elsewhere.get("b")
    assert here.sharing(stranger) == [] and here.dependants(stranger) == []


def test_a_catalog_is_read_as_utf8_whatever_the_locale(tmp_path):
    # A process in the plain C locale (ASCII), without Python's UTF-8 mode, reads a title in Chinese.
    path = tmp_path / "c.json"
    path.write_text(
        json.dumps({"format": 1, "title": "模型", "entries": [row()]}, ensure_ascii=False), "utf-8"
    )
    env = cli_env(LC_ALL="C", LANG="C", PYTHONUTF8="0", PYTHONCOERCECLOCALE="0")
    code = (
        "import json; from ofa_manager.core.catalog import load_catalog; "
        f"print(json.dumps(load_catalog([{str(path)!r}]).title))"
    )
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == "模型"


def test_a_number_over_a_lower_digit_limit_is_named_in_pythons_words(tmp_path):
    # PYTHONINTMAXSTRDIGITS may set the limit as low as 640: a number of 700 digits is then refused too.
    path = tmp_path / "c.json"
    path.write_text('{"format": 1, "entries": [], "n": ' + "7" * 700 + "}", encoding="utf-8")
    env = cli_env(PYTHONINTMAXSTRDIGITS="640")
    code = (
        "from ofa_manager.core.catalog import load_catalog, CatalogError\n"
        f"try:\n    load_catalog([{str(path)!r}])\nexcept CatalogError as exc:\n    print(exc)"
    )
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(
        f"{path}: invalid JSON: Exceeds the limit (640 digits) for integer string conversion: "
        "value has 700 digits"
    )
