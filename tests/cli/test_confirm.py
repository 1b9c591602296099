"""The command line's one yes/no question: yes only when answered so, never asked off a terminal."""

from __future__ import annotations

import io

import pytest

from ofa_manager.cli.common import UsageError, _confirm


class Terminal(io.StringIO):
    """Typed answers, on what the command takes for a terminal (a real one cannot be driven here)."""

    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("typed", "answer"),
    [("y\n", True), ("yes\n", True), ("  YES \n", True), ("\n", False), ("n\n", False), ("yep\n", False)],
)
def test_only_y_or_yes_is_a_yes(monkeypatch, capsys, typed, answer):
    monkeypatch.setattr("sys.stdin", Terminal(typed))
    assert _confirm("Delete 2 file(s)?", "not on a terminal: add --yes") is answer
    assert capsys.readouterr().out == "Delete 2 file(s)? [y/N] "


def test_off_a_terminal_nothing_is_read_and_the_error_names_the_flag(monkeypatch):
    stdin = io.StringIO("y\n")  # an answer is there, but nobody typed it at a terminal
    monkeypatch.setattr("sys.stdin", stdin)
    with pytest.raises(UsageError, match="^not on a terminal: add --yes$"):
        _confirm("Delete 2 file(s)?", "not on a terminal: add --yes")
    assert stdin.read() == "y\n"
