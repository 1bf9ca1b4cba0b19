#!/bin/sh
# `python -m venv` works (ensurepip's bundled pip is kept for it). Under emulation (a foreign platform: EMULATED=1)
# ensurepip's pip install takes ~8 minutes, so there the venv is made without pip and ensurepip's wheel is checked.
if [ "${EMULATED:-0}" = 1 ]; then
    python -m venv --without-pip /tmp/venv && /tmp/venv/bin/python -c 'import ensurepip, sys; print(sys.prefix, ensurepip.version())'
else
    python -m venv /tmp/venv && /tmp/venv/bin/python -c 'import sys; print(sys.prefix)'
fi
