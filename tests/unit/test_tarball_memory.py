"""check_tarball's memory does not grow with the number of members: a few MB of xz unpack to millions of them."""

from __future__ import annotations

import io
import lzma
import tarfile
import tracemalloc
from pathlib import Path

from pyfamily.sources.releases import check_tarball

VERSION = "3.13.16"


def many_members(path: Path, count: int) -> None:
    """A CPython-like .tar.xz: patchlevel.h, then `count` empty files (one header block each, all alike)."""
    body = f'#define PY_VERSION "{VERSION}"\n'.encode()
    patchlevel = tarfile.TarInfo(f"Python-{VERSION}/Include/patchlevel.h")
    patchlevel.size = len(body)
    stream = io.BytesIO()
    stream.write(patchlevel.tobuf(format=tarfile.GNU_FORMAT))
    stream.write(body.ljust(tarfile.BLOCKSIZE, b"\0"))
    stream.write(tarfile.TarInfo(f"Python-{VERSION}/Lib/empty.py").tobuf(format=tarfile.GNU_FORMAT) * count)
    stream.write(b"\0" * 2 * tarfile.BLOCKSIZE)  # the end-of-archive marker
    path.write_bytes(lzma.compress(stream.getvalue(), preset=0))


def peak_while_checking(path: Path) -> int:
    tracemalloc.start()
    try:
        assert check_tarball(path, VERSION, path.name) is None
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_checking_a_tarball_keeps_no_member_it_has_read(tmp_path: Path) -> None:
    few, many = tmp_path / "few.tar.xz", tmp_path / "many.tar.xz"
    many_members(few, 1_000)
    many_members(many, 20_000)
    assert many.stat().st_size < 100_000  # a small download...
    growth = peak_while_checking(many) - peak_while_checking(few)
    # ...whose 19,000 more members would cost about 400 bytes each (over 7 MB) if their TarInfo were kept.
    assert growth < 1_000_000, f"peak memory grew by {growth} bytes for 19,000 more members"
