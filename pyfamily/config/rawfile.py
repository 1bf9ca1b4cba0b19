"""A family file's bytes: a regular file of at most MAX_BYTES, UTF-8 without NUL, or a ConfigError saying where not.

The size is capped before anything is parsed, and opening never blocks (a FIFO or device named by `extends:` is
refused, not read).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from pyfamily.errors import ConfigError

MAX_BYTES = 1 << 20  # 1 MiB; images.yaml is about 5 KiB


def read_text(file: Path) -> str:
    """The text of `file`, read with the limits above."""
    return _decode(_read_bytes(file), file)


def _read_bytes(file: Path) -> bytes:
    try:
        # O_NONBLOCK: opening a FIFO must not hang; anything but a regular file is refused just below.
        descriptor = os.open(file, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ConfigError(f"{file}: cannot read the configuration file ({reason}).") from None
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise ConfigError(f"{file}: cannot read the configuration file (not a regular file).")
        chunks: list[bytes] = []
        while chunk := os.read(descriptor, MAX_BYTES + 1 - sum(map(len, chunks))):
            chunks.append(chunk)
        raw = b"".join(chunks)
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read the configuration file ({exc.strerror or exc}).") from None
    finally:
        os.close(descriptor)
    if len(raw) > MAX_BYTES:
        raise ConfigError(
            f"{file}: the file is larger than {MAX_BYTES // 1024} KiB; a family file is a few KiB of YAML."
        )
    return raw


def _decode(raw: bytes, file: Path) -> str:
    nul = raw.find(b"\0")
    if nul >= 0:
        line = raw.count(b"\n", 0, nul) + 1
        raise ConfigError(f"{file} (line {line}): byte offset {nul} is a NUL byte; a family file is UTF-8 text.")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ConfigError(
            f"{file} (line {line}): byte offset {exc.start} (0x{raw[exc.start]:02x}) is not UTF-8 ({exc.reason}); "
            "a family file is UTF-8 text."
        ) from None
