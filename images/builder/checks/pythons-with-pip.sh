#!/bin/sh
# Every Python of the stage ($PYTHONS) has pip and its headers.
set -e
for minor in $PYTHONS; do
  "python$minor" -m pip --version
  "python$minor-config" --includes
done
