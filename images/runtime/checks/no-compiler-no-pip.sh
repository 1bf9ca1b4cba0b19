#!/bin/sh
# A thin runtime has no compiler and no pip.
! command -v gcc && ! command -v cc && ! command -v pip3 && ! python3 -c 'import pip' 2>/dev/null
