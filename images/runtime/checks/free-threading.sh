#!/bin/sh
# The free-threaded Python ($PYTHON_MINOR ending in t) runs without the GIL, and keeps it off once the standard
# extension modules are imported (one that turns it back on is named); threads of pure Python run at the same time.
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


def overlaps(deadline=30.0):
    """Whether a second thread runs while this one spins in pure Python. With a GIL it cannot: the switch interval
    is made longer than the deadline, so the spinning thread never hands the GIL over and the other never gets to
    set the flag. Without one, the other thread runs as soon as the kernel gives it a core, however busy the
    machine (no timing is compared: the deadline only bounds the wait)."""
    seen, go = [], threading.Event()

    def other():
        go.wait()
        seen.append(True)

    thread = threading.Thread(target=other)
    thread.start()
    go.set()
    ends = time.monotonic() + deadline
    while not seen and time.monotonic() < ends:
        pass
    ran = bool(seen)  # read before anything here lets go of a GIL
    sys.setswitchinterval(0.005)  # Python's default again: the other thread may finish, GIL or not
    thread.join()
    return ran


cores = len(os.sched_getaffinity(0))
if cores < 2:
    print(f"parallel threads not checked: {cores} core available (needs 2)")
    raise SystemExit(0)
sys.setswitchinterval(300.0)  # longer than the deadline: a GIL, if any, stays with the spinning thread
assert overlaps(), "a second thread never ran while the first spun: the threads do not run in parallel"
print("a second thread ran while the first spun in pure Python: no GIL between them")
PY
