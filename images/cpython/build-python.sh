#!/usr/bin/env bash
# Compile CPython from a verified source tarball and stage it under DESTDIR/usr/local.
# Runs inside a Debian build container that has the build packages installed.
#
#   build-python.sh TARBALL MINOR DESTDIR [CONFIGURE_FLAG...]
#
# Extra flags come from the build profile (release: --enable-optimizations --with-lto).
# Writes DESTDIR/usr/local/share/pkgdeps/pythonMINOR.txt: the Debian packages the
# staged tree needs at run time (computed with find-libdeps). The stdlib's bytecode is
# made afterwards by pack-stdlib.py (its own step, so changing it does not recompile).
#
# HOST_ARCH (Debian's name; default this machine's) another than this machine's cross-compiles for it, with
# install-build-deps.sh's cross toolchain: first a plain native CPython of the same version is built into
# /opt/build-python (CPython's cross build runs it, and pack-stdlib.py compiles the bytecode with it), then the
# tree for HOST_ARCH. PGO cannot train a cross-compiled interpreter, so --enable-optimizations is refused here:
# release images for a foreign platform are built on a machine of that platform (see README).
set -euo pipefail

if [ $# -lt 3 ]; then
    echo "usage: $0 TARBALL MINOR DESTDIR [CONFIGURE_FLAG...]" >&2
    exit 2
fi
tarball=$(realpath "$1")
minor=$2
destdir=$(realpath -m "$3")
shift 3
# MINOR "3.14t": the free-threaded build (PEP 703), interpreter python3.14t, stdlib lib/python3.14t, extension
# modules tagged cpython-314t. The build Python of a cross build is free-threaded too, so the bytecode and the
# frozen modules it makes are the ones this interpreter reads.
gil=()
case "$minor" in *t) gil=(--disable-gil) ;; esac

build_arch=$(dpkg --print-architecture)
host_arch=${HOST_ARCH:-$build_arch}
cross=()
host_type=""
if [ "$host_arch" != "$build_arch" ]; then
    for flag in "$@"; do
        if [ "$flag" = --enable-optimizations ]; then
            echo "build-python: PGO (--enable-optimizations) runs the interpreter it builds, so it cannot train one" \
                 "cross-compiled for $host_arch here: build that profile on a $host_arch machine." >&2
            exit 2
        fi
    done
fi

# A fixed folder, not mktemp's: the build folder is written into the tree (sysconfig's RUNSHARED, COVERAGE_INFO,
# the .pyc of _sysconfigdata), so a random name would make two builds of the same inputs differ.
src=/tmp/cpython-$minor-build
rm -rf "$src" && mkdir -p "$src"
trap 'rm -rf "$src"' EXIT
tar -xf "$tarball" -C "$src" --strip-components=1
cd "$src"

if [ "$host_arch" != "$build_arch" ]; then
    # The build Python: the interpreter alone (built-in modules, -O1, no PGO/LTO: it only runs CPython's build
    # scripts and compileall), out of tree, with the stdlib beside it. No extension modules: the -dev packages
    # installed are the target's, whose libraries this machine cannot link.
    start=$SECONDS
    mkdir "$src/native"
    (cd "$src/native" && OPT="-O1" ../configure --prefix=/opt/build-python --with-ensurepip=no --disable-test-modules "${gil[@]}" \
        >/dev/null && make -j"$(nproc)" python >/dev/null)
    mkdir -p /opt/build-python/bin /opt/build-python/lib
    cp "$src/native/python" "/opt/build-python/bin/python$minor"
    cp -r "$src/Lib" "/opt/build-python/lib/python$minor"
    echo "build-python: the native build Python took $((SECONDS - start)) s"
    host_type=$(dpkg-architecture -a"$host_arch" -qDEB_HOST_GNU_TYPE 2>/dev/null)
    multiarch=$(dpkg-architecture -a"$host_arch" -qDEB_HOST_MULTIARCH 2>/dev/null)
    # configure cannot run test programs for the target, and its cross-compiling guesses are wrong for Linux
    # with glibc, so say what a native configure finds there: /dev/ptmx and no /dev/ptc; a working getaddrinfo,
    # tzset, sem_getvalue and PTHREAD_SCOPE_SYSTEM; pthreads in libc; computed gotos (the fast eval loop); and no
    # aligned-access requirement (its guess would switch str hashing to FNV, unlike every native build).
    cross=(--host="$host_type" --with-build-python="/opt/build-python/bin/python$minor"
        ac_cv_file__dev_ptmx=yes ac_cv_file__dev_ptc=no ac_cv_buggy_getaddrinfo=no ac_cv_working_tzset=yes
        ac_cv_broken_sem_getvalue=no ac_cv_pthread_system_supported=yes ac_cv_pthread_is_default=yes
        ac_cv_computed_gotos=yes ac_cv_aligned_required=no)
    export PKG_CONFIG_LIBDIR="/usr/lib/$multiarch/pkgconfig:/usr/share/pkgconfig"
    mkdir "$src/cross"
    cd "$src/cross"
fi

# Extension modules that need no library beyond libc and libm are built into the interpreter, as Debian's
# python3.X has them (62 built-in modules there, 33 in a default build): called directly and optimised with
# the core by PGO and LTO (json, pickle, struct, math, datetime, sockets...), and no dlopen when imported.
# Those that link a library (ssl, sqlite3, decimal, zlib, expat, ctypes...) stay in lib-dynload, so the
# interpreter does not load them all at every start. A module this version lacks is skipped.
builtin_modules="array _asyncio _bisect _contextvars _csv _datetime _heapq _json _opcode _pickle _queue _random
    _statistics _struct _zoneinfo math cmath fcntl grp _posixsubprocess select _socket syslog unicodedata"
mkdir -p Modules
echo '*static*' >Modules/Setup.local
for module in $builtin_modules; do
    sed -n "s/^@MODULE_[A-Z0-9_]*_TRUE@\($module .*\)/\1/p" "$src/Modules/Setup.stdlib.in" >>Modules/Setup.local
done

# --enable-shared builds the stdlib's objects position-independent and links libpython3.X.so from them, for
# programs that embed Python (in `all`); pythonX.Y itself is linked statically from the same objects below.
# pip is left out (ensurepip and its bundled wheel stay, so `python -m venv` still gets pip).
# System expat and libffi take Debian's security updates. libmpdec is CPython's bundled copy in every X.Y (3.11
# and 3.12 use it by default, 3.13+ would take Debian's libmpdec4), as Debian's own python3.X links it: compiled
# into _decimal with PGO and LTO, decimal arithmetic ran 1.26x as fast as through the shared libmpdec4 (-O2, no
# PGO, every call through the GOT): 1.05x Debian's speed where it was 0.83x (README, performance). A libmpdec fix
# then comes with a CPython patch release, as one to the rest of CPython's C code does. Asked for only where
# configure has the option (the bundled copy is to go in 3.16).
mpdec=()
grep -q -- '--with-system-libmpdec' "$src/configure" && mpdec=(--with-system-libmpdec=no)
# OPT is CPython's default without -g: the tree is stripped anyway, and debug info makes every compile and the
# LTO links slower.
start=$SECONDS
OPT="-DNDEBUG -O3 -Wall" "$src/configure" \
    --build="$(dpkg-architecture -qDEB_BUILD_GNU_TYPE)" \
    "${cross[@]}" \
    --prefix=/usr/local \
    --enable-option-checking=fatal \
    --enable-shared \
    --without-static-libpython \
    --enable-loadable-sqlite-extensions \
    --with-system-expat \
    "${mpdec[@]}" \
    --with-ensurepip=no \
    --disable-test-modules \
    "${gil[@]}" \
    "$@"
phase() { echo "build-python: phase $1 took $((SECONDS - start)) s"; start=$SECONDS; }
phase configure

# gcc LTO as configured is one partition (-flto-partition=none): kept. In gcc's default partitions (as Debian's
# python3.X; -flto=auto) the optimised build and links took as long (179 s: its two links already run at once on two
# cores) and the pyperformance geomean against Debian's read 1.017x where this recipe's read 1.025x in the same
# run (README, performance).
# No debug info is produced (-g dropped: the tree is stripped anyway, and it slows every compile and the LTO link).
if grep -q -- '-flto-partition=none' Makefile; then
    sed -i -e '/^CONFIGURE_\(C\|LD\)FLAGS_NODIST=/s/ -g\( \|$\)/\1/' Makefile
fi

# Debian hardening flags, minus its -O2 that would override CPython's own -O3 and its -g (stripped anyway), and
# with -fstack-protector instead of -strong, as Debian's own python3.X (debian/rules: the eval loop's frames
# would all get a canary). No frame pointers: Debian's python3.X has none, and they cost speed (README,
# performance). -fno-semantic-interposition (configure adds it only with --enable-optimizations): the objects
# are -fPIC for libpython, and without it gcc may not inline or call directly any exported function, which
# costs the static interpreter too. -fno-plt: a call into a shared library (libc's memcpy and malloc, sqlite,
# OpenSSL...) goes straight through its GOT entry instead of a PLT stub, one jump fewer at each of about 3300 call
# sites; the symbols are bound when the program loads instead of at first call. Measured 1.053x Debian's geomean
# against 1.044x without it, in the same run (README, performance). Passed to make, not configure, so they stay
# out of sysconfig: an extension module built later gets the flags its own build chooses.
export DEB_HOST_ARCH=$host_arch  # dpkg-buildflags: the flags for the platform compiled for
cflags="$(DEB_CFLAGS_MAINT_STRIP='-O2 -g' dpkg-buildflags --get CFLAGS) $(dpkg-buildflags --get CPPFLAGS)"
cflags="${cflags/-fstack-protector-strong/-fstack-protector} -fno-semantic-interposition -fno-plt"
ldflags=$(dpkg-buildflags --get LDFLAGS)
unset DEB_HOST_ARCH
flags=(EXTRA_CFLAGS="$cflags" LDFLAGS="$ldflags")

# The interpreter is linked statically from libpython's own objects: no PLT/GOT indirection into a shared
# library, thread-local state read directly (initial/local-exec TLS instead of __tls_get_addr), and no
# libpython3.X.so to load at start. -export-dynamic (LINKFORSHARED) still exports the C API to extension
# modules. python-static is linked by the same make as libpython3.X.so, side by side (each LTO link is one
# process), instead of a second whole-program link after it.
cat >python-static.mk <<'MAKE'
python-static: Programs/python.o $(LIBRARY_OBJS)
	$(LINKCC) $(PY_CORE_LDFLAGS) $(LINKFORSHARED) -o $@ Programs/python.o $(LIBRARY_OBJS) $(LIBS) $(MODLIBS) $(SYSLIBS)
MAKE
# PGO's training, in two runs, on as many test processes as there are cores. First CPython's own PGO task (the
# --pgo tests), as `make profile-opt` would run it. Then, for everything but the eval loop, the regression suite
# (--pgo-extended) minus what is slow, needs a network, a debugger or the test modules this build leaves out.
# The --pgo tests alone leave most of the C code cold (optimised for size): json_loads ran 0.88x Debian's
# python3.13, whose training is the whole suite. The eval loop keeps the first run's profile (gcc keeps one per
# object file), made by ordinary programs: trained on the suite (its tracing, exceptions and edge cases), nbody
# ran 0.87x and richards 0.94x. README, performance, has the figures. Each run is for its profile, not its
# verdict (as 3.11's own Makefile had it): a test failing does not stop the build (3.11.2's xml_etree tests fail
# with today's expat), a run that does not finish does.
wider_skip="test_asyncio test_capi test_class test_clinic test_cmd_line_script test_code test_compile
    test_compiler test_concurrent_futures test_cppext test_ctypes test_dbm_dumb test_dbm_ndbm test_ensurepip
    test_external_inspection test_free_threading test_ftplib test_gdb test_httplib test_imaplib test_interpreters
    test_ioctl test_multiprocessing_fork test_multiprocessing_forkserver test_multiprocessing_spawn test_nntplib
    test_peg_generator test_perf_profiler test_poplib test_posix test_pydoc test_signal test_socket
    test_socketserver test_ssl test_subprocess test_sundry test_thread test_threaded_import test_threadedtempfile
    test_threading test_threading_local test_threadsignals test_tools test_traceback test_venv
    test_zipimport_support"
run_tests() {
    local status=0
    # The instrumented python links the libpython3.X.so beside it (RUNSHARED in the Makefile).
    LD_LIBRARY_PATH=$PWD ./python -m test -j"$(nproc)" "$@" || status=$?
    case $status in
        0 | 2 | 3) ;; # passed / some tests failed / changed the environment: the profile is there
        *) echo "build-python: the PGO training (-m test $1) exited $status" >&2 && exit 1 ;;
    esac
}
train() {
    local eval_loop=Python/ceval.gcda kept
    run_tests --pgo --timeout=1200
    phase "PGO training"
    kept=$(mktemp)
    cp "$eval_loop" "$kept"
    find . -name '*.gcda' -delete
    # shellcheck disable=SC2086 # a word list of test names
    run_tests --pgo-extended --timeout=600 -x $wider_skip
    mv "$kept" "$eval_loop"
    phase "extended PGO training"
    # What `make profile-run-stamp` does after its task: the instrumented build goes, the profile stays.
    make clean-retain-profile
    touch profile-run-stamp
}
if grep -q '^all:.*profile-opt' Makefile; then
    # PGO's steps one by one (what `make profile-opt` does), each timed. The instrumented build is compiled and
    # linked without LTO: its code only runs the training, and gcc reads the profile per function before LTO,
    # so the optimised build gets the same profile without the instrumented build's whole-program link.
    no_lto() { sed -n "s/^$1=//p" Makefile | sed -e 's/-flto[^ ]*//g; s/-fuse-linker-plugin//; s/-ffat-lto-objects//'; }
    make -j"$(nproc)" "${flags[@]}" profile-gen-stamp \
        CONFIGURE_CFLAGS_NODIST="$(no_lto CONFIGURE_CFLAGS_NODIST)" \
        CONFIGURE_LDFLAGS_NODIST="$(no_lto CONFIGURE_LDFLAGS_NODIST)"
    phase "PGO-instrumented build"
    train
    rm -f profile-clean-stamp
    flags+=(CFLAGS_NODIST="$(sed -n 's/^PGO_PROF_USE_FLAG=//p' Makefile)")
fi
make -j"$(nproc)" "${flags[@]}" -f Makefile -f python-static.mk build_all python-static
# Newer than libpython3.X.so, so `make altinstall` (whose `all` still lists the shared-linked python) keeps it.
mv python-static python && touch python
phase "optimised build and links"
if readelf -d python | grep -q 'NEEDED.*libpython'; then
    echo "build-python: python still links libpython" >&2
    exit 1
fi
# altinstall: only version-suffixed names, so several versions share one /usr/local.
# No flags here: sysconfig data is regenerated now (python is newer) and would record
# make's LDFLAGS/EXTRA_CFLAGS. Its compileall step (3 levels of .pyc, errors ignored) is skipped
# by an option compileall refuses: pack-stdlib.py below compiles the one level that ships.
make altinstall DESTDIR="$destdir" COMPILEALL_OPTS=--pyfamily-skips-compileall
phase install

cd "$destdir/usr/local"
stdlib=lib/python$minor
if [ ${#gil[@]} -gt 0 ]; then
    # `all` holds this tree beside the default build of the same minor in one /usr/local: every name the two
    # share (pydoc3.14, idle3.14, the stable-ABI stub libpython3.so, which a free-threaded build cannot serve)
    # is this build's own or goes, so copying one never overwrites the other.
    # (altinstall also links python3.14 to python3.14t: that name is the default build's.)
    for file in bin/*; do
        case "$file" in *"$minor"*) continue ;; esac
        own=${file/"${minor%t}"/$minor}
        [ "$own" != "$file" ] || own=${file}t
        if [ -e "$own" ]; then rm "$file"; else mv "$file" "$own"; fi
    done
    rm -f lib/libpython3.so
fi

# No tk-dev at build time, so _tkinter is never built: drop what cannot run without it.
rm -rf "$stdlib"/{idlelib,tkinter,turtledemo,turtle.py} "bin/idle$minor" share/man
# Test suites and test-only extension modules; unittest, lib2to3 etc. stay.
find "$stdlib" -depth -type d \( -name test -o -name tests -o -name idle_test \) -exec rm -rf {} +
rm -f "$stdlib"/lib-dynload/{_test,_xxtestfuzz,xxlimited,_ctypes_test}*.so
find . -depth -type d -name __pycache__ -exec rm -rf {} +
find . -name '*.a' -delete

# Strip every ELF file (the interpreter, libpython, lib-dynload), found by its magic
# bytes; scripts are left alone.
find . -type f \( -name '*.so*' -o -perm -u+x \) -print0 |
    while IFS= read -r -d '' f; do
        if [ "$(head -c4 "$f" | tail -c3)" = ELF ]; then
            "${host_type:+$host_type-}strip" --strip-unneeded "$f"
        fi
    done

# libpython3.so (the stable-ABI stub) has no rpath: point the loader at the staged libs.
mkdir -p share/pkgdeps
LD_LIBRARY_PATH="$destdir/usr/local/lib" find-libdeps --strict --arch "$host_arch" "$destdir/usr/local" \
    >"share/pkgdeps/python$minor.txt"
echo "runtime packages for python$minor: $(tr '\n' ' ' <"share/pkgdeps/python$minor.txt")"
