#!/bin/sh
# Python $PYTHON_MINOR imports every module of python.check_imports, and knows its time zones.
set -e
python3 -c 'import importlib, os; [importlib.import_module(m) for m in os.environ["CHECK_IMPORTS"].split()]'
python3 -c 'import zoneinfo; zoneinfo.ZoneInfo("Europe/Paris")'
python3 -c 'import os, sys; assert sys.version.split()[0] == os.environ["PYTHON_VERSION"], sys.version'
