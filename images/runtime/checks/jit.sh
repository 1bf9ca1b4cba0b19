#!/bin/sh
# Where the profile builds CPython's JIT for this minor (JIT_BUILT=1: build.profiles.<profile>.jit and the minor's
# jit: {llvm: N}), python$PYTHON_MINOR has it, off, and PYTHON_JIT=1 turns it on. Nothing to check elsewhere.
set -e
[ "$JIT_BUILT" = 1 ] || exit 0
exec python3 - <<'PY'
import os, subprocess, sys, sysconfig

options = sysconfig.get_config_var("CONFIG_ARGS") or ""
assert "--enable-experimental-jit=yes-off" in options, f"configure had no --enable-experimental-jit=yes-off: {options}"
assert sys._jit.is_available(), "sys._jit says this interpreter has no JIT"
assert not sys._jit.is_enabled(), "the JIT is on without PYTHON_JIT=1"
on = subprocess.run(
    [sys.executable, "-c", "import sys; print(sys._jit.is_enabled())"],
    env={**os.environ, "PYTHON_JIT": "1"}, capture_output=True, text=True, check=True,
).stdout.strip()
assert on == "True", f"with PYTHON_JIT=1 sys._jit.is_enabled() says {on}"
print("the JIT is built in, off, and PYTHON_JIT=1 turns it on")
PY
