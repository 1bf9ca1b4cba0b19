#!/bin/sh
# The free-threaded Python ($PYTHON_MINOR ending in t) runs without the GIL, and keeps it off once the standard
# extension modules are imported (one that turns it back on is named); threads of pure Python run in parallel.
# Every other Python has the GIL: a default build is never free-threaded by mistake.
set -e
exec python3 - <<'PY'
import importlib, os, sys, sysconfig, threading, time

free = os.environ["PYTHON_MINOR"].endswith("t")
built = sysconfig.get_config_var("Py_GIL_DISABLED")
if not free:
    assert not built, f"python{os.environ['PYTHON_MINOR']} was built with Py_GIL_DISABLED={built}"
    raise SystemExit(0)
assert built == 1, f"Py_GIL_DISABLED is {built!r}, not 1: configure did not get --disable-gil"
for name in os.environ["CHECK_IMPORTS"].split():
    importlib.import_module(name)
    assert not sys._is_gil_enabled(), f"importing {name} turned the GIL back on"


def spin(n=2_000_000):
    total = 0
    for i in range(n):
        total += i * i
    return total


def two_threads():
    threads = [threading.Thread(target=spin) for _ in range(2)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


def one_thread_twice():
    started = time.perf_counter()
    spin()
    spin()
    return time.perf_counter() - started


cores = len(os.sched_getaffinity(0))
if cores < 2:
    print(f"thread scaling not measured: {cores} core available (needs 2)")
    raise SystemExit(0)
# best of 3 of each, interleaved: a busy machine slows a run, never speeds one up
rounds = [(two_threads(), one_thread_twice()) for _ in range(3)]
ratio = min(parallel for parallel, _ in rounds) / min(serial for _, serial in rounds)
print(f"2 threads take {ratio:.2f}x the time of one thread twice")
assert ratio <= 0.65, f"2 threads took {ratio:.2f}x the time of one thread twice (at most 0.65x without the GIL)"
PY
