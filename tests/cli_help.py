"""The command line's arguments, every command's and action's, as the words and settings a user meets in
`ofa-manager [COMMAND [ACTION]] --help` (descriptions, each option's names, metavar, default, choices and help
text). tests/data/cli-arguments.txt holds what they should be, one block per page; it is written from the
parser itself rather than from argparse's formatted help, whose layout differs between Python versions.
After changing an argument or a help text on purpose, write the file again and read the difference before
committing it:

    python -m tests.cli_help
"""

from __future__ import annotations

import argparse

from tests.catalogs import DATA

ARGUMENTS_FILE = DATA / "cli-arguments.txt"


def _value(value) -> str:
    if value is argparse.SUPPRESS:
        return "SUPPRESS"
    if callable(value):
        return getattr(value, "__name__", repr(value))  # not the qualified name: the mutation runner wraps it
    return repr(value)


def _page(words: list[str], parser: argparse.ArgumentParser) -> list[str]:
    lines = [f"==== ofa-manager {' '.join(words)}".rstrip(), f"prog: {parser.prog}"]
    for field in ("description", "epilog"):
        if getattr(parser, field):
            lines.append(f"{field}: {getattr(parser, field)}")
    pages = []
    for action in parser._actions:
        names = ", ".join(action.option_strings) or "(positional)"
        lines.append(
            f"  {names}: {type(action).__name__} dest={action.dest} metavar={_value(action.metavar)} "
            f"nargs={_value(action.nargs)} default={_value(action.default)} type={_value(action.type)} "
            f"choices={_value(None if isinstance(action, argparse._SubParsersAction) else action.choices)}"
        )
        if action.help:
            lines.append(f"      help: {action.help}")
        if isinstance(action, argparse._SubParsersAction):
            for choice in action._choices_actions:
                lines.append(f"      {choice.dest}: {choice.help}")
            for name, sub in action.choices.items():
                pages += _page([*words, name], sub)
    for group in parser._mutually_exclusive_groups:
        lines.append(f"  one of: {', '.join(a.option_strings[0] for a in group._group_actions)}")
    return [*lines, *pages]


def argument_pages() -> str:
    from ofa_manager.cli.parser import build_parser

    return "\n".join(_page([], build_parser())) + "\n"


if __name__ == "__main__":
    ARGUMENTS_FILE.write_text(argument_pages(), encoding="utf-8")
    print(f"wrote {ARGUMENTS_FILE}")
