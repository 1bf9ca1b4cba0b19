#!/bin/sh
# python3 is the family's default Python ($DEFAULT_PYTHON).
python3 -c 'import os, sys; assert sys.version.startswith(os.environ["DEFAULT_PYTHON"] + "."), sys.version'
