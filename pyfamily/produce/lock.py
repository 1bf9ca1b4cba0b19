"""One run at a time over what runs share: the checkout's work folder and an engine's images of a repository.

`build`, `verify` and `publish` hold both locks for their whole run; a second run fails at once with a message
naming the holder (pid, user, command, since when). The locks are flock(2) locks, so a holder that dies, even
by `kill -9`, releases them."""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import getpass
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from pyfamily import engine
from pyfamily.errors import UserError
from pyfamily.model import Family
from pyfamily.util import file_name


def held(family: Family, work_dir: Path, cache_dir: Path, purpose: str) -> contextlib.AbstractContextManager[None]:
    """The locks a run over this family's images holds (build, verify, publish, pull): both below."""
    return hold(lock_files(work_dir, cache_dir, engine.identity(), family.config.repository), purpose)


def work_lock(work_dir: Path) -> Path:
    """The work folder's lock: held by whatever writes build contexts there (`invoke bake` holds only this one)."""
    return work_dir / ".lock"


def lock_files(work_dir: Path, cache_dir: Path, engine_id: str, repository: str) -> list[Path]:
    """The work folder's lock, then the lock of this engine's images of this repository."""
    return [work_lock(work_dir), cache_dir / "locks" / f"{file_name(f'{engine_id}-{repository}')}.lock"]


@contextlib.contextmanager
def hold(paths: list[Path], purpose: str) -> Iterator[None]:
    """Hold every lock of `paths` (in order) for the block, or fail naming who holds one."""
    with contextlib.ExitStack() as stack:
        for path in paths:
            stack.enter_context(_one(path, purpose))
        yield


@contextlib.contextmanager
def _one(path: Path, purpose: str) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    except PermissionError:  # another user's lock file: reading is enough to lock it
        fd = os.open(path, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UserError(
                f"Another pyfamily run holds {path}: {_holder(path)}. Wait for it to end (or stop it); "
                "two runs would overwrite each other's build contexts and tags."
            ) from None
        with contextlib.suppress(OSError):  # read-only lock file: the lock holds, only the note is missing
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(_me(purpose)).encode(), 0)
        yield
    finally:
        os.close(fd)  # closing releases the flock


def _me(purpose: str) -> dict[str, str | int]:
    return {
        "pid": os.getpid(),
        "user": getpass.getuser(),
        "purpose": purpose,
        "command": " ".join(sys.argv),
        "since": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
    }


def _holder(path: Path) -> str:
    try:
        note = json.loads(path.read_text() or "{}")
    except (OSError, ValueError):
        note = {}
    if not note:
        return "a run that did not say who it is"
    return (
        f"pid {note.get('pid')} of {note.get('user')} ({note.get('purpose')}: `{note.get('command')}`), "
        f"since {note.get('since')}"
    )
