#!/bin/sh
# Install what compiling CPython for ARCH needs, on the build machine (the compile stage runs on BuildKit's
# build platform, never emulated):
#   install-build-deps.sh ARCH [--backports] PACKAGE...   (PACKAGE: python.build_packages of images.yaml)
# ARCH this machine's: the packages as they are. A foreign ARCH (cross-compiling): the tools (the packages not
# named *-dev) for this machine, Debian's cross compiler crossbuild-essential-ARCH, and every -dev package for
# ARCH (`libssl-dev:arm64`), so configure finds ARCH's headers and libraries; plus a native C toolchain for the
# same-version build Python that CPython's cross build runs (build-python.sh builds it).
# --backports: the stage's apt also reads the base suite's backports (trixie-backports), Debian's own archive
# signed by the same key, for a package only it has (the LLVM a minor's JIT names: jit: {llvm: 21, backports:
# true}). Apt pins backports below the suite, so every other package still comes from the suite. This stage is
# never shipped; no image of the family reads backports.
set -eu

# The first source of the suite, again for SUITE-backports: one-line sources.list (what mmdebstrap writes) and
# deb822 .sources (Debian's own images) alike.
add_backports() {
    suite=$1 found=/tmp/backports-source
    for list in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$list" ] || continue
        awk -v s="$suite" '$1 == "deb" && $3 == s { $3 = s "-backports"; print; exit }' "$list" > "$found"
        # Moved in only when found: an empty backports.list left behind would be a file apt reads for nothing.
        if [ -s "$found" ]; then mv "$found" /etc/apt/sources.list.d/backports.list; return 0; fi
    done
    for list in /etc/apt/sources.list.d/*.sources; do
        [ -f "$list" ] || continue
        awk -v s="$suite" 'BEGIN { RS = ""; ORS = "\n" } $0 ~ ("Suites:[^\n]*[ \t]" s "([ \t]|\n|$)") {
            sub(/Suites:[^\n]*/, "Suites: " s "-backports"); print; exit }' "$list" > "$found"
        if [ -s "$found" ]; then mv "$found" /etc/apt/sources.list.d/backports.sources; return 0; fi
    done
    rm -f "$found"
    echo "install-build-deps: no apt source of $suite to add $suite-backports beside" >&2
    exit 1
}

arch=$1
shift
if [ "${1-}" = --backports ]; then
    shift
    # shellcheck source=/dev/null # the stage's own /etc/os-release: VERSION_CODENAME, the suite
    . /etc/os-release
    add_backports "$VERSION_CODENAME"
fi
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
