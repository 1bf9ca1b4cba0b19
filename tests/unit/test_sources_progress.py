"""Tests for pyfamily.sources.console_progress: short CI logs, one rewritten line on a TTY, no secrets."""

from __future__ import annotations

import io

from pyfamily.sources import console_progress

MIB = 1024 * 1024
URL = "https://www.python.org/ftp/python/3.13.15/Python-3.13.15.tar.xz"


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def _simulate(stream: io.StringIO, total: int | None, url: str = URL) -> None:
    report = console_progress(stream)
    size = 22 * MIB
    for done in range(1, size + 1, MIB):
        report(url, done, total)
    report(url, size, size)


def test_console_progress_log_prints_few_lines() -> None:
    out = io.StringIO()
    _simulate(out, 22 * MIB)
    lines = out.getvalue().splitlines()
    assert 3 <= len(lines) <= 5
    assert lines[0].startswith("downloading Python-3.13.15.tar.xz from www.python.org: ")
    assert lines[-1].endswith("22.0/22.0 MiB (100%)")


def test_console_progress_unknown_size() -> None:
    out = io.StringIO()
    _simulate(out, None)
    lines = out.getvalue().splitlines()
    assert len(lines) <= 5
    assert lines[-1].endswith("22.0/22.0 MiB (100%)")


def test_console_progress_tty_rewrites_one_line() -> None:
    out = FakeTTY()
    _simulate(out, 22 * MIB)
    text = out.getvalue()
    assert text.count("\r") == 23
    assert text.count("\n") == 1
    assert text.endswith("(100%)\x1b[K\n")


def test_console_progress_skip_closes_the_line_and_hides_secrets() -> None:
    out = FakeTTY()
    report = console_progress(out)
    secret = "https://bob:hunter2@mirror.example.org/?token=abc"
    report(secret, MIB, 22 * MIB)
    report.skipped(secret, "too slow")  # type: ignore[attr-defined]
    report(URL, 22 * MIB, 22 * MIB)
    lines = out.getvalue().split("\n")
    assert lines[0].startswith("\rdownloading the source tarball from mirror.example.org: 1.0/22.0 MiB")
    assert lines[1] == "skipped https://***@mirror.example.org/?***: too slow"
    assert lines[2].startswith("\rdownloading Python-3.13.15.tar.xz from www.python.org: 22.0/22.0 MiB (100%)")
    assert "hunter2" not in out.getvalue() and "abc" not in out.getvalue() and "bob" not in out.getvalue()
