"""The source cache on disk: verified tarballs, the `.part` files of downloads in progress, and clear messages
for what the disk refuses (a folder in the way, a full disk, a read-only cache).

A part file is named `.<tarball>.pid<PID>.<random>.part`, so a later fetch can tell an orphan (its process is
gone, e.g. after `kill -9`, or it is older than a day) from a download that another process is still running.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import tempfile
import time
from pathlib import Path
from typing import BinaryIO

from pyfamily.errors import SourceError

STALE_AFTER = 24 * 3600.0  # seconds: a part file this old is abandoned whoever wrote it

_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})
_READ_ONLY = frozenset({errno.EACCES, errno.EPERM, errno.EROFS})
_NOT_A_FOLDER = frozenset({errno.EEXIST, errno.ENOTDIR})


def sha256_of(path: Path) -> str:
    """The hex sha256 of a file's bytes."""
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def open_part(target: Path) -> tuple[BinaryIO, Path]:
    """A new part file next to target (so that os.replace() is an atomic rename), open for writing."""
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.pid{os.getpid()}.", suffix=".part")
    return os.fdopen(fd, "wb"), Path(name)


def remove_stale_parts(target: Path, now: float | None = None) -> list[Path]:
    """Delete target's orphaned part files (writer gone, or older than STALE_AFTER); return those removed.

    Best effort: a file that cannot be examined or removed is left alone (the cache may be read-only).
    """
    pattern = re.compile(re.escape(f".{target.name}.") + r"(?:pid(?P<pid>[1-9]\d*)\.)?[^/]*\.part")
    now = time.time() if now is None else now
    removed = []
    try:
        candidates = [p for p in target.parent.iterdir() if pattern.fullmatch(p.name)]
    except OSError:
        return []
    for part in candidates:
        match = pattern.fullmatch(part.name)
        pid = int(match["pid"]) if match and match["pid"] else None
        try:
            old = now - part.lstat().st_mtime > STALE_AFTER
            if old or (pid is not None and pid != os.getpid() and not _running(pid)):
                part.unlink()
                removed.append(part)
        except OSError:
            continue
    return removed


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: it runs, as another user
        return True
    return True


def folder_in_the_way(target: Path, filename: str) -> SourceError:
    return SourceError(
        f"{target} is a folder (or another non-file), but the source cache keeps the tarball {filename} at that "
        f"path. Remove it (rm -r '{target}') and run again."
    )


def local_error(exc: OSError, cache_dir: Path, what: str) -> SourceError:
    """A one-paragraph SourceError for an OSError the cache's disk raised while doing `what` ("write X")."""
    where = exc.filename or cache_dir
    if exc.errno in _FULL:
        advice = (
            f"The disk (or quota) holding the source cache {cache_dir} is full. Free some space there, or point "
            "$PYFAMILY_CACHE at a disk with room, and run again."
        )
    elif exc.errno in _READ_ONLY:
        advice = (
            f"The source cache {cache_dir} is read-only or not writable for this user. Make it writable, point "
            "$PYFAMILY_CACHE at a writable folder, or use --offline if every tarball is already cached."
        )
    elif exc.errno in _NOT_A_FOLDER:
        advice = (
            f"A file sits where the source cache needs the folder {cache_dir} (or one of its parents). Move it "
            "away, or point $PYFAMILY_CACHE elsewhere, and run again."
        )
    else:
        advice = f"Check the disk holding the source cache {cache_dir}, or point $PYFAMILY_CACHE elsewhere."
    return SourceError(f"Could not {what} ({where}: {exc.strerror or exc}). {advice}")
