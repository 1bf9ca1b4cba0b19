#!/bin/sh
# A thin runtime has no -dev packages.
! dpkg-query -W -f '${Package}\n' | grep -- '-dev$'
