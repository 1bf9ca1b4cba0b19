#!/bin/sh
# Install what compiling CPython for ARCH needs, on the build machine (the compile stage runs on BuildKit's
# build platform, never emulated):
#   install-build-deps.sh ARCH PACKAGE...   (PACKAGE: python.build_packages of images.yaml)
# ARCH this machine's: the packages as they are. A foreign ARCH (cross-compiling): the tools (the packages not
# named *-dev) for this machine, Debian's cross compiler crossbuild-essential-ARCH, and every -dev package for
# ARCH (`libssl-dev:arm64`), so configure finds ARCH's headers and libraries; plus a native C toolchain for the
# same-version build Python that CPython's cross build runs (build-python.sh builds it).
set -eu
arch=$1
shift
if [ "$arch" = "$(dpkg --print-architecture)" ]; then
    exec apt-install "$@"
fi
dpkg --add-architecture "$arch"
tools='' libraries=''
for package in "$@"; do
    case $package in
        *-dev) libraries="$libraries $package:$arch" ;;
        *) tools="$tools $package" ;;
    esac
done
# shellcheck disable=SC2086 # word lists of package names (apt-install checks each)
exec apt-install "crossbuild-essential-$arch" libc6-dev zlib1g-dev $tools $libraries
