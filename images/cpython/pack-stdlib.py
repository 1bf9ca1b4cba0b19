"""Ship the standard library as bytecode, so no container compiles it at start (#11).

    pythonX.Y -I -B pack-stdlib.py PREFIX MINOR RUNTIME_PREFIX

Run by build-python.sh with the interpreter it just staged under PREFIX (e.g. /staging/usr/local).

- PREFIX (the tree builders and `all` copy) keeps every source and gets an unchecked-hash .pyc of each in
  __pycache__: tracebacks there show the source line, and nothing is compiled at start.
- RUNTIME_PREFIX (what the thin runtime copies) gets the stdlib as sourceless bytecode: `json/__init__.pyc` in
  place of `json/__init__.py`. Python imports these directly (SourcelessFileLoader); the code objects carry
  their source path, so tracebacks still name file and line, without the line's text. Sources and bytecode both
  would add ~10 MB; a zip of both (pythonXY.zip on sys.path) is small but zipimport made the first imports
  ~50% slower than files on disk, so the thin runtime trades the source text for size and speed.
  Left out of the runtime: config-X.Y-* (for building extensions and embedding: `all` has it) and pydoc_data
  (help()'s topic texts; help() says they are missing).

Unchecked-hash .pyc are never checked against their source: right for an image whose stdlib does not change,
and it does not depend on file times surviving copies between stages. Both trees hold the same bytes.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import time
from importlib._bootstrap_external import _code_to_hash_pyc  # type: ignore[attr-defined]
from pathlib import Path

RUNTIME_LEAVES_OUT = ("config-", "pydoc_data", "__pycache__")
# Kept as source in the runtime too: getpath's landmark for finding the stdlib (os is frozen, so never read).
RUNTIME_KEEPS_SOURCE = {"os.py"}


def hash_pyc(source: bytes, filename: str) -> bytes:
    code = compile(source, filename, "exec", dont_inherit=True, optimize=0)
    return bytes(_code_to_hash_pyc(code, importlib.util.source_hash(source), False))


def main() -> None:
    started = time.monotonic()
    prefix, minor, runtime_prefix = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
    stdlib = prefix / "lib" / f"python{minor}"
    runtime_stdlib = runtime_prefix / "lib" / f"python{minor}"
    where = Path("/usr/local/lib") / f"python{minor}"  # the stdlib's path at run time: compiled into the code
    tag = sys.implementation.cache_tag
    compiled = 0
    for path in sorted(stdlib.rglob("*")):
        rel = path.relative_to(stdlib)
        if path.is_dir() or rel.parts[0] == "site-packages":
            continue
        leaves_out = rel.parts[0].startswith(RUNTIME_LEAVES_OUT) or "__pycache__" in rel.parts
        target = runtime_stdlib / rel
        if path.suffix != ".py":
            if not leaves_out:  # lib-dynload, ensurepip's wheel, venv's scripts: hard links, the same bytes
                target.parent.mkdir(parents=True, exist_ok=True)
                os.link(path, target)
            continue
        source = path.read_bytes()
        pyc = hash_pyc(source, str(where / rel))
        cache = path.parent / "__pycache__" / f"{path.stem}.{tag}.pyc"
        cache.parent.mkdir(exist_ok=True)
        cache.write_bytes(pyc)
        compiled += 1
        if leaves_out:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if rel.as_posix() in RUNTIME_KEEPS_SOURCE:
            shutil.copy2(path, target)
        else:
            target.with_suffix(".pyc").write_bytes(pyc)
    site_packages = runtime_stdlib / "site-packages"
    site_packages.mkdir(parents=True, exist_ok=True)
    shutil.copy2(stdlib / "site-packages" / "README.txt", site_packages / "README.txt")
    print(
        f"pack-stdlib: {compiled} modules compiled; sources + __pycache__ in {prefix}, sourceless in {runtime_prefix}"
    )
    print(f"pack-stdlib: phase pack took {time.monotonic() - started:.0f} s")  # a row of `invoke bench`


if __name__ == "__main__":
    main()
