#!/bin/sh
# Bootstraps the Debian tree of `base` into a tarball, as slim as the official -slim images: no docs but
# copyright files, no man/info pages, no locales (C.UTF-8 is built into glibc), empty apt lists and caches.
# dpkg.cfg and apt.conf beside this script stay in the image, so later installs stay slim too.
# usage: bootstrap.sh SUITE ARCH OUTPUT.tar [MIRROR] [PACKAGE...]   (ARCH: Debian's name, e.g. arm64; MIRROR "":
# mmdebstrap's default archive). A foreign ARCH runs its maintainer scripts under qemu-user (ensure-emulation).
# OUTPUT's name with .epoch for .tar gets the archive's Release date (pin-dates.sh: what makes it reproducible).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
suite=$1 arch=$2 output=$3 mirror=${4:-}
shift 3; [ $# -gt 0 ] && shift
packages=$(echo "$@" | tr ' ' ',')

export PYFAMILY_EPOCH_FILE="${output%.tar}.epoch"  # pin-dates.sh writes the archive's Release date there
# shellcheck disable=SC2016 # "$1" in the hooks is expanded by mmdebstrap's hook shell, not here
exec mmdebstrap --variant=minbase --format=tar --architectures="$arch" ${packages:+--include="$packages"} \
  --dpkgopt="$here/dpkg.cfg" --aptopt="$here/apt.conf" \
  --customize-hook='ln -sf /usr/share/zoneinfo/Etc/UTC "$1/etc/localtime"; echo Etc/UTC > "$1/etc/timezone"' \
  --customize-hook='rm -rf "$1"/var/cache/ldconfig/aux-cache "$1"/var/log/*.log "$1"/var/log/apt/* "$1"/var/cache/apt/*.bin' \
  --customize-hook="$here/pin-dates.sh" \
  "$suite" "$output" ${mirror:+"$mirror"}
