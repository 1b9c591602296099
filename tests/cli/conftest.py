"""Fixtures for the command line's tests."""

from __future__ import annotations

import _thread
import signal
import threading

import pytest


@pytest.fixture(autouse=True)
def a_dead_thread_ends_the_command():
    """An exception that ends a thread (a download worker whose progress report failed) interrupts the
    command in this process as Ctrl+C does, so the test fails at once: otherwise the command waits for ever
    for a file that thread was fetching, and only the time limit ends the test. A passing test has no such
    exception (pytest turns one into an error)."""
    given = threading.excepthook
    handler = signal.getsignal(signal.SIGINT)
    # Python's own handler: the mutation runner starts its tests with SIGINT ignored, and then
    # interrupt_main() does nothing.
    signal.signal(signal.SIGINT, signal.default_int_handler)

    def hook(args) -> None:
        given(args)
        _thread.interrupt_main()

    threading.excepthook = hook
    try:
        yield
    finally:
        threading.excepthook = given
        signal.signal(signal.SIGINT, handler)


@pytest.fixture(autouse=True)
def a_bar_lock_of_this_process():
    """tqdm guards its bars with a multiprocessing lock made once and shared with every process forked after
    it: a forked test process (the mutation runner forks one per mutant) killed while drawing a bar would
    leave it held, and every bar after it would wait for ever. Each test draws under a lock of its own."""
    from tqdm import tqdm

    tqdm.set_lock(threading.RLock())
    yield
