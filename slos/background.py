"""Work that the embedded default (no broker: Celery runs tasks in-process) runs in a
thread of the server process, so that the page which asked for it answers at once and
shows its progress. With a broker, Celery's workers do this work instead.

A thread has its own database connection, which sees committed rows only: work is
started once its rows are committed (by the caller, from `transaction.on_commit` or in
autocommit). Started inside a transaction still open (a test's, which wraps every test;
a command's atomic block), a thread could not see them, so the work runs inline."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from django.db import connection, connections
from django.utils import translation

logger = logging.getLogger(__name__)

_running: set[threading.Thread] = set()
_running_lock = threading.Lock()


def background_start(work: Callable[[], object], *, name: str) -> threading.Thread | None:
    """Run `work` in a daemon thread, in the caller's language; None when it ran inline
    (see the module's docstring). `work` records its own failure: an exception that
    escapes it is logged, and the thread's connections are closed either way."""
    if connection.in_atomic_block:
        work()
        return None
    language = translation.get_language()

    def run() -> None:
        try:
            with translation.override(language):
                work()
        except Exception:
            logger.exception("Background work %s failed", name)
        finally:
            connections.close_all()  # this thread's own connections
            with _running_lock:
                _running.discard(threading.current_thread())

    thread = threading.Thread(target=run, name=name, daemon=True)
    with _running_lock:
        _running.add(thread)
    thread.start()
    return thread


def background_running() -> list[threading.Thread]:
    with _running_lock:
        return list(_running)


def background_join(timeout: float = 60) -> None:
    """Wait for every thread started here, those they start included (the tests do,
    after each test). Raises TimeoutError if one still runs after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while threads := background_running():
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
            if thread.is_alive():
                raise TimeoutError(f"background work {thread.name} still running")
