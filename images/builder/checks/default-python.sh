#!/bin/sh
# python3 is the family's default Python ($DEFAULT_PYTHON; "3.14t" is the free-threaded build of 3.14).
python3 -c '
import os, sys, sysconfig
want = os.environ["DEFAULT_PYTHON"]
have = "%d.%d" % sys.version_info[:2] + ("t" if sysconfig.get_config_var("Py_GIL_DISABLED") else "")
assert have == want, f"python3 is {have}, not {want}: {sys.version}"
'
