"""core.shell_words rule by rule: words and their quoted parts, assignments, here documents' delimiters and
bodies, and what expands from a script's own assignments (the scan of link --scan reads paths with it).
Pure functions, no files."""

from __future__ import annotations

from pathlib import Path

import pytest

from ofa_manager.core import shell_words
from ofa_manager.core.shell_words import Command, HereDoc, Segment, Word

# A hang guard, not a timed assert: these tests take well under a second, so one that runs a minute is stuck
# in a loop (a looping mutant under mutation testing then fails here, not hanging to the runner's limit).
pytestmark = pytest.mark.timeout(60)

SCRIPT = Path("/p/OFA/run_scripts/x/run.sh")


def commands(text: str) -> list[list[str]]:
    return [[w.written for w in i.words] for i in shell_words.parse(text) if isinstance(i, Command)]


def heredocs(text: str) -> list[tuple[str, int, bool]]:
    return [(h.body, h.line, h.expands) for h in shell_words.parse(text) if isinstance(h, HereDoc)]


def only_word(text: str) -> Word:
    [item] = shell_words.parse(text)
    [word] = item.words
    return word


# -- assignments ----------------------------------------------------------------------------------------


def test_an_assignment_splits_at_its_first_unquoted_equals_keeping_the_quoted_parts_and_line():
    word = only_word("\n\nA=x'lit'rest")
    assert word.line == 3
    head, rest = word.split_at_equals()
    assert head == "A"
    assert rest.segments == [Segment("x", False), Segment("lit", True), Segment("rest", False)]
    assert rest.line == 3
    # Nothing before the quoted part: no empty segment in front of it.
    head, rest = only_word("B='lit'tail=more").split_at_equals()
    assert (head, rest.segments) == ("B", [Segment("lit", True), Segment("tail=more", False)])
    head, rest = only_word("C=").split_at_equals()
    assert (head, rest.segments) == ("C", [])


@pytest.mark.parametrize("text", ["'A=b'", "\\A=b", "plain", "'x'A=b"])
def test_no_assignment_when_the_equals_is_quoted_or_missing(text):
    assert only_word(text).split_at_equals() is None


def test_a_word_without_parts_is_no_assignment():
    assert Word([], 1).split_at_equals() is None


# -- here documents -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "opening, expands",
    [
        ("cat <<XY", True),
        ("cat << XY", True),
        ("cat <<  \tXY", True),
        ("cat <<'XY'", False),
        ('cat <<"XY"', False),
        ("cat <<X'Y'", False),
        ("cat <<\\XY", False),
    ],
)
def test_a_here_documents_delimiter_as_bash_reads_it(opening, expands):
    text = f"{opening}\nX $A\nXY\necho after\n"
    assert heredocs(text) == [("X $A", 2, expands)]
    assert commands(text) == [["cat"], ["echo", "after"]]


@pytest.mark.parametrize("end", [";", "&", "|", ")", "<", ">", " ", "\t"])
def test_a_delimiter_ends_at_an_operator_or_a_blank(end):
    text = f"cat <<EOF{end}echo x\nbody\nEOF\n"
    assert heredocs(text) == [("body", 2, True)]


def test_a_quoted_delimiter_may_hold_blanks():
    assert heredocs("cat <<'E F'\nbody\nE F\n") == [("body", 2, False)]
    assert heredocs("cat <<''EOF\nbody\nEOF\n") == [("body", 2, False)]


def test_a_body_of_several_lines_and_tabs_stripped_by_the_dash_form_only():
    assert heredocs("cat <<-EOF\n\t  a\n\tXa\n\t\tb\n\tEOF\n") == [("  a\nXa\nb", 2, True)]
    assert heredocs("cat <<EOF\n\ta\n b\nEOF\n") == [("\ta\n b", 2, True)]
    assert heredocs("cat <<EOF\n\tEOF\nEOF\n") == [("\tEOF", 2, True)]


@pytest.mark.parametrize("text", ["cat <<", "cat << ", "cat <<\t", "cat <<EOF", "cat <<'EOF", "cat <<-"])
def test_a_here_document_cut_short_at_the_end_of_the_script(text):
    assert commands(text) == [["cat"]]
    assert heredocs(text) == []


# -- words, quotes and lines ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("echo a # b", [["echo", "a"]]),
        ("echo a#b", [["echo", "a#b"]]),
        ("a;b&&c||d|e&f(g)h<i>j", [[c] for c in "abcdefghij"]),
        ("cat <<< $X/a.pt", [["cat"], ["$X/a.pt"]]),
        ("a\r\nb", [["a"], ["b"]]),
        ("a\rb\tc", [["a", "b", "c"]]),
        ('echo ""', [["echo", ""]]),
        ('echo "a\\"b" "a\\\\b" "a\\$b" "a\\`b" "a\\nb"', [["echo", 'a"b', "a\\b", "a$b", "a`b", "a\\nb"]]),
        ('echo "$(echo "x)")" y', [["echo", '$(echo "x)")', "y"]]),
        ("echo `a b` c", [["echo", "`a b`", "c"]]),
        ('echo "unclosed', [["echo", "unclosed"]]),
        ("echo `unclosed", [["echo", "`unclosed"]]),
        ("echo \\", [["echo", ""]]),
    ],
)
def test_commands_and_words(text, expected):
    assert commands(text) == expected


@pytest.mark.parametrize(
    "text, segments",
    [
        ("\"a\"'b'c", [("a", False), ("b", True), ("c", False)]),
        ("'a'\"b\"", [("a", True), ("b", False)]),
        ('"a\\"b"', [("a", False), ('"', True), ("b", False)]),
        ("a\\ b", [("a", False), (" ", True), ("b", False)]),
    ],
)
def test_quoted_parts_are_literal_segments(text, segments):
    assert [(s.text, s.literal) for s in only_word(text).segments] == segments


@pytest.mark.parametrize(
    "text",
    [
        "echo a \\\nb\nc",  # a continuation
        "echo 'a\nb'\nc",  # a newline in single quotes
        'echo "a\nb"\nc',  # in double quotes
        'echo "a\\\nb"\nc',  # a continuation in double quotes
        "echo $(a\nb) x\nc",  # in a command substitution
        'echo "x${A\n}" y\nc',  # in a brace, in double quotes
        "echo `a\nb` x\nc",  # in backquotes
    ],
)
def test_newlines_inside_a_word_count_for_the_lines_after_it(text):
    items = shell_words.parse(text)
    assert [i.line for i in items] == [1, 3]
    assert [w.written for w in items[1].words] == ["c"]


def test_a_continuation_in_double_quotes_joins_the_word():
    assert commands('echo "a\\\nb"') == [["echo", "ab"]]


def test_each_word_has_its_own_line():
    [command] = shell_words.parse("python x.py \\\n  --a \\\n  --b")
    lines = [(w.written, w.line) for w in command.words]
    assert lines == [("python", 1), ("x.py", 1), ("--a", 2), ("--b", 3)]


# -- where a $( or ${ ends -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, end",
    [
        ("$(a (b) c) d", 10),
        ("$(echo ')') d", 11),
        ("${a:-'}'} d", 7),  # a single quote means nothing in ${…}
        ('$(echo "a)b") d', 13),
        ("$(echo \\)) d", 10),
        ("$(a $(b) c) d", 11),
        ("${a:-${b}} d", 10),
        ('${a:-"}"} d', 9),
        ('$(a "$(b)" c) d', 13),
        ('$(a "x\\"y)" c) d', 14),
        ('$(a "${b})" c) d', 14),
        ("$(never", 7),
        ("$(echo 'never", 13),
        ('$(echo "never', 13),
        ('$(echo "\\', 9),
        ('$(a "x\\"") d', 10),  # an escaped quote inside double quotes inside $(…)
        ('$(a "" ")") d', 11),
        ('$(a "$(b ")")" c) d', 17),
        ('$(a "${b:-")"}" c) d', 18),
        ('$(a "x$") d', 9),
    ],
)
def test_balanced_end(text, end):
    assert shell_words.balanced_end(text, 0) == end


def test_balanced_end_from_the_middle_of_a_text():
    assert shell_words.balanced_end("x=$(a) b", 2) == 6


# -- expansion ---------------------------------------------------------------------------------------------

VARIABLES = {"X": "/x", "E": "", "PWD": "/pwd"}


@pytest.mark.parametrize(
    "text, expected",
    [
        ("$((1+2))/a", "$((1+2))/a"),
        ("$X/a", "/x/a"),
        ("$U/a", "$U/a"),
        ("$0", str(SCRIPT)),
        ("$1/a", "$1/a"),
        ("a$", "a$"),
        ("$-a", "$-a"),
        ("$PWD/a", "/pwd/a"),  # set by the script: its value
        ("$BASH_SOURCE", str(SCRIPT)),
        ("`dirname $0`/a", "/p/OFA/run_scripts/x/a"),
        ("`date", "`date"),
        ("${X}", "/x"),
        ("${U}", "${U}"),
        ("${#X}", "${#X}"),
        ("${0}/a", f"{SCRIPT}/a"),
        ("${BASH_SOURCE[0]}", str(SCRIPT)),
        ("${1}", "${1}"),
        ("${U:-d}", "d"),
        ("${E:-d}", "d"),
        ("${X:-d}", "/x"),
        ("${U-d}", "d"),
        ("${E-d}", ""),
        ("${X-d}", "/x"),
        ("${U:+alt}", ""),
        ("${E:+alt}", ""),
        ("${X:+alt}", "alt"),
        ("${E+alt}", "alt"),
        ("${U+alt}", ""),
        ("${U:?m}", "${U:?m}"),
        ("${E:?m}", "${E:?m}"),
        ("${X:?m}", "/x"),
        ("${E?m}", ""),
        ("${U?m}", "${U?m}"),
        ('${U:-"q d"}', "q d"),
        ("${U:-'q'}", "q"),
        ('${U:-"}', '"'),
        ("${U:-${V:-z}}", "z"),
        ("${U:-$X/y}", "/x/y"),
        ("${X:-}", "/x"),
        ("a/${X}/b/$X", "a//x/b//x"),
    ],
)
def test_expansions(text, expected):
    variables = dict(VARIABLES)
    assert shell_words.expand_text(text, variables, SCRIPT) == expected
    assert variables == VARIABLES  # none of these sets anything


def test_pwd_is_the_scripts_folder_unless_the_script_sets_it():
    expanded = shell_words.expand_text("$PWD/a ${PWD}/b", {}, SCRIPT)
    assert expanded == "/p/OFA/run_scripts/x/a /p/OFA/run_scripts/x/b"


@pytest.mark.parametrize(
    "text, expected, assigned",
    [
        ("${U:=d}", "d", {"U": "d"}),
        ("${E:=d}", "d", {"E": "d"}),
        ("${X:=d}", "/x", {}),
        ("${U=d}", "d", {"U": "d"}),
        ("${E=d}", "", {}),
        ("${U:=$HOME}", "$HOME", {}),  # not known: not set either
        ("${U:=${X}/k}", "/x/k", {"U": "/x/k"}),
    ],
)
def test_assign_defaults(text, expected, assigned):
    variables = dict(VARIABLES)
    assert shell_words.expand_text(text, variables, SCRIPT) == expected
    assert variables == {**VARIABLES, **assigned}


def test_expansion_stops_at_its_depth():
    assert shell_words.expand_text("$X", {"X": "/x"}, SCRIPT, shell_words.MAX_DEPTH) == "/x"
    assert shell_words.expand_text("$X", {"X": "/x"}, SCRIPT, shell_words.MAX_DEPTH + 1) == "$X"
    nested = "${A:-" * 10 + "z" + "}" * 10
    assert shell_words.expand_text(nested, {}, SCRIPT) == "${A:-z}"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("$(pwd)", "/p/OFA/run_scripts/x"),
        ("$(pwd -P)", "/p/OFA/run_scripts/x"),
        ("$( pwd )", "/p/OFA/run_scripts/x"),
        ("$(pwd -x)", "$(pwd -x)"),
        ("$(cd .. && pwd)", "/p/OFA/run_scripts"),
        ("$(cd -P ..; pwd -L)", "/p/OFA/run_scripts"),
        ("$(cd $U && pwd)", "$(cd $U && pwd)"),
        ("$(cd $X && pwd)", "/x"),
        ("$(cd a b && pwd)", "$(cd a b && pwd)"),
        ("$(dirname $0)", "/p/OFA/run_scripts/x"),
        ("$(dirname /a/b/c)", "/a/b"),
        ("$(realpath x)", "/p/OFA/run_scripts/x/x"),
        ("$(readlink -f ../y)", "/p/OFA/run_scripts/y"),
        ("$(readlink -e y)", "/p/OFA/run_scripts/x/y"),
        ("$(readlink -m y)", "/p/OFA/run_scripts/x/y"),
        ("$(realpath -s z)", "/p/OFA/run_scripts/x/z"),
        ("$(realpath -e ../z)", "/p/OFA/run_scripts/z"),
        ("$(readlink x)", "$(readlink x)"),
        ("$(dirname a b)", "$(dirname a b)"),
        ("$(dirname $U)", "$(dirname $U)"),
        ("$(date)", "$(date)"),
        ("$(dirname)", "$(dirname)"),
        ("$(dirname 'a b/c')", "/p/OFA/run_scripts/x/a b"),
        ("$(realpath $X/../q)", "/q"),
        ("$(dirname `pwd`)", "/p/OFA/run_scripts"),
        ("$(dirname x; y)", "$(dirname x; y)"),
        ('$(dirname "$(dirname "$0")")', "/p/OFA/run_scripts"),
        ("$(dirname \"$X\"'/b'/c)", "/x/b"),  # an argument of several quoted parts
        ("$(dirname '$X/a')", "$(dirname '$X/a')"),  # single-quoted: not expanded, so not known
    ],
)
def test_command_substitutions_that_find_the_scripts_folder(text, expected):
    assert shell_words.expand_text(text, dict(VARIABLES), SCRIPT) == expected


def test_a_word_expands_only_its_unquoted_parts():
    word = only_word("$X/'$X'/\"$X\"")
    assert shell_words.expand(word, dict(VARIABLES), SCRIPT) == "/x/$X//x"


# -- double quotes, to their last character ------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ('echo "a\\', [["echo", "a\\"]]),  # a backslash that ends the script: kept as it is
        ('echo "a\\"', [["echo", 'a"']]),  # an escaped quote that ends it: the string is never closed
        ('echo "a\\Xb"', [["echo", "a\\Xb"]]),  # only $ ` " \ and a newline are escaped in double quotes
        ('echo "${A:-"x y"}" z', [["echo", '${A:-"x y"}', "z"]]),  # quotes inside ${…} do not close it
        ('echo "$(a "b c")" z', [["echo", '$(a "b c")', "z"]]),
    ],
)
def test_double_quotes_to_the_end_of_the_script(text, expected):
    assert commands(text) == expected


@pytest.mark.parametrize(
    "text, segments",
    [
        ('"a\\nb"', [("a\\nb", False)]),  # a backslash that escapes nothing is part of the expanding text
        ('"$(a)b"', [("$(a)b", False)]),
        ('"${a}b"', [("${a}b", False)]),
    ],
)
def test_what_expands_in_double_quotes_is_one_unquoted_segment(text, segments):
    assert [(s.text, s.literal) for s in only_word(text).segments] == segments


@pytest.mark.parametrize(
    "text, expected",
    [
        ('${U:-""}', ""),  # an empty quoted default is empty
        ("${U:-''}", ""),
        ('${U:-"}', '"'),
        ("${U:-XaX}", "XaX"),  # only quotes are taken off
        ("${U:-$0}", str(SCRIPT)),  # the default expands as the script's own words do
        ("${U:-$(dirname $0)}", str(SCRIPT.parent)),
    ],
)
def test_a_defaults_quotes_and_expansions(text, expected):
    assert shell_words.expand_text(text, dict(VARIABLES), SCRIPT) == expected


def test_a_substituted_commands_argument_expands_one_level_deeper():
    deep = shell_words.MAX_DEPTH
    assert shell_words.expand_text("$(dirname $X/a)", {"X": "/x"}, SCRIPT, deep - 1) == "/x"
    assert shell_words.expand_text("$(dirname $X/a)", {"X": "/x"}, SCRIPT, deep) == "$(dirname $X/a)"


def test_a_substituted_commands_argument_that_holds_an_unknown_command_is_not_known():
    assert shell_words.expand_text("$(dirname `date`/a)", {}, SCRIPT) == "$(dirname `date`/a)"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("$0/a", f"{SCRIPT}/a"),  # $0 ends at its digit
        ("x$0/a", f"x{SCRIPT}/a"),
        ("a(($X))", "a((/x))"),  # parentheses without a $ in front are text: what is inside expands
        ("(($X", "((/x"),
        ("$X((y)", "/x((y)"),  # $X, then text
        ("$((1+$X))", "$((1+$X))"),  # arithmetic stays as written, whole
        ("`pwd`/a `pwd`/b", "/p/OFA/run_scripts/x/a /p/OFA/run_scripts/x/b"),  # each ends at the next
        ("``$X", "``/x"),  # an empty one too
        ("`dirname $X/b`/a", "/x/a"),  # the argument in backquotes expands from the script's variables
    ],
)
def test_dollar_zero_arithmetic_and_backquotes_in_a_text(text, expected):
    assert shell_words.expand_text(text, dict(VARIABLES), SCRIPT) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("echo '' b", [["echo", "", "b"]]),  # an empty single-quoted word
        ("echo ${A:-a b} c", [["echo", "${A:-a b}", "c"]]),  # a blank inside ${…} does not end the word
        ("echo $(a b) c", [["echo", "$(a b)", "c"]]),
        ("echo `a` `b`", [["echo", "`a`", "`b`"]]),  # each backquote ends at the next one
        ("echo `` x", [["echo", "``", "x"]]),
    ],
)
def test_quotes_and_substitutions_outside_double_quotes(text, expected):
    assert commands(text) == expected


@pytest.mark.parametrize("text", ["$(a)b", "${a}b", "x$(a)", "`a`b"])
def test_an_unquoted_substitution_is_part_of_one_expanding_segment(text):
    assert [(s.text, s.literal) for s in only_word(text).segments] == [(text, False)]


@pytest.mark.parametrize("text", ["x\necho `a` y\nc\nd", "x\necho $(a) y\nc\nd", "x\necho 'a' y\nc\nd"])
def test_a_quoted_or_substituted_word_counts_only_its_own_newlines(text):
    assert [i.line for i in shell_words.parse(text)] == [1, 2, 3, 4]


def test_a_here_string_at_the_scripts_start_does_not_hide_a_later_here_document():
    text = "<<< a\ncat <<EOF\nbody\nEOF\necho after\n"
    assert heredocs(text) == [("body", 3, True)]
    assert commands(text) == [["a"], ["cat"], ["echo", "after"]]
    assert commands("cat <<<x") == [["cat"], ["x"]]  # a here-string's word follows at once


@pytest.mark.parametrize(
    "text, end",
    [
        ("$() x", 3),  # empty
        ("$(a ${b:-)} c) d", 14),  # a ) inside ${…} inside $(…) does not close it
        ("${a:-$(b })} d", 12),  # a } inside $(…) inside ${…} does not close it
        ("$(a 'b' c) d 'e'", 10),  # a single quote ends at the next one
        ("$(a '' b) d", 9),
        ("$(a {b) d", 7),  # a brace that opens nothing in $(…)
    ],
)
def test_balanced_end_of_what_nests_in_a_substitution(text, end):
    assert shell_words.balanced_end(text, 0) == end
