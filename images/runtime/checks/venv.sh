#!/bin/sh
# `python -m venv` works (ensurepip's bundled pip is kept for it).
python -m venv /tmp/venv && /tmp/venv/bin/python -c 'import sys; print(sys.prefix)'
