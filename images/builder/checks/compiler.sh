#!/bin/sh
# The compiler and pkg-config are there.
gcc --version && pkg-config --version
