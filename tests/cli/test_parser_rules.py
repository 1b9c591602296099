"""The command line's arguments: every command's options, defaults and help words as committed in
tests/data/cli-arguments.txt, the ranges of the whole-number options, which options exclude each other, and
what `--help` and `--version` print."""

from __future__ import annotations

import difflib

import pytest

from ofa_manager import __version__, cli
from ofa_manager.cli.parser import build_parser
from tests.cli_help import ARGUMENTS_FILE, argument_pages


def test_every_argument_and_help_text_is_as_committed():
    expected = ARGUMENTS_FILE.read_text(encoding="utf-8")
    found = argument_pages()
    lines = expected.splitlines(True), found.splitlines(True)
    diff = "".join(difflib.unified_diff(*lines, "committed", "now"))
    assert found == expected, f"arguments changed (python -m tests.cli_help writes them again):\n{diff}"


def parse(*words: str) -> dict:
    return vars(build_parser().parse_args(list(words)))


def refused(capsys, *words: str) -> str:
    with pytest.raises(SystemExit) as stopped:
        build_parser().parse_args(list(words))
    assert stopped.value.code == 2
    return capsys.readouterr().err.splitlines()[-1]


@pytest.mark.parametrize(
    "option, low, high",
    [("--jobs", 1, 8), ("--connections", 1, 16), ("--retries", 0, 100)],
)
def test_whole_number_options_take_their_range_and_no_more(capsys, option, low, high):
    assert parse("download", option, str(low))[option[2:]] == low
    assert parse("download", option, str(high))[option[2:]] == high
    assert parse("download", option, f" {high} ")[option[2:]] == high  # int() takes spaces around
    for outside in (low - 1, high + 1):
        assert refused(capsys, "download", option, str(outside)) == (
            f"ofa-manager download: error: argument {option}: must be between {low} and {high}"
        )
    assert refused(capsys, "download", option, "2.5") == (
        f"ofa-manager download: error: argument {option}: not a whole number: '2.5'"
    )


def test_the_defaults_a_download_starts_from():
    assert parse("download") == {
        "command": "download",
        "ids": [],
        "all": False,
        "jobs": None,
        "connections": None,
        "limit_rate": None,
        "retries": None,
        "timeout": None,
        "here": False,
        "with_backbone": False,
        "no_backbone": False,
        "yes": False,
        "unpack": False,
    }
    assert parse("--dir", "d", "--catalog", "a", "--catalog", "b", "--store", "s", "list") == {
        "command": "list",
        "dir": "d",
        "catalog": ["a", "b"],
        "store": ["s"],
        "json": False,
    }
    assert parse("download", "a", "b", "--timeout", "2.5", "-y")["timeout"] == 2.5


@pytest.mark.parametrize("command", ["download", "link"])
def test_with_and_without_the_backbone_exclude_each_other(capsys, command):
    assert refused(capsys, command, "x", "--with-backbone", "--no-backbone").endswith(
        "argument --no-backbone: not allowed with argument --with-backbone"
    )


def test_link_modes_are_the_three_ways(capsys):
    assert parse("link", "x", "--into", "d")["mode"] == "symlink"
    assert parse("link", "x", "--into", "d", "--mode", "copy")["mode"] == "copy"
    assert "invalid choice: 'move'" in refused(capsys, "link", "x", "--mode", "move")


@pytest.mark.parametrize("command", ["rm", "accept", "unpack"])
def test_commands_that_change_files_need_an_id(capsys, command):
    assert refused(capsys, command).endswith("the following arguments are required: ID")


def test_help_and_version_are_printed_and_exit_0(capsys):
    with pytest.raises(SystemExit) as stopped:
        cli.main(["download", "--help"])
    assert stopped.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: ofa-manager download ") and "files in parallel (default 2)" in out
    with pytest.raises(SystemExit) as stopped:
        cli.main(["--version"])
    assert stopped.value.code == 0 and capsys.readouterr().out == f"ofa-manager {__version__}\n"
