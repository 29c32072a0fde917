"""One process per embedded store: a second one is refused with a message naming the first, never given stale reads."""

import atexit
import fcntl
import os
import sys
import threading
from pathlib import Path
from typing import TextIO

from rag.errors import StoreError

LOCK_FILE = ".rag.lock"
_held: dict[Path, TextIO] = {}
_guard = threading.Lock()


class StoreBusy(StoreError):
    """Another process has the embedded store open."""


def lock_store(data_dir: Path) -> None:
    """Hold the folder's lock for as long as this process lives (re-entrant within the process)."""
    path = data_dir.resolve() / LOCK_FILE
    with _guard:
        if path in _held:
            return
        handle = path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            owner = handle.read().strip() or "another process"
            handle.close()
            raise StoreBusy(
                f"the store in {data_dir} is in use by {owner}: add articles through its API (POST /v1/documents), "
                "stop it first, or use a separate RAG_DATA_DIR"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} ({' '.join(os.path.basename(a) for a in sys.argv[:3])})")
        handle.flush()
        _held[path] = handle


def release_store(data_dir: Path) -> None:
    """Let another process open the folder (for tools that hand a store over to a server they start)."""
    with _guard:
        handle = _held.pop(data_dir.resolve() / LOCK_FILE, None)
        if handle is not None:
            fcntl.flock(handle, fcntl.LOCK_UN)
            handle.close()


@atexit.register
def _release_all() -> None:
    """Close the lock files at exit (the locks would die with the process anyway)."""
    with _guard:
        for handle in _held.values():
            handle.close()
        _held.clear()
