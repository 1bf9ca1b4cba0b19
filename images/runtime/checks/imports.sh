#!/bin/sh
# Python $PYTHON_MINOR imports every module of python.check_imports, and knows its time zones.
set -e
python3 -c 'import importlib, os; [importlib.import_module(m) for m in os.environ["CHECK_IMPORTS"].split()]'
python3 -c 'import zoneinfo; zoneinfo.ZoneInfo("Europe/Paris")'
python3 -c 'import os, sys; assert sys.version.split()[0] == os.environ["PYTHON_VERSION"], sys.version'
# decimal runs on CPython's bundled libmpdec, compiled into _decimal with PGO and LTO, not on a shared libmpdec
# (build-python.sh says why).
python3 -c 'import _decimal; assert "libmpdec" not in open("/proc/self/maps").read(), "_decimal loads libmpdec.so"'
