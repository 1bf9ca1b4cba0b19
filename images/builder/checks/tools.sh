#!/bin/sh
# The tools of all.tools ($TOOLS) are on PATH.
set -e
for tool in $TOOLS; do command -v "$tool"; done
