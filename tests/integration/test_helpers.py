"""The helpers every image carries (apt-install, wait-for-port, find-libdeps, unpack-debs), run in
real containers of a Debian trixie image that has them on PATH."""

from __future__ import annotations

import io
import re
import tarfile
import time
from collections.abc import Iterator
from typing import NamedTuple

import pytest

pytestmark = pytest.mark.integration

HOST_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
APT_LEFTOVERS = "/var/lib/apt/lists /var/cache/apt /var/log/apt"
WAIT_TIMEOUT_EXIT = 3
LXML_VERSION = "6.0.2"
EXEC_ATTEMPTS = 3


class Result(NamedTuple):
    rc: int
    out: str
    err: str


def sh(container, script: str, *, timeout: int = 120, env: dict[str, str] | None = None) -> Result:
    """Run a bash script in the container, bounded by `timeout` seconds.

    Under load the engine's runtime now and then fails to start an exec'd process at all (runc's "read init-p:
    connection reset by peer", exit 126). Such an attempt never ran the script (the exec has no pid), so it is
    made again, EXEC_ATTEMPTS in all; a script that ran, whatever its exit, is never run twice."""
    api, argv = container.client.api, ["timeout", "-k", "5", str(timeout), "bash", "-c", script]
    for attempt in range(EXEC_ATTEMPTS):
        time.sleep(attempt)
        exec_id = api.exec_create(container.id, argv, environment=env)["Id"]
        out, err = api.exec_start(exec_id, demux=True)
        state = api.exec_inspect(exec_id)
        if state["Pid"]:
            break
    return Result(state["ExitCode"], (out or b"").decode(errors="replace"), (err or b"").decode(errors="replace"))


def check(container, script: str, **kwargs) -> Result:
    result = sh(container, script, **kwargs)
    assert result.rc == 0, f"{script!r} failed with {result.rc}:\n{result.out}\n{result.err}"
    return result


def start(client, image: str, **kwargs):
    return client.containers.run(image, ["sleep", "infinity"], detach=True, init=True, **kwargs)


def leftovers(container) -> str:
    """Files apt-install must not leave in the layer."""
    return check(
        container,
        f"find {APT_LEFTOVERS} -mindepth 1; ls /var/log/dpkg.log /var/log/alternatives.log 2>/dev/null || true",
    ).out


@pytest.fixture(scope="module")
def box(docker_client, helper_image) -> Iterator:
    """A running container with ::1 on lo and a few tools the tests use."""
    container = start(docker_client, helper_image, sysctls={"net.ipv6.conf.lo.disable_ipv6": "0"})
    try:
        check(container, "apt-install socat patchelf xz-utils zlib1g-dev", timeout=600)
        yield container
    finally:
        container.remove(force=True)


class _Flaky:
    """The part of docker's API `sh` uses, whose runtime fails to start the first exec (no pid), as the
    engine's runc did once in CI."""

    def __init__(self):
        self.api, self.id, self.started = self, "box", []

    def exec_create(self, container_id, argv, environment=None):
        return {"Id": f"exec-{len(self.started)}"}

    def exec_start(self, exec_id, demux):
        self.started.append(exec_id)
        if len(self.started) == 1:
            return b"OCI runtime exec failed\r\n", None
        return b"ran\n", None

    def exec_inspect(self, exec_id):
        return {"Pid": 0, "ExitCode": 126} if exec_id == "exec-0" else {"Pid": 42, "ExitCode": 0}


def test_an_exec_the_runtime_never_started_is_made_again():
    flaky = _Flaky()
    flaky.client = flaky
    assert sh(flaky, "true") == Result(0, "ran\n", "")
    assert flaky.started == ["exec-0", "exec-1"]


def test_a_script_that_ran_is_never_run_twice_whatever_its_exit(box):
    check(box, "rm -f /tmp/runs")
    assert sh(box, "echo run >> /tmp/runs; exit 126").rc == 126
    assert check(box, "cat /tmp/runs").out == "run\n"


# --- apt-install ---------------------------------------------------------------------------


@pytest.mark.parametrize("helper", ["apt-install", "wait-for-port", "find-libdeps", "unpack-debs"])
def test_help_states_usage_and_exit_codes(box, helper):
    result = check(box, f"{helper} --help")
    assert "Usage:" in result.out
    assert "Exit codes:" in result.out


def test_apt_install_leaves_no_lists_caches_or_logs(box):
    check(box, "apt-install file", timeout=300)
    assert "ELF" in check(box, "file -b /usr/bin/bash").out
    assert leftovers(box) == ""


def test_apt_install_missing_package_fails_and_still_cleans_up(box):
    result = sh(box, "apt-install tree no-such-package-xyz", timeout=300)
    assert result.rc != 0
    assert "no-such-package-xyz" in result.out + result.err
    assert leftovers(box) == ""
    assert sh(box, "command -v tree").rc != 0


def test_apt_install_refuses_options_on_stdin_and_honours_double_dash(box):
    # A package list is data: a word in it must never reach apt-get as an option.
    result = sh(box, "printf '%s\\n' bc -oAPT::Get::AllowUnauthenticated=1 | apt-install -", timeout=300)
    assert result.rc == 2, result
    assert "-oAPT::Get::AllowUnauthenticated=1" in result.err
    assert sh(box, "command -v bc").rc != 0, "nothing may be installed"
    # "--" ends the options, and apt-get gets the names after its own "--".
    check(box, "apt-install -- bc", timeout=300)
    assert check(box, "echo 6*7 | bc").out.strip() == "42"
    assert leftovers(box) == ""


def test_apt_install_reads_names_from_stdin(box):
    script = "printf '# comment-not-a-package\\n\\n  tree   hello # inline comment\\n' | apt-install -"
    check(box, script, timeout=300)
    assert "Hello, world!" in check(box, "hello").out
    check(box, "tree -d /etc/apt")
    assert leftovers(box) == ""


@pytest.mark.parametrize("suffixed", ["xz-utils:$(dpkg --print-architecture)-", "xz-utils=5.0-", "xz-utils:all-"])
def test_apt_install_refuses_apt_action_suffixes_and_removes_nothing(box, suffixed):
    # apt-get reads "xz-utils:amd64-" as "remove xz-utils": apt-install must refuse the word before apt-get runs.
    before = check(box, "dpkg-query -W -f '${Status}' xz-utils").out
    assert before == "install ok installed"
    result = sh(box, f'apt-install "{suffixed}"', timeout=300)
    assert result.rc == 2, result
    assert "as an action" in result.err
    assert check(box, "dpkg-query -W -f '${Status}' xz-utils").out == before
    assert leftovers(box) == ""


@pytest.mark.parametrize("script", ["apt-install", "apt-install - </dev/null", "printf '# only\\n\\n' | apt-install -"])
def test_apt_install_empty_list_is_a_no_op(box, script):
    result = check(box, script)
    assert result.err.strip()


# --- wait-for-port -------------------------------------------------------------------------


def listen(port: int, *, delay: float = 0, v6: bool = False) -> str:
    """Shell snippet starting a background TCP listener on loopback after `delay` seconds."""
    address = f"TCP6-LISTEN:{port},bind=[::1]" if v6 else f"TCP-LISTEN:{port},bind=127.0.0.1"
    return f"(sleep {delay}; exec socat {address},reuseaddr,fork SYSTEM:true) >/dev/null 2>&1 &"


def rc_seconds(out: str) -> tuple[int, float]:
    match = re.search(r"rc=(\d+) t0=([\d.]+) t1=([\d.]+)", out)
    assert match, out
    return int(match[1]), float(match[3]) - float(match[2])


def run_timed(container, command: str, prelude: str = "") -> tuple[int, float, Result]:
    script = f'{prelude} t0=$EPOCHREALTIME; {command}; rc=$?; echo "rc=$rc t0=$t0 t1=$EPOCHREALTIME"'
    result = sh(container, script)
    rc, seconds = rc_seconds(result.out)
    return rc, seconds, result


def test_wait_for_port_waits_for_a_late_listener(box):
    rc, seconds, result = run_timed(
        box,
        "wait-for-port --timeout 30 --period 0.2 127.0.0.1:18001 localhost:18001",
        prelude=listen(18001, delay=1.5),
    )
    assert rc == 0, result
    assert 1.4 <= seconds < 15, result


def test_wait_for_port_times_out_naming_the_endpoints_down(box):
    rc, seconds, result = run_timed(
        box,
        "wait-for-port --timeout=1.5 --period .2 127.0.0.1:18002 127.0.0.1:18009 no-such-host.invalid:80",
        prelude=listen(18002),
    )
    assert rc == WAIT_TIMEOUT_EXIT, result
    assert 1.4 <= seconds < 10, result
    assert "127.0.0.1:18009" in result.err
    assert "no-such-host.invalid:80" in result.err
    assert "127.0.0.1:18002" not in result.err


def test_wait_for_port_ipv6_loopback(box):
    check(box, "grep -q '^0*1 .* lo$' /proc/net/if_inet6")  # precondition: ::1 on lo
    rc, _, result = run_timed(box, "wait-for-port --timeout 20 [::1]:18003", prelude=listen(18003, v6=True))
    assert rc == 0, result
    rc, _, result = run_timed(box, "wait-for-port --timeout 0.5 [::1]:18004")
    assert rc == WAIT_TIMEOUT_EXIT, result
    assert "[::1]:18004" in result.err


def test_wait_for_port_unresolvable_name_counts_as_down(box):
    rc, seconds, result = run_timed(box, "wait-for-port --timeout 1 --period 0.3 not-yet-there.invalid:5432")
    assert rc == WAIT_TIMEOUT_EXIT, result
    assert seconds < 10, result
    assert "not-yet-there.invalid:5432" in result.err


@pytest.mark.parametrize(
    "args",
    [
        "",
        "localhost",
        "localhost:",
        "localhost:0",
        "localhost:65536",
        "localhost:http",
        "::1:80",
        "--timeout abc localhost:80",
        "--timeout=-1 localhost:80",
        "--period x localhost:80",
        "--period 0 localhost:80",
        "--timeout",
        "--bogus localhost:80",
        "-- true",
    ],
)
def test_wait_for_port_rejects_bad_arguments(box, args):
    result = sh(box, f"wait-for-port {args}", timeout=10)
    assert result.rc == 2, result
    assert result.err.strip()


def test_wait_for_port_execs_the_command(box):
    prelude = listen(18005)
    # exec'd: the command's parent is the shell that started wait-for-port, not wait-for-port.
    result = check(
        box,
        f"{prelude} wait-for-port --timeout 20 127.0.0.1:18005 -- bash -c 'echo ppid=$PPID'; echo shell=$$",
    )
    ppid = re.search(r"ppid=(\d+)", result.out)
    shell = re.search(r"shell=(\d+)", result.out)
    assert ppid and shell and ppid[1] == shell[1], result
    # Its exit code and arguments pass through untouched.
    result = sh(box, "wait-for-port --timeout 20 127.0.0.1:18005 -- printf '%s|' 'a b' c")
    assert (result.rc, result.out) == (0, "a b|c|"), result
    assert sh(box, "wait-for-port --timeout 20 127.0.0.1:18005 -- sh -c 'exit 7'").rc == 7


# --- find-libdeps --------------------------------------------------------------------------


def packages(out: str) -> list[str]:
    lines = out.splitlines()
    assert lines == sorted(set(lines)), out
    return lines


def test_find_libdeps_elf_by_magic_in_dir_with_space(box):
    check(box, "mkdir -p '/tmp/a b/x' && cp /usr/bin/xz '/tmp/a b/x/' && echo text > '/tmp/a b/x/fake.so'")
    result = check(box, "find-libdeps '/tmp/a b'")
    assert "liblzma5" in packages(result.out)
    assert result.err == ""


def test_find_libdeps_skips_bundled_libraries(box):
    # auditwheel style: a renamed copy of liblzma next to the program, found via RUNPATH.
    check(
        box,
        "mkdir -p /tmp/wheel/bin /tmp/wheel/pkg.libs && cp /usr/bin/xz /tmp/wheel/bin/prog"
        " && cp -L /lib/x86_64-linux-gnu/liblzma.so.5 /tmp/wheel/pkg.libs/liblzma-1a2b3c.so.5"
        " && patchelf --replace-needed liblzma.so.5 liblzma-1a2b3c.so.5"
        " --set-rpath '$ORIGIN/../pkg.libs' /tmp/wheel/bin/prog",
    )
    assert "/pkg.libs/liblzma-1a2b3c.so.5 (" in check(box, "ldd /tmp/wheel/bin/prog").out
    result = check(box, "find-libdeps --strict /tmp/wheel")
    assert "libc6" in packages(result.out)
    assert "liblzma5" not in result.out


def test_find_libdeps_skips_prefixes_from_env(box):
    check(
        box,
        "mkdir -p /opt/mylibs /tmp/plain && cp -L /lib/x86_64-linux-gnu/liblzma.so.5 /opt/mylibs/ "
        "&& cp /usr/bin/xz /tmp/plain/",
    )
    env = {"LD_LIBRARY_PATH": "/opt/mylibs", "FIND_LIBDEPS_SKIP": "/usr/local:/opt/mylibs"}
    result = check(box, "find-libdeps --strict /tmp/plain", env=env)
    assert "liblzma5" not in packages(result.out)
    env["FIND_LIBDEPS_SKIP"] = "/usr/local"
    result = sh(box, "find-libdeps --strict /tmp/plain", env=env)
    assert result.rc == 1, result
    assert "/opt/mylibs/liblzma.so.5" in result.err


def test_find_libdeps_prefers_runtime_package_over_dev_symlink_owner(box):
    # NEEDED libz.so (unversioned) resolves to the symlink that zlib1g-dev ships.
    check(box, "mkdir -p /tmp/devlink && cp /usr/bin/xz /tmp/devlink/ && patchelf --add-needed libz.so /tmp/devlink/xz")
    assert "zlib1g-dev" in check(box, "dpkg -S /usr/lib/x86_64-linux-gnu/libz.so").out
    lines = packages(check(box, "find-libdeps /tmp/devlink").out)
    assert "zlib1g" in lines
    assert not [p for p in lines if p.endswith("-dev")], lines


def test_find_libdeps_reports_missing_libraries(box):
    check(box, "mkdir -p /tmp/miss && cp /usr/bin/xz /tmp/miss/ && patchelf --add-needed libnotthere.so.1 /tmp/miss/xz")
    result = check(box, "find-libdeps /tmp/miss")
    assert "libnotthere.so.1" in result.err
    assert "liblzma5" in packages(result.out)
    result = sh(box, "find-libdeps --strict /tmp/miss")
    assert result.rc == 1, result
    assert "libnotthere.so.1" in result.err


# A path that ldd's output, read by line, shows as a line of its own naming a library: /usr/bin/xz, which xz-utils
# owns (and xz needs no xz-utils). Its "/" make it a few nested directories.
FORGED = r"$'/tmp/nl/ab\n\tforged.so => /usr/bin/xz (0x0000000000000000)\nc'"
FORGED_PARENT_EXISTS = "f=" + FORGED + ' && mkdir -p "${f%/*}"'


@pytest.mark.parametrize(
    "make",
    [
        FORGED_PARENT_EXISTS + ' && cp /usr/bin/xz "$f"',  # ldd prints the file's path before its libraries
        "cp /usr/bin/xz /tmp/nl/prog && ln -s /usr/lib $'/tmp/nl/lib\\tdir'",  # a symlink ldd may print a path through
    ],
    ids=["elf-file-with-newline", "symlink-with-tab"],
)
def test_find_libdeps_refuses_a_path_with_a_control_character(box, make):
    check(box, f"rm -rf /tmp/nl && mkdir /tmp/nl && {make}")
    result = sh(box, "find-libdeps /tmp/nl/")
    assert result.rc == 2, result
    assert result.out == "", "no package may be printed, the forged one least of all"
    assert "contains a control character" in result.err
    assert "/tmp/nl/" in result.err and "\n" not in result.err.rstrip("\n") and "\t" not in result.err, result.err


def test_find_libdeps_refuses_a_library_path_with_a_line_break(box):
    # liblzma found through LD_LIBRARY_PATH: ldd prints its path, and so the forged line.
    check(
        box,
        f"rm -rf /tmp/nl && mkdir -p /tmp/nl/bin && cp /usr/bin/xz /tmp/nl/bin/ && {FORGED_PARENT_EXISTS}"
        ' && mkdir "$f" && cp -L "$(ldd /usr/bin/xz | grep -o "/[^ ]*/liblzma.so.5")" "$f/"',
    )
    result = sh(box, f"LD_LIBRARY_PATH={FORGED} find-libdeps /tmp/nl/bin")
    assert (result.rc, result.out) == (2, ""), result
    assert "LD_LIBRARY_PATH" in result.err


@pytest.mark.parametrize(
    ("made_by", "image_has", "abis"),
    [("python3.14t", "python3.14", ("cpython-314t", "cpython-314")), ("python3.14", "python3.14t", ("cpython-314",))],
    ids=["free-threaded-venv-on-default", "default-venv-on-free-threaded"],
)
def test_find_libdeps_refuses_a_venv_of_another_interpreter_naming_both_abis(box, made_by, image_has, abis):
    # A venv records the interpreter that made it; copied into an image without that interpreter it would only
    # fail at its first start. find-libdeps (the contract's build-time step) says so, with both ABIs.
    check(
        box,
        "rm -rf /tmp/abi && mkdir -p /tmp/abi/app/bin && cp /usr/bin/xz /tmp/abi/app/bin/"
        f" && printf 'home = /usr/local/bin\\nexecutable = /usr/local/bin/{made_by}\\n' >/tmp/abi/app/pyvenv.cfg"
        f" && rm -f /usr/local/bin/python3.* && install -m755 /dev/null /usr/local/bin/{image_has}",
    )
    refused = sh(box, "find-libdeps /tmp/abi/app")
    assert (refused.rc, refused.out) == (2, ""), refused
    assert made_by in refused.err and image_has in refused.err and all(abi in refused.err for abi in abis), refused
    check(box, f"install -m755 /dev/null /usr/local/bin/{made_by}")  # the interpreter it was made by: accepted
    accepted = sh(box, "find-libdeps /tmp/abi/app")
    check(box, "rm -f /usr/local/bin/python3.*")
    assert accepted.rc == 0 and "liblzma5" in accepted.out.split(), accepted


@pytest.mark.parametrize("args", ["", "/no/such/dir", "--bogus /tmp"])
def test_find_libdeps_rejects_bad_arguments(box, args):
    assert sh(box, f"find-libdeps {args}").rc == 2


def _copy_dir(source, target, path: str) -> None:
    """Copy directory `path` from one container to the same place in another."""
    stream, _ = source.get_archive(path)
    data = b"".join(stream)
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        assert tar.getmembers(), f"{path} is empty"
    parent = path.rsplit("/", 1)[0] or "/"
    assert target.put_archive(parent, data)


def test_find_libdeps_makes_a_source_built_lxml_venv_loadable(docker_client, helper_image):
    """Build lxml against the system libxml2/libxslt in a builder, move the venv to a thin
    container with only python3, and install exactly what find-libdeps prints."""
    builder = start(
        docker_client,
        helper_image,
        volumes={HOST_CA_BUNDLE: {"bind": HOST_CA_BUNDLE, "mode": "ro"}},
        environment={"PIP_CERT": HOST_CA_BUNDLE, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    )
    runtime = start(docker_client, helper_image)
    try:
        check(builder, "apt-install python3 python3-venv python3-dev gcc pkgconf libxml2-dev libxslt1-dev", timeout=900)
        check(
            builder,
            "python3 -m venv /opt/venv && CFLAGS='-O0 -g0' /opt/venv/bin/pip install -q"
            f" --no-binary lxml lxml=={LXML_VERSION}",
            timeout=900,
        )
        result = check(builder, "find-libdeps --strict /opt/venv")
        lines = packages(result.out)
        assert "libxslt1.1" in lines, lines
        assert [p for p in lines if re.fullmatch(r"libxml2(-\d+)?", p)], lines
        assert not [p for p in lines if p.endswith("-dev")], lines

        check(runtime, "apt-install python3", timeout=600)
        _copy_dir(builder, runtime, "/opt/venv")
        before = sh(runtime, "/opt/venv/bin/python -c 'import lxml.etree'")
        assert before.rc != 0, before
        assert re.search(r"lib(xml2|xslt|exslt)\.so", before.err), before
        check(runtime, f"printf '%s\\n' {' '.join(lines)} | apt-install -", timeout=600)
        after = check(
            runtime,
            "/opt/venv/bin/python -c 'import lxml.etree as e; print(e.tostring(e.fromstring(\"<a><b/></a>\")))'",
        )
        assert "<a><b/></a>" in after.out
    finally:
        builder.remove(force=True)
        runtime.remove(force=True)


# --- unpack-debs ---------------------------------------------------------------------------

TREE = "/tmp/tree"
RECORDS = f"{TREE}/var/lib/dpkg/status.d"


def installed(container) -> str:
    return check(container, "dpkg-query -W -f '${Package} ${Version} ${Status}\\n'").out


def test_unpack_debs_unpacks_files_and_records_without_installing_anything(box):
    before = installed(box)
    check(box, f"rm -rf {TREE}")
    result = check(box, f"unpack-debs {TREE} base-files netbase tzdata netbase", timeout=300)
    assert check(box, f"readlink {TREE}/bin").out.strip() == "usr/bin"  # base-files' merged-/usr links, first
    check(box, f"grep -q '^https.*443/tcp' {TREE}/etc/services && test -e {TREE}/usr/share/zoneinfo/Europe/Paris")
    listed = check(box, f"ls {RECORDS}").out.split()
    assert listed == [f"{p}{s}" for p in ("base-files", "netbase", "tzdata") for s in ("", ".md5sums")]
    record = check(box, f"cat {RECORDS}/netbase").out.splitlines()
    assert record[:2] == ["Package: netbase", "Status: install ok installed"]
    version = next(line.split(": ", 1)[1] for line in record if line.startswith("Version: "))
    assert f"unpack-debs: netbase {version}" in result.out
    check(box, f"cd {TREE} && md5sum --quiet --strict -c {RECORDS}/tzdata.md5sums {RECORDS}/base-files.md5sums")
    assert installed(box) == before  # the tree is not this system: nothing installed, removed or changed here
    assert leftovers(box) == ""


def test_unpack_debs_leaves_out_what_dpkg_would_and_what_it_is_told(box):
    check(box, f"rm -rf {TREE}")
    check(box, f"unpack-debs --path-exclude='/usr/share/zoneinfo/Asia/*' --path-include=/usr/share/zoneinfo/Asia/Tokyo"
               f" {TREE} tzdata", timeout=300)  # fmt: skip
    # base's dpkg.cfg.d: no docs but the copyright file
    assert check(box, f"ls {TREE}/usr/share/doc/tzdata").out.split() == ["copyright"]
    check(box, f"test -e {TREE}/usr/share/zoneinfo/Asia/Tokyo && ! test -e {TREE}/usr/share/zoneinfo/Asia/Seoul")
    sums = check(box, f"cat {RECORDS}/tzdata.md5sums").out
    assert "usr/share/zoneinfo/Asia/Tokyo" in sums and "Asia/Seoul" not in sums and "changelog" not in sums
    check(box, f"cd {TREE} && md5sum --quiet --strict -c {RECORDS}/tzdata.md5sums")


def test_unpack_debs_unknown_package_fails_unpacks_nothing_and_cleans_up(box):
    check(box, f"rm -rf {TREE}")
    result = sh(box, f"unpack-debs {TREE} netbase no-such-package-xyz", timeout=300)
    assert result.rc == 1, result
    assert "no-such-package-xyz" in result.out + result.err
    assert sh(box, f"test -e {TREE}/etc/services").rc != 0
    assert leftovers(box) == ""


@pytest.mark.parametrize(
    "args",
    ["", "/", "/tmp/..", "--bogus /tmp/x netbase", "/tmp/x Netbase", "/tmp/x netbase-", "/tmp/x netbase=6.5",
     "/tmp/x netbase:amd64", "/tmp/x -- -oAPT::Get::AllowUnauthenticated=1"],
)  # fmt: skip
def test_unpack_debs_refuses_bad_arguments_before_anything_runs(box, args):
    result = sh(box, f"rm -rf /tmp/x; unpack-debs {args}")
    assert result.rc == 2, result
    assert sh(box, "test -e /tmp/x/var").rc != 0


def test_unpack_debs_reads_names_from_stdin_never_options(box):
    check(box, f"rm -rf {TREE}")
    refused = sh(box, f"printf '%s\\n' netbase -oAPT::Get::AllowUnauthenticated=1 | unpack-debs {TREE} -")
    assert refused.rc == 2 and "-oAPT::Get::AllowUnauthenticated=1" in refused.err, refused
    check(box, f"printf '# comment\\n\\n  netbase  # inline\\n' | unpack-debs {TREE} -", timeout=300)
    assert check(box, f"ls {RECORDS}").out.split() == ["netbase", "netbase.md5sums"]
