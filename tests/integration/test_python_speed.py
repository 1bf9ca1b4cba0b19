"""The thin runtimes start like a warm Python from the first run (#11): the stdlib ships as bytecode, the interpreter
is static. Fast checks on the fixture family; the timings themselves are `invoke bench`'s, never assertions here."""

from __future__ import annotations

import pytest

from pyfamily import verify

from . import support

MINORS = ("3.11", "3.13")
IMPORTS = "import json, ssl, sqlite3, asyncio, email.parser, http.client, decimal, zoneinfo, venv"


@pytest.mark.parametrize("minor", MINORS)
@pytest.mark.parametrize("read_only", [True, False], ids=["read-only", "writable"])
def test_a_fresh_container_imports_the_stdlib_without_compiling_it(family, minor, read_only):
    run = verify.run(family.ref(minor), ["python3", "-c", IMPORTS], read_only=read_only)
    assert run.exit_code == 0, run.output
    assert run.pyc_written == []  # nothing compiled, so nothing written: the bytecode is in the image


@pytest.mark.parametrize("minor", MINORS)
def test_all_imports_the_stdlib_without_compiling_it_either(family, minor):
    run = verify.run(family.ref("all"), [f"python{minor}", "-c", IMPORTS], read_only=True)
    assert run.exit_code == 0, run.output
    assert run.pyc_written == []


@pytest.mark.parametrize("minor", MINORS)
def test_runtime_stdlib_is_sourceless_bytecode_and_tracebacks_name_file_and_line(family, minor):
    stdlib = f"/usr/local/lib/python{minor}"
    script = "import json; print(json.__file__); json.loads('{')"
    run = verify.run(family.ref(minor), ["python3", "-c", script], read_only=True)
    assert run.exit_code == 1, run.output
    assert f"{stdlib}/json/__init__.pyc" in run.output
    assert f'File "{stdlib}/json/decoder.py", line ' in run.output
    assert "JSONDecodeError" in run.output
    # `all` (and the builders) keep the sources next to the same bytecode: there the line's text shows too.
    run = verify.run(family.ref("all"), [f"python{minor}", "-c", script], read_only=True)
    assert f'File "{stdlib}/json/decoder.py", line ' in run.output
    assert "obj, end = self.scan_once(s, idx)" in run.output


@pytest.mark.parametrize("minor", MINORS)
def test_venv_with_pip_works_in_a_read_only_container(family, minor):
    script = ["sh", "-c", "python3 -m venv /tmp/v && /tmp/v/bin/python -m pip --version"]
    run = verify.run(family.ref(minor), script, read_only=True)
    assert run.exit_code == 0, run.output
    assert "pip " in run.output


@pytest.mark.parametrize("minor", MINORS)
def test_runtime_python_is_static_and_all_keeps_libpython_for_embedding(family, minor):
    code, output = support.run(family.ref(minor), f"ldd /usr/local/bin/python{minor}", network="none")
    assert code == 0 and "libpython" not in output, output
    code, output = support.run(family.ref(minor), f"ls /usr/local/lib/libpython{minor}*", network="none")
    assert code != 0, output  # the static interpreter needs none, so the runtime ships none
    embed = f"python{minor}-config --embed --ldflags && test -e /usr/local/lib/libpython{minor}.so.1.0"
    code, output = support.run(family.ref("all"), embed, network="none")
    assert code == 0 and f"-lpython{minor}" in output, output
