#!/bin/sh
# The helpers every image of the family carries are on PATH.
command -v apt-install && command -v wait-for-port && command -v find-libdeps
