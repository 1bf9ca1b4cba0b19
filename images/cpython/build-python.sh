#!/usr/bin/env bash
# Compile CPython from a verified source tarball and stage it under DESTDIR/usr/local.
# Runs inside a Debian build container that has the build packages installed.
#
#   build-python.sh TARBALL MINOR DESTDIR [CONFIGURE_FLAG...]
#
# Extra flags come from the build profile (release: --enable-optimizations --with-lto).
# Writes DESTDIR/usr/local/share/pkgdeps/pythonMINOR.txt: the Debian packages the
# staged tree needs at run time (computed with find-libdeps).
set -euo pipefail

if [ $# -lt 3 ]; then
    echo "usage: $0 TARBALL MINOR DESTDIR [CONFIGURE_FLAG...]" >&2
    exit 2
fi
tarball=$(realpath "$1")
minor=$2
destdir=$(realpath -m "$3")
shift 3

src=$(mktemp -d /tmp/cpython.XXXXXX)
trap 'rm -rf "$src"' EXIT
tar -xf "$tarball" -C "$src" --strip-components=1
cd "$src"

# Shared libpython so every interpreter of a minor version shares one copy; pip is left
# out (ensurepip and its bundled wheel stay, so `python -m venv` still gets pip).
# System expat/libffi/libmpdec (3.13+ default) take Debian's security updates.
./configure \
    --build="$(dpkg-architecture -qDEB_BUILD_GNU_TYPE)" \
    --prefix=/usr/local \
    --enable-option-checking=fatal \
    --enable-shared \
    --enable-loadable-sqlite-extensions \
    --with-system-expat \
    --with-ensurepip=no \
    --disable-test-modules \
    "$@"

# Debian hardening flags, minus its -O2 that would override CPython's own -O3.
# Passed to make, not configure, so they stay out of sysconfig (see altinstall below).
cflags="$(DEB_CFLAGS_MAINT_STRIP=-O2 dpkg-buildflags --get CFLAGS) $(dpkg-buildflags --get CPPFLAGS)"
ldflags=$(dpkg-buildflags --get LDFLAGS)
# Frame pointers make perf/eBPF profilers usable, as in the official images.
case "$(dpkg --print-architecture)" in
    amd64 | arm64) cflags+=" -fno-omit-frame-pointer -mno-omit-leaf-frame-pointer" ;;
    i386) ;;
    *) cflags+=" -fno-omit-frame-pointer" ;;
esac

make -j"$(nproc)" EXTRA_CFLAGS="$cflags" LDFLAGS="$ldflags"
# Relink only the interpreter with an rpath to its own libpython: it then runs without
# ldconfig, never picks up another libpython3.X.so.1.0, and resolves in DESTDIR too.
# ($$ survives make; the quotes keep $ORIGIN literal for the linker.)
rm python
make -j"$(nproc)" EXTRA_CFLAGS="$cflags" LDFLAGS="$ldflags -Wl,-rpath='\$\$ORIGIN/../lib'" python
# altinstall: only version-suffixed names, so several versions share one /usr/local.
# No flags here: sysconfig data is regenerated now (python is newer) and would record
# make's LDFLAGS/EXTRA_CFLAGS, putting this rpath into every pip-built extension.
make altinstall DESTDIR="$destdir"

cd "$destdir/usr/local"
stdlib=lib/python$minor

# No tk-dev at build time, so _tkinter is never built: drop what cannot run without it.
rm -rf "$stdlib"/{idlelib,tkinter,turtledemo,turtle.py} "bin/idle$minor" share/man
# Test suites and test-only extension modules; unittest, lib2to3 etc. stay.
find "$stdlib" -depth -type d \( -name test -o -name tests -o -name idle_test \) -exec rm -rf {} +
rm -f "$stdlib"/lib-dynload/{_test,_xxtestfuzz,xxlimited,_ctypes_test}*.so
# No .pyc, as in the official images: they would add 12 MB (plain level only) to 32 MB
# (the three levels altinstall compiles); Python writes them on import where it can.
find . -depth -type d -name __pycache__ -exec rm -rf {} +
find . -name '*.a' -delete

# Strip every ELF file (the interpreter, libpython, lib-dynload), found by its magic
# bytes; scripts are left alone.
find . -type f \( -name '*.so*' -o -perm -u+x \) -print0 |
    while IFS= read -r -d '' f; do
        if [ "$(head -c4 "$f" | tail -c3)" = ELF ]; then
            strip --strip-unneeded "$f"
        fi
    done

# libpython3.so (the stable-ABI stub) has no rpath: point the loader at the staged libs.
mkdir -p share/pkgdeps
LD_LIBRARY_PATH="$destdir/usr/local/lib" find-libdeps --strict "$destdir/usr/local" >"share/pkgdeps/python$minor.txt"
echo "runtime packages for python$minor: $(tr '\n' ' ' <"share/pkgdeps/python$minor.txt")"
