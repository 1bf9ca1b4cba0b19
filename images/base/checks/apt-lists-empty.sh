#!/bin/sh
# No apt lists were left in the image (apt-install removes them after every install).
test -z "$(find /var/lib/apt/lists -mindepth 1 -maxdepth 1 ! -name lock ! -name partial)"
