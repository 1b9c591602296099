"""link --scan reads scripts written as people write them: defaults from the environment, the script's own
folder found with dirname/BASH_SOURCE/pwd, quotes, continuations, here documents, arrays, CRLF."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ofa_manager.core import linking, shell_words
from ofa_manager.core.library import Library
from tests.catalogs import DATA, entry, load, write_catalog

# A hang guard, not a timed assert: these tests take well under a second, so one that runs a minute is stuck
# in a loop (a looping mutant under mutation testing then fails here, not hanging to the runner's limit).
pytestmark = pytest.mark.timeout(60)

FIXTURE = DATA / "project_wild"
SCRIPT = Path("/p/OFA/run_scripts/x/run.sh")


@pytest.fixture
def site(tmp_path, models_dir):
    rows = [entry(i, f"http://example.invalid/{i.replace('-', '_')}.pt") for i in ("ofa-large", "ofa-base")]
    rows += [entry(i, f"http://example.invalid/{i.replace('-', '_')}.pt") for i in ("ofa-huge", "ofa-tiny")]
    adapter = entry("refcoco-adapter", "http://example.invalid/a_rc.pt")
    adapter["aliases"] = ["refcoco_adapter.pt"]
    bundle = entry("bundle", "http://example.invalid/ofa_clip_vqgan.zip")
    bundle["members"] = ["vqgan/last.ckpt", "vqgan/model.yaml", "clip/ViT-B-16.pt"]
    catalog = load(write_catalog(tmp_path / "catalog.json", [*rows, adapter, bundle]))
    project = tmp_path / "project"
    shutil.copytree(FIXTURE, project)

    class Site:
        pass

    s = Site()
    s.project, s.catalog, s.library = project, catalog, Library(models_dir, catalog)
    return s


def report(site) -> dict[str, linking.Expected]:
    found = linking.scan(site.project, site.catalog, site.library)
    return {str(e.path.relative_to(site.project)) if e.path.is_absolute() else str(e.path): e for e in found}


def test_the_wild_fixture_projects_report(site):
    rows = report(site)
    assert {k: (e.kind, e.entry_id) for k, e in rows.items()} == {
        # ${RESTORE:-"${CKPT_DIR}/ofa_large.pt"} under ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")"/.. && pwd)"
        "checkpoints/ofa_large.pt": ("catalog", "ofa-large"),
        # : "${ADAPTER:=…}" sets it for the later "$ADAPTER" (--flag value)
        "checkpoints/refcoco_adapter.pt": ("catalog", "refcoco-adapter"),
        # an unquoted $CKPT_DIR, matched against the archive's members by its path
        "checkpoints/vqgan/last.ckpt": ("member", "bundle"),
        # in an unquoted here document: expanded, read as text
        "checkpoints/ofa_base.pt": ("catalog", "ofa-base"),
        "runs/caption/converted.pt": ("produced", None),
        # single-quoted: the shell does not expand it, neither does the scan
        "$CKPT_DIR/literal.pt": ("unknown", None),
        # $PWD after cd "$(dirname "$0")"; a variable holding several arguments over two lines
        "checkpoints/ofa_huge.pt": ("catalog", "ofa-huge"),
        # a bash array over several lines
        "checkpoints/ofa_tiny.pt": ("catalog", "ofa-tiny"),
        "checkpoints/ofa_medium.pt": ("unknown", None),
    }
    # Comments and a quoted here document's text are not read as paths.
    assert not any("commented" in k or "not_expanded" in k for k in rows)
    large = rows["checkpoints/ofa_large.pt"]
    assert (large.script.name, large.line) == ("train_caption.sh", 8)
    assert rows["checkpoints/vqgan/last.ckpt"].line == 15  # the line of the word, inside a continuation
    assert rows["checkpoints/ofa_base.pt"].line == 20  # the here document's line
    assert rows["checkpoints/ofa_huge.pt"].written == "${base}/ofa_huge.pt"


def words_of(text: str, variables: dict | None = None) -> list[list[str]]:
    variables = {} if variables is None else variables
    out = []
    for item in shell_words.parse(text):
        if isinstance(item, shell_words.Command):
            out.append([shell_words.expand(w, variables, SCRIPT) for w in item.words])
    return out


@pytest.mark.parametrize(
    "text, expected",
    [
        ("echo '$X/a.pt' \"$X/b.pt\" $X/c.pt", ["echo", "$X/a.pt", "/x/b.pt", "/x/c.pt"]),
        (
            "echo ${X}/a.pt ${Y:-/d}/b.pt ${Y-/e}/c.pt ${X:+set}",
            ["echo", "/x/a.pt", "/d/b.pt", "/e/c.pt", "set"],
        ),
        ("echo ${E:-/d}/a.pt ${E-/kept}/b.pt", ["echo", "/d/a.pt", "/b.pt"]),  # set but empty
        ('echo "$(dirname "$0")"/a.pt', ["echo", "/p/OFA/run_scripts/x/a.pt"]),
        (
            "echo `dirname $0`/a.pt $(pwd)/b.pt $PWD/c.pt",
            ["echo"] + [f"/p/OFA/run_scripts/x/{n}.pt" for n in "abc"],
        ),
        ('echo "$(cd "$(dirname "${BASH_SOURCE[0]}")"/.. && pwd)"', ["echo", "/p/OFA/run_scripts"]),
        ("echo $(realpath ../a.pt) $(date +%F).log", ["echo", "/p/OFA/run_scripts/a.pt", "$(date +%F).log"]),
        ('echo a\\ b.pt "a \\"q\\" \\$X"', ["echo", "a b.pt", 'a "q" $X']),
        ("echo ${#X} ${X%/*} $HOME/a.pt", ["echo", "${#X}", "${X%/*}", "$HOME/a.pt"]),
    ],
)
def test_words_and_expansions(text, expected):
    assert words_of(text, {"X": "/x", "E": ""}) == [expected]


def test_assign_default_sets_the_variable_and_continuations_and_crlf():
    variables: dict[str, str] = {}
    text = ': "${C:=/ck}"\r\npython x.py \\\r\n  --a=$C/a.pt \\\n  --b "$C"/b.pt # --c=$C/c.pt\r\n'
    assert words_of(text, variables) == [[":", "/ck"], ["python", "x.py", "--a=/ck/a.pt", "--b", "/ck/b.pt"]]
    assert variables == {"C": "/ck"}


def test_here_documents_and_what_follows_them():
    items = shell_words.parse(
        "cat <<-EOF > out.txt\n\tpath: $X/a.pt\n\tEOF\npython - <<'PY'\nload('$X/b.pt')\nPY\necho after.pt\n"
    )
    heredocs = [i for i in items if isinstance(i, shell_words.HereDoc)]
    assert [(h.body, h.line, h.expands) for h in heredocs] == [
        ("path: $X/a.pt", 2, True),
        ("load('$X/b.pt')", 5, False),
    ]
    commands = [[w.written for w in i.words] for i in items if isinstance(i, shell_words.Command)]
    assert commands[-1] == ["echo", "after.pt"]
    assert [i.line for i in items if isinstance(i, shell_words.Command)][-1] == 7


@pytest.mark.parametrize(
    "text",
    ["echo 'unclosed", 'echo "unclosed $(x', "echo ${unclosed", "cat <<EOF\nno end", "echo $(((1+2))", "\\"],
)
def test_broken_scripts_never_raise(text):
    words_of(text)


def test_a_hostile_script_is_skipped_and_the_others_read(site):
    (site.project / "deep.sh").write_text("echo " + "$(" * 100_000 + "\n")
    assert "checkpoints/ofa_large.pt" in report(site)
