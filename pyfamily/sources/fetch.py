"""fetch(): a pinned CPython tarball from the source cache, or from the first URL that serves exactly its bytes.

Every URL is tried in turn until one serves the pinned sha256: a mirror that is unreachable, slow, cut short or
serving other bytes is recorded and skipped. Problems of the local disk, and should_stop(), end the fetch at once.
fetch_checked() does the same for a file that has no pin yet (a new release), kept when a check() accepts it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import requests

from pyfamily.config import PythonVersion
from pyfamily.errors import Interrupted, SourceError
from pyfamily.redaction import redact_url
from pyfamily.sources.cache import folder_in_the_way, local_error, open_part, remove_stale_parts, sha256_of
from pyfamily.sources.download import GRACE, MAX_SIZE, MIN_RATE, READ_TIMEOUT, Limits, Served, Skip, download
from pyfamily.sources.progress import Progress, ReportsSkips

Check = Callable[[Path, Served], str | None]
"""check(file, served): why a downloaded (or cached) file is not the one wanted, or None to keep it."""


@dataclass(frozen=True)
class _Failure:
    url: str
    reason: str
    served: Served | None = None  # set when the URL served a whole file with another sha256


def fetch(
    python: PythonVersion,
    cache_dir: Path,
    urls: Sequence[str],
    *,
    offline: bool = False,
    progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
    connect_timeout: float = 5.0,
    read_timeout: float = READ_TIMEOUT,
    min_rate: float = MIN_RATE,
    grace: float = GRACE,
    max_size: int = MAX_SIZE,
) -> Path:
    """Return cache_dir/python.filename, downloading it from the first URL that serves the pinned bytes if needed.

    A cached copy is used only if its sha256 matches the pin (a corrupted one is deleted). Each download may take
    `grace + size / min_rate` seconds (min_rate in bytes/s; with an unknown size, after `grace` seconds the
    average rate must stay above min_rate). A URL that misses that, sends more than max_size bytes, fails in
    transport or serves other bytes is skipped for the next; if none serves the pin, one SourceError lists why
    per URL. progress(url, done, total) is called about every MiB with the URL redacted, and last with
    total == done; a progress with a skipped(url, reason) method is told of each skipped URL. should_stop() is
    checked before each URL and while downloading (also from a watchdog thread); when it returns True the
    partial file is removed and Interrupted is raised. Orphaned part files of this tarball are removed.
    """
    target = cache_dir / python.filename
    label = f"{python.filename} (Python {python.version})"
    hit, stale_note = _check_cached(python, target)
    if hit:
        remove_stale_parts(target)
        return target
    if offline:
        raise SourceError(
            f"{label} is not in the source cache {cache_dir}{stale_note}, and --offline forbids downloading it. "
            "Run once without --offline to fill the cache."
        )
    if not urls:
        raise SourceError(f"{label} is not in the source cache {cache_dir}{stale_note} and no download URL was given.")
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise local_error(exc, cache_dir, "create the source cache folder") from exc
    remove_stale_parts(target)
    limits = Limits(connect_timeout, read_timeout, min_rate, grace, max_size)
    failures: list[_Failure] = []
    with requests.Session() as session:
        for url in urls:
            if should_stop is not None and should_stop():
                raise Interrupted(f"Stopped before downloading {label}.")
            failure = _fetch_one(session, url, target, _pinned(python), limits, progress, should_stop, label)
            if failure is None:
                return target
            failures.append(failure)
            if isinstance(progress, ReportsSkips):
                progress.skipped(redact_url(url), failure.reason)
    raise _none_served(python, failures)


def fetch_checked(
    filename: str,
    label: str,
    cache_dir: Path,
    urls: Sequence[str],
    check: Check,
    *,
    progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
    limits: Limits | None = None,
) -> tuple[Path, str]:
    """Return cache_dir/filename and its sha256, for a file whose sha256 is not pinned yet (a new release).

    check() decides what is right instead of a pin (a published checksum, the archive's contents): a cached copy
    it accepts is used as it is, one it refuses is removed; otherwise each URL is tried in turn as fetch() does
    (same deadlines, progress and stopping), and the first download check() accepts is moved into the cache. If
    none is accepted, one SourceError lists why per URL (label names the file in it).
    """
    target = cache_dir / filename
    try:
        if target.exists() and not target.is_file():
            raise folder_in_the_way(target, filename)
        if target.is_file():
            cached = Served(sha256_of(target), target.stat().st_size)
            if check(target, cached) is None:
                remove_stale_parts(target)
                return target, cached.sha256
            target.unlink()
        cache_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise local_error(exc, cache_dir, f"check the cached {filename}") from exc
    if not urls:
        raise SourceError(f"{label} is not in the source cache {cache_dir} and no download URL was given.")
    remove_stale_parts(target)
    failures: list[_Failure] = []
    with requests.Session() as session:
        for url in urls:
            if should_stop is not None and should_stop():
                raise Interrupted(f"Stopped before downloading {label}.")
            failure = _fetch_one(session, url, target, check, limits or Limits(), progress, should_stop, label)
            if failure is None:
                return target, sha256_of(target)
            failures.append(failure)
            if isinstance(progress, ReportsSkips):
                progress.skipped(redact_url(url), failure.reason)
    listed = "; ".join(f"{redact_url(f.url)} ({f.reason})" for f in failures)
    raise SourceError(f"Could not download {label} from any of {len(failures)} URL(s): {listed}.")


def _check_cached(python: PythonVersion, target: Path) -> tuple[bool, str]:
    """(True, "") if target holds the pinned bytes; else (False, a note on a corrupted copy it removed)."""
    try:
        if target.exists() and not target.is_file():
            raise folder_in_the_way(target, python.filename)
        if not target.is_file():
            return False, ""
        actual = sha256_of(target)
        if actual == python.sha256:
            return True, ""
        target.unlink()
    except IsADirectoryError as exc:
        raise folder_in_the_way(target, python.filename) from exc
    except OSError as exc:
        raise local_error(exc, target.parent, f"check the cached {python.filename}") from exc
    return False, f" (the cached copy had sha256 {actual} instead of the pinned {python.sha256} and was removed)"


def _pinned(python: PythonVersion) -> Check:
    def check(part: Path, served: Served) -> str | None:
        return None if served.sha256 == python.sha256 else f"served {served.size} bytes with sha256 {served.sha256}"

    return check


def _fetch_one(
    session: requests.Session,
    url: str,
    target: Path,
    check: Check,
    limits: Limits,
    progress: Progress | None,
    should_stop: Callable[[], bool] | None,
    name: str | None = None,
) -> _Failure | None:
    """Download url into a part file and move it to target if check() finds nothing wrong; else say why not."""
    filename = target.name
    try:
        out, part = open_part(target)
    except OSError as exc:
        raise local_error(exc, target.parent, f"create a part file for {filename}") from exc
    try:
        with out:
            try:
                served = download(session, url, out, limits, progress, should_stop, name=name or filename)
            except Skip as skipped:
                return _Failure(url, str(skipped))
            out.flush()
            os.fsync(out.fileno())
        reason = check(part, served)
        if reason is not None:
            return _Failure(url, reason, served)
        part.chmod(0o644)  # mkstemp creates 0600; the cache is shared with build contexts
        os.replace(part, target)
        return None
    except IsADirectoryError as exc:
        raise folder_in_the_way(target, filename) from exc
    except OSError as exc:
        raise local_error(exc, target.parent, f"write {filename}") from exc
    finally:
        with contextlib.suppress(OSError):
            part.unlink(missing_ok=True)


def _none_served(python: PythonVersion, failures: list[_Failure]) -> SourceError:
    listed = "; ".join(f"{redact_url(f.url)} ({f.reason})" for f in failures)
    text = f"Could not download {python.filename} (Python {python.version}) from any of {len(failures)} URL(s): "
    text += listed + "."
    served = [f.served for f in failures if f.served is not None]
    digests = {s.sha256 for s in served}
    if len(served) >= 2 and len(digests) == 1:
        text += (
            f" Every URL that served a file ({len(served)} of them) served the same sha256 {digests.pop()}, "
            f"not the pinned {python.sha256}, so the pin is probably wrong: check it against the checksum "
            "published with the release on python.org and correct it in the family file."
        )
    elif served:
        text += (
            f" The pinned sha256 is {python.sha256}: either the pin is wrong or a mirror serves a different "
            "file; check the pin against the checksum published with the release on python.org."
        )
    if len(served) < len(failures):
        text += (
            " Check the network and proxy settings, or add a mirror that carries this file (sources.mirrors in "
            "the family file, or $PYFAMILY_SOURCE_MIRRORS)."
        )
    return SourceError(text)
