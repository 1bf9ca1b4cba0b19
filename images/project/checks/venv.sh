#!/bin/sh
# The project's venv is there, its Python runs, and pip is not left in it.
set -eu
test -x /usr/share/python3/app/bin/python
/usr/share/python3/app/bin/python -c 'import sys; print(sys.version)'
test ! -e /usr/share/python3/app/bin/pip
