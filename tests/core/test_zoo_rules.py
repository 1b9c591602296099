"""core.zoo rule by rule, through its functions: which links are checkpoint files and why the others are
left out (the import prints the reason), parameter counts, ids, names, Markdown and HTML read for links,
headings, rows and cells, the catalog rows built from them, and each refusal's words. Pure functions and
files in temporary folders (the user's catalogs folder is a temporary folder, see conftest)."""

from __future__ import annotations

import calendar
import json
import os
import re
import time

import pytest

from ofa_manager.core import zoo
from ofa_manager.core.zoo import Link, ZooError

EXTENSIONS = ", ".join(zoo.FILE_EXTENSIONS)


@pytest.mark.parametrize(
    "url, problem",
    [
        ("ftp://h/a.pt", "not a web address"),
        ("https:///a.pt", "not a web address"),
        ("http://h/a.PT", None),
        ("HTTPS://h/a.pt", None),
        ("https://h/a.tar.gz", None),
        ("https://h/a%2Ept", None),
        ("https://h/a.pt?x=1#f", None),
        ("https://github.com/o/r/releases/download/v1/a.pt", None),
        ("https://github.com/o/r/raw/main/a.bin", None),
        ("https://huggingface.co/o/r/resolve/main/m.bin", None),
        ("https://h/x/y.png", "an image, not a checkpoint file"),
        ("https://h/x/y.JPG", "an image, not a checkpoint file"),
        ("https://h/x/y.svg", "an image, not a checkpoint file"),
        ("https://github.com/o/r", "a repository page, not a file"),
        ("https://GitHub.com/o/r", "a repository page, not a file"),
        ("https://gitlab.com/o/r.git", "a repository page, not a file"),
        ("https://huggingface.co/o/r.v1", "a repository page, not a file"),
        ("https://huggingface.co/o/r/resolve/main/m", "a web page, not a file"),
        ("https://github.com/o/r/raw/main/m", "a web page, not a file"),
        ("https://h/", "a web page, not a file"),
        ("https://h/dir", "a web page, not a file"),
        ("https://h/page.html", "a web page, not a file"),
        ("https://h/page.HTM", "a web page, not a file"),
        ("https://h/x.php", "a web page, not a file"),
        ("https://h/x.asp", "a web page, not a file"),
        ("https://h/x.aspx", "a web page, not a file"),
        ("https://h/readme.md", "a web page, not a file"),
        ("https://h/a.doc", f"its name does not end in a checkpoint file extension ({EXTENSIONS})"),
        (
            "https://github.com/o/r/raw/main/a.doc",
            f"its name does not end in a checkpoint file extension ({EXTENSIONS})",
        ),
    ],
)
def test_which_links_are_checkpoint_files(url, problem):
    assert zoo.file_link_problem(url) == problem


@pytest.mark.parametrize("extension", zoo.FILE_EXTENSIONS)
def test_every_checkpoint_extension_counts(extension):
    assert zoo.file_link_problem(f"https://h/model{extension}") is None


@pytest.mark.parametrize(
    "text, cells, expected",
    [
        ("(~470M parameters)", (), ("470M", 470_000_000)),
        ("~1.2B params", (), ("1.2B", 1_200_000_000)),
        ("12 k parameters", (), ("12K", 12_000)),
        ("470Mparameters", (), ("470M", 470_000_000)),
        ("x 3M parameters y 4B params", (), ("3M", 3_000_000)),
        ("2 T PARAMS", (), ("2T", 2_000_000_000_000)),
        ("470M parametersx", (), None),
        ("470M", (), None),  # outside a table cell, a size alone is not a parameter count
        ("no", ("930M",), ("930M", 930_000_000)),
        ("no", (" 1.5b ",), ("1.5B", 1_500_000_000)),
        ("no", ("x", "~7T"), ("7T", 7_000_000_000_000)),
        ("no", ("1K", "2M"), ("1K", 1_000)),
        ("no", ("930M params",), None),
        ("no", ("930",), None),
        ("5M parameters", ("930M",), ("5M", 5_000_000)),  # the text first
    ],
)
def test_parameter_counts(text, cells, expected):
    assert zoo.parse_params(text, cells) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("  Hello World!  ", "hello-world"),
        ("A--B__C", "a-b__c"),
        ("-.a.-", "a"),
        ("+a+", "a"),
        ("a+b.c_d", "a+b.c_d"),
        ("Ünïcode ok", "n-code-ok"),
        ("...", ""),
        ("OFA (Large)", "ofa-large"),
        ("x" * 200, "x" * 128),
        ("y" * 127 + "-z", "y" * 127),  # cut at the limit, then no trailing '-'
    ],
)
def test_slugs(text, expected):
    assert zoo.slug(text) == expected


@pytest.mark.parametrize(
    "source, name",
    [
        ("https://h/dir/checkpoints.md", "checkpoints"),
        ("https://h/", "h"),
        ("https://h", "h"),
        ("https://h/a/", "a"),
        ("/tmp/My List.md", "my-list"),
        ("list", "list"),
        ("~/x.html", "x"),
        ("!!!", "imported"),
        ("/tmp/" + "n" * 100 + ".md", "n" * 64),
        ("https://h/X", "x"),
        ("https://h/a/list?v=1.2", "list"),  # an address's path, not its query
        ("https://h/" + "a" * 63 + "-b.md", "a" * 63),  # cut at 64, then no trailing '-'
    ],
)
def test_default_names(source, name):
    assert zoo.default_name(source) == name


@pytest.mark.parametrize("name", ["a", "A1", "x.y_z-0", "9" * 64])
def test_catalog_names_that_pass(name):
    assert zoo.check_name(name) == name


@pytest.mark.parametrize("name", ["", "-a", ".a", "_a", "a/b", "../x", "a b", "9" * 65, "é"])
def test_catalog_names_refused_in_words(name):
    with pytest.raises(ZooError) as refused:
        zoo.catalog_path(name)
    assert str(refused.value) == (
        f"catalog name {name!r} must be letters, digits, '.', '_' or '-' (at most 64, starting with "
        "a letter or digit)"
    )


@pytest.mark.parametrize(
    "text, where, content_type, html",
    [
        ("x", "", "text/HTML; charset=utf-8", True),
        ("x", "a.HTM", "", True),
        ("x", "a.html", "", True),
        ("<html>", "a.md", "", False),
        ("<html>", "a.markdown", "", False),
        ("<p>", "a.txt", "", False),
        ("<html>", "a.TXT", "", False),
        ("<!DOCTYPE html>", "", "", True),
        ("  <HTML>", "", "", True),
        ("<head></head><body>", "", "", True),
        ("# md", "", "", False),
        ("x" * 1000 + "<body>", "", "", False),  # only the head of the text is looked at
        ("x" * 995 + "<body>", "", "", True),
        ("x" * 996 + "<body>", "", "", False),  # "<body" cut at the thousandth character
    ],
)
def test_html_or_markdown(text, where, content_type, html):
    assert zoo.is_html(text, where, content_type) is html


def test_decoding_a_document():
    assert zoo.decode("\ufeff# T".encode(), "w") == "# T"
    for data, message in (
        (b"  \n\t", "w: the document is empty"),
        (b"# a\x00b", "w: not a text document (it holds binary data); expected Markdown or HTML"),
        (b"# caf\xe9", "w: not UTF-8 text; expected a Markdown or HTML page"),
    ):
        with pytest.raises(ZooError) as refused:
            zoo.decode(data, "w")
        assert str(refused.value) == message
    assert zoo.decode(b"x" * 65536 + b"\x00", "w").endswith("\x00")  # binary is looked for at the head


# -- Markdown ---------------------------------------------------------------------------------------------

MARKDOWN = """Title
=====

Sub
---

# H1 #
## H2
### H3
* [Large](https://h/l.pt) (~470M parameters)
## Other
| Name | Params | Link |
|---|---|---|
| **Base** | 180M | [download](https://h/b.pt) |
```
[code](https://h/c.pt)
```
~~~
[code2](https://h/c2.pt)
~~~
Text <a href="https://h/a.pt">A tag</a> and <https://h/auto.pt> and ![img](https://h/i.png) {TITLED}
- not | a | table [t](https://h/t.pt)
a | b | [c](https://h/c3.pt)
    ## indented four: not a heading
Lead
----
- [after](https://h/after.pt)
""".replace("{TITLED}", '[x [y] z](https://h/p(1).pt "title")')


def test_markdown_links_with_their_headings_rows_and_cells():
    found = [
        (link.text, link.href, link.headings, link.context, link.cells)
        for link in zoo.parse_markdown(MARKDOWN)
    ]
    h1, other = (1, "H1"), (2, "Other")
    line = "Text A tag and and img x [y] z"
    assert found == [
        ("Large", "https://h/l.pt", (h1, (2, "H2"), (3, "H3")), "Large (~470M parameters)", ()),
        (
            "download",
            "https://h/b.pt",
            (h1, other),
            "| Base | 180M | download |",
            ("Base", "180M", "download"),
        ),
        ("A tag", "https://h/a.pt", (h1, other), line, ()),
        ("", "https://h/auto.pt", (h1, other), line, ()),
        ("image", "https://h/i.png", (h1, other), line, ()),
        ("x [y] z", "https://h/p(1).pt", (h1, other), line, ()),
        ("t", "https://h/t.pt", (h1, other), "- not | a | table t", ()),
        ("c", "https://h/c3.pt", (h1, other), "a | b | c", ("a", "b", "c")),
        ("after", "https://h/after.pt", (h1, (2, "Lead")), "- after", ()),
    ]


def test_setext_headings_and_what_is_not_one():
    links = zoo.parse_markdown("Top\n===\nMid\n---\n[a](https://h/a.pt)\n* item\n---\n[b](https://h/b.pt)\n")
    assert [link.headings for link in links] == [((1, "Top"), (2, "Mid")), ((1, "Top"), (2, "Mid"))]
    links = zoo.parse_markdown("| x |\n---\n[a](https://h/a.pt)\n")
    assert links[0].headings == ()


def test_plain_text_of_markdown_and_html():
    assert zoo._plain("**bold** _it_ `code` [t](u) <b>x</b>  &amp; y") == "bold it code t x & y"


# -- HTML -------------------------------------------------------------------------------------------------

HTML = """<html><head><title> My  Zoo </title></head><body>
<h1>Top</h1><h2>Sec <b>one</b></h2>
<ul><li>Item <a href="https://h/1.pt">One</a> (~5M params)</li>
<li><a href="https://h/2.pt"><img alt="Two img" src="x.png"></a></li></ul>
<h2></h2>
<table><tr><th>Name</th><th>P</th></tr><tr><td>Row1</td><td>7M</td><td><a href="https://h/3.pt">download</a></td></tr></table>
<h3>Deep</h3><p>Para <a href="https://h/4.pt">Four</a> tail</p><a>no href</a>
<div>outer <p>inner <a href="https://h/5.pt">Five</a></p> after</div>
<h1>Top2</h1><a href="https://h/6.pt">Six</a>
</body></html>"""


def test_html_links_with_their_headings_blocks_and_rows():
    links, title = zoo.parse_html(HTML)
    assert title == "My Zoo"
    top, sec = (1, "Top"), (2, "Sec one")
    assert [(link.text, link.href, link.headings, link.context, link.cells) for link in links] == [
        ("One", "https://h/1.pt", (top, sec), "Item One (~5M params)", ()),
        ("Two img", "https://h/2.pt", (top, sec), "", ()),
        ("download", "https://h/3.pt", (top, sec), "download", ("Row1", "7M", "download")),
        ("Four", "https://h/4.pt", (top, sec, (3, "Deep")), "Para Four tail", ()),
        ("Five", "https://h/5.pt", (top, sec, (3, "Deep")), "inner Five", ()),
        ("Six", "https://h/6.pt", ((1, "Top2"),), "", ()),
    ]


# -- the catalog built from the links ---------------------------------------------------------------------

LIST = """# Lab
## Pre
* [Pre-trained checkpoint (Lab-L)](https://h/l.pt) (~470M parameters)
* [download](https://h/dl.pt)
* [Download weights](https://h/d2.pt)
* [CKPT](https://h/c.pt)
* [](https://h/empty.pt)
* [x](#anchor) [m](mailto:a@b) [j](javascript:x) [r](rel/a.pt) [sp]( https://h/sp.pt )
* [img](https://h/i.png) [bad](https://h/a%3Ab.pt)
### Table
| Name | Size |
|---|---|
| Row-Name | [download](https://h/row.pt) |
| https://h/x | [link](https://h/row2.pt) |
"""


def row_of(entries: list[dict], url: str) -> dict:
    return next(e for e in entries if e["url"] == url)


def test_catalog_rows_from_links():
    result = zoo.build_catalog(zoo.parse_markdown(LIST), name="n", title="T", source="s", taken_ids={"lab-l"})
    assert result.name == "n" and result.path is None
    catalog = result.catalog
    assert {k: v for k, v in catalog.items() if k not in ("entries", "imported_at")} == {
        "format": 1,
        "title": "T",
        "source": "s",
    }
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", catalog["imported_at"])
    entries = catalog["entries"]
    ids = ["lab-l-2", "dl.pt", "d2.pt", "c.pt", "empty.pt", "sp", "row-name", "row2.pt"]
    assert [e["id"] for e in entries] == ids
    assert entries[0] == {
        "id": "lab-l-2",  # the name in brackets, "lab-l" being taken
        "title": "Pre-trained checkpoint (Lab-L)",
        "group": ["T", "Pre"],  # the page's one h1 is the catalog itself
        "url": "https://h/l.pt",
        "size": None,
        "sha256": None,
        "mirrors": [],
        "filename": None,
        "base": None,
        "params": "470M",
        "parameters": 470_000_000,
        "description": "Pre-trained checkpoint (Lab-L) (~470M parameters)",
    }
    # A link that says nothing of the checkpoint takes its file name, or the row's first cell.
    assert [row_of(entries, f"https://h/{n}.pt")["title"] for n in ("dl", "d2", "c", "empty")] == [
        "dl.pt",
        "d2.pt",
        "c.pt",
        "empty.pt",
    ]
    assert "description" not in row_of(entries, "https://h/empty.pt")  # no context but the link
    assert row_of(entries, "https://h/row.pt")["title"] == "Row-Name"
    assert row_of(entries, "https://h/row.pt")["group"] == ["T", "Pre", "Table"]
    assert row_of(entries, "https://h/row2.pt")["title"] == "row2.pt"  # a cell with an address is no name
    assert result.skipped == [
        ("rel/a.pt", "a relative link, and the document has no address to resolve it against"),
        ("https://h/i.png", "an image, not a checkpoint file"),
        ("https://h/a%3Ab.pt", "its file name 'a:b.pt' cannot be used"),
    ]


def test_relative_links_resolve_against_the_documents_address_and_several_h1s_are_groups():
    links = zoo.parse_markdown("# One\n[a](w/a.pt)\n# Two\n[b](/b.pt)\n")
    result = zoo.build_catalog(links, name="n", title="T", source="s", base_url="https://h/x/page.md")
    assert [(e["url"], e["group"]) for e in result.catalog["entries"]] == [
        ("https://h/x/w/a.pt", ["T", "One"]),
        ("https://h/b.pt", ["T", "Two"]),
    ]


def test_ids_stay_unique_and_start_with_a_letter_or_digit():
    links = [Link("a", f"https://h/{n}.pt", ()) for n in ("x", "y", "z")]
    links.append(Link("_under", "https://h/u.pt", ()))
    links.append(Link("!!!", "https://h/---.pt", ()))
    ids = [e["id"] for e in zoo.build_catalog(links, name="n", title="T", source="s").catalog["entries"]]
    assert ids == ["a", "a-2", "a-3", "under", "checkpoint"]
    long = [Link("b" * 200, f"https://h/{n}.pt", ()) for n in ("1", "2")]
    ids = [e["id"] for e in zoo.build_catalog(long, name="n", title="T", source="s").catalog["entries"]]
    assert ids == ["b" * 128, "b" * 126 + "-2"]


def test_long_titles_descriptions_and_groups_are_cut():
    headings = tuple((2, f"g{i}") for i in range(40))
    link = Link("t" * 2000, "https://h/a.pt", headings, context="c" * 20000)
    [row] = zoo.build_catalog([link], name="n", title="T", source="s").catalog["entries"]
    assert row["title"] == "t" * 1000 and row["description"] == "c" * 10000
    assert row["group"] == ["T", *(f"g{i}" for i in range(31))]


# -- the user's catalogs folder and the import's refusals ---------------------------------------------------


def test_reading_a_missing_or_too_big_file_is_refused(tmp_path):
    with pytest.raises(ZooError) as refused:
        zoo.read_source(str(tmp_path / "none.md"))
    assert str(refused.value) == f"{tmp_path / 'none.md'}: no such file"
    big = tmp_path / "big.md"
    with open(big, "wb") as out:
        out.truncate(zoo.MAX_DOCUMENT_BYTES + 1)
    with pytest.raises(ZooError) as refused:
        zoo.read_source(str(big))
    assert str(refused.value) == f"{big}: larger than 16 MiB; not a checkpoint list"
    with open(big, "r+b") as out:
        out.truncate(zoo.MAX_DOCUMENT_BYTES)
    assert len(zoo.read_source(str(big))[0]) == zoo.MAX_DOCUMENT_BYTES
    (tmp_path / "dir.md").mkdir()
    with pytest.raises(ZooError) as refused:
        zoo.read_source(str(tmp_path / "dir.md"))
    assert str(refused.value) == f"{tmp_path / 'dir.md'}: cannot be read: Is a directory"


def test_the_catalogs_listed_removed_and_named(tmp_path):
    folder = zoo.catalogs_dir()
    folder.mkdir(parents=True)
    (folder / "good.json").write_text(json.dumps({"title": "Good", "entries": [{}, {}], "source": "s"}))
    (folder / "broken.json").write_text("{")
    (folder / "not-json.txt").write_text("{}")
    (folder / ".hidden.json").write_text("{}")
    assert [p.name for p in zoo.user_catalogs()] == ["broken.json", "good.json"]
    rows = {row["name"]: row for row in zoo.list_catalogs(disabled=["good"])}
    assert list(rows) == ["built-in", "broken", "good"]
    assert rows["good"] == {
        "name": "good",
        "path": str(folder / "good.json"),
        "title": "Good",
        "entries": 2,
        "source": "s",
        "enabled": False,
    }
    assert rows["broken"]["problem"].startswith("cannot be read: ") and rows["broken"]["entries"] == 0
    assert rows["broken"]["enabled"] is True
    assert rows["built-in"]["source"] == "built in" and rows["built-in"]["enabled"] is True
    assert [p.name for p in zoo.default_catalog_paths(disabled=["good"])][1:] == ["broken.json"]
    with pytest.raises(ZooError) as refused:
        zoo.remove_catalog("none")
    assert str(refused.value) == "no imported catalog named 'none' (imported: broken, good)"
    assert zoo.remove_catalog("good") == folder / "good.json" and not (folder / "good.json").exists()
    zoo.remove_catalog("broken")
    with pytest.raises(ZooError) as refused:
        zoo.remove_catalog("none")
    assert str(refused.value) == "no imported catalog named 'none' (imported: none)"
    assert sorted(os.listdir(folder)) == [".hidden.json", "not-json.txt"]


def test_import_refusals_in_words(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("# Nothing\n\nplain text\n")
    with pytest.raises(ZooError) as refused:
        zoo.import_document(str(page))
    assert str(refused.value) == (
        f"{page}: no links found; expected a Markdown or HTML list of checkpoint links"
    )
    links = "".join(f"* [p{i}](https://h/p{i}.html)\n" for i in range(7))
    page.write_text(f"# Pages\n{links}")
    with pytest.raises(ZooError) as refused:
        zoo.import_document(str(page))
    reasons = "; ".join(f"https://h/p{i}.html: a web page, not a file" for i in range(5))
    assert str(refused.value) == (
        f"{page}: none of its 7 links is a checkpoint file (a name ending in {EXTENSIONS}); "
        f"nothing imported. {reasons}"
    )
    page.write_text("# Lab\n* [A](https://h/a.pt)\n")
    result = zoo.import_document(str(page), disabled=[])
    assert result.path == zoo.catalog_path("page") and result.catalog["title"] == "Lab"
    assert result.catalog["source"] == str(page.resolve())
    assert json.loads(result.path.read_text()) == result.catalog
    assert not (result.path.parent / ".page.checking.json").exists()
    with pytest.raises(ZooError) as refused:
        zoo.import_document(str(page), disabled=[])
    assert str(refused.value) == (
        f"a catalog named 'page' exists already ({result.path}); choose --name or use --replace"
    )
    # Two different h1s: the catalog is named for its file; a base address is the source.
    page.write_text("# One\n* [A](a.pt)\n# Two\n* [B](b.pt)\n")
    result = zoo.import_document(str(page), name="two", base="https://h/x/", disabled=[])
    assert result.catalog["title"] == "two" and result.catalog["source"] == "https://h/x/"
    assert [e["url"] for e in result.catalog["entries"]] == ["https://h/x/a.pt", "https://h/x/b.pt"]


def test_a_page_fetched_from_the_loopback_server(http_server):
    http_server.add("/list.md", b"# L\n* [A](a.pt)\n", content_type="text/markdown")
    http_server.add("/moved", b"", redirect_to=http_server.url("/list.md"))
    data, base, content_type = zoo.read_source(http_server.url("/moved"))
    assert (data, base, content_type) == (b"# L\n* [A](a.pt)\n", http_server.url("/list.md"), "text/markdown")
    for status in (400, 403):
        http_server.add("/denied.md", b"x", statuses=[status])
        with pytest.raises(ZooError) as refused:
            zoo.fetch(http_server.url("/denied.md"))
        assert str(refused.value) == f"{http_server.url('/denied.md')}: the server answered {status}"
    http_server.add("/big.md", b"#" * (zoo.MAX_DOCUMENT_BYTES + 1))
    with pytest.raises(ZooError) as refused:
        zoo.fetch(http_server.url("/big.md"))
    assert str(refused.value) == f"{http_server.url('/big.md')}: larger than 16 MiB; not a checkpoint list"
    http_server.add("/edge.md", b"#" * zoo.MAX_DOCUMENT_BYTES)
    assert len(zoo.fetch(http_server.url("/edge.md"))[0]) == zoo.MAX_DOCUMENT_BYTES
    with pytest.raises(ZooError) as refused:
        zoo.fetch("http://127.0.0.1:9/none.md")  # the discard port: nothing listens
    assert str(refused.value).startswith("http://127.0.0.1:9/none.md: cannot be fetched: ")


@pytest.mark.parametrize("item", ["* a", "- a", "+ a", "| a |"])
def test_a_list_item_or_table_row_over_a_dash_line_is_no_heading(item):
    [link] = zoo.parse_markdown(f"# Top\n{item}\n---\n[b](https://h/b.pt)\n")
    assert link.headings == ((1, "Top"),)


@pytest.mark.parametrize(
    "line, cells",
    [
        ("* not | a | table [t](https://h/t.pt)", ()),
        ("- not | a | table [t](https://h/t.pt)", ()),
        ("| one | [t](https://h/t.pt)", ("one", "t")),
        ("one | [t](https://h/t.pt) |", ("one", "t")),
        ("one | [t](https://h/t.pt)", ()),  # a single bar: not a table row
    ],
)
def test_which_lines_are_table_rows(line, cells):
    [link] = zoo.parse_markdown(line + "\n")
    assert link.cells == cells


def test_a_fence_of_either_kind_hides_its_links_until_it_closes():
    text = "```\n[a](https://h/a.pt)\n```\n  ~~~\n[b](https://h/b.pt)\n~~~\n[c](https://h/c.pt)\n"
    assert [link.href for link in zoo.parse_markdown(text)] == ["https://h/c.pt"]


def test_catalogs_folder_is_in_the_config_folder_and_a_missing_one_lists_nothing():
    assert zoo.catalogs_dir().name == "catalogs"
    assert zoo.user_catalogs() == []
    assert [row["name"] for row in zoo.list_catalogs()] == ["built-in"]
    assert len(zoo.default_catalog_paths()) == 1


def test_html_entities_a_title_after_text_header_cells_and_a_row_left_open():
    page = (
        "<p>before &amp; title</p><title>T &amp; <i>U</i></title>"
        '<table><tr><th>Head <a href="https://h/th.pt">In <b>th</b></a></th><td>9M</td></tr></table>'
        '<a href="https://h/img.pt"><img src="x.png"></a>'
        '<table><tr><td>Open</td><td><a href="https://h/open.pt">down&amp;load</a></td>'
    )
    links, title = zoo.parse_html(page)
    assert title == "T & U"
    assert [(link.text, link.href, link.cells) for link in links] == [
        ("In th", "https://h/th.pt", ("Head In th", "9M")),
        ("", "https://h/img.pt", ()),
        ("down&load", "https://h/open.pt", ("Open",)),  # the row never closes: its cells up to the link
    ]


def test_catalogs_listed_without_a_title_or_source_and_one_that_is_not_an_object():
    folder = zoo.catalogs_dir()
    folder.mkdir(parents=True)
    (folder / "bare.json").write_text(json.dumps({"entries": []}))
    (folder / "listy.json").write_text("[1, 2]")
    rows = {row["name"]: row for row in zoo.list_catalogs(disabled=[])}
    assert (rows["bare"]["title"], rows["bare"]["source"], rows["bare"]["entries"]) == ("bare", "", 0)
    assert "problem" not in rows["bare"]
    listy = rows["listy"]
    assert (listy["title"], listy["source"], listy["entries"], listy["enabled"]) == ("", "", 0, True)
    assert listy["problem"] == "cannot be read: 'list' object has no attribute 'get'"


def test_setext_edges():
    # The heading line is the link's own line: it is read as a heading's text, not as a link.
    assert zoo.parse_markdown("[a](https://h/a.pt)\n===") == []
    [link] = zoo.parse_markdown("Top\n=\n[a](https://h/a.pt)\n")
    assert link.headings == ((1, "Top"),)
    [link] = zoo.parse_markdown("# Top\n  * item\n---\n[a](https://h/a.pt)\n")
    assert link.headings == ((1, "Top"),)  # an indented list item over a dash line is no heading


@pytest.mark.parametrize(
    "line, cells",
    [("| [t](https://h/t.pt)", ("t",)), ("|X | [t](https://h/t.pt)|", ("X", "t"))],
)
def test_a_row_starting_with_a_bar(line, cells):
    [link] = zoo.parse_markdown(line + "\n")
    assert link.cells == cells


def test_a_page_without_a_content_type(http_server):
    http_server.add("/bare.md", b"x", statuses=[(200, {}, b"")])  # an empty answer carries no type
    assert zoo.fetch(http_server.url("/bare.md")) == (b"", http_server.url("/bare.md"), "")


def test_the_name_in_brackets_whatever_the_case_and_the_import_time_in_utc(monkeypatch):
    link = Link("Fine-tuned CHECKPOINT (Big-One)", "https://h/b.pt", ())
    monkeypatch.setenv("TZ", "Etc/GMT-12")  # twelve hours ahead of UTC
    time.tzset()
    try:
        before = int(time.time())
        catalog = zoo.build_catalog([link], name="n", title="T", source="s").catalog
        after = int(time.time())
    finally:
        monkeypatch.undo()
        time.tzset()
    assert catalog["entries"][0]["id"] == "big-one"
    seconds = calendar.timegm(time.strptime(catalog["imported_at"], "%Y-%m-%dT%H:%M:%SZ"))
    assert before <= seconds <= after
