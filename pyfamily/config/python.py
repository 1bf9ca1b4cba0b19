"""The `python` section: the matrix of CPython releases, each pinned by its sha256."""

from __future__ import annotations

from typing import Self

from pydantic import Field, field_validator, model_validator

from pyfamily.config.paths import KeyPath
from pyfamily.config.strict import Model
from pyfamily.config.values import (
    DebianPackage,
    FullVersion,
    Minor,
    ModuleName,
    Sha256,
    Tarball,
    refusal,
    refuse_all,
)


class JitSpec(Model):
    # The LLVM major version the minor's Tools/jit/_llvm.py names (19 for 3.14): clang-N and llvm-N compile the
    # JIT's stencils in the compile stage only; the interpreter links no LLVM library.
    llvm: int = Field(ge=15, le=99)
    # clang-N and llvm-N from the base suite's backports (trixie-backports: Debian's archive, the same key) when the
    # suite itself has no LLVM N (trixie has 19 and 22; 3.15 names 21); in the compile stage only.
    backports: bool = False


class PythonVersion(Model):
    version: FullVersion
    sha256: Sha256
    tarball: Tarball | None = None
    # CPython's JIT, built in but off, in each profile that says `jit: true` (build.profiles).
    jit: JitSpec | None = None

    @property
    def minor(self) -> str:
        return ".".join(self.version.split(".")[:2])

    @property
    def filename(self) -> str:
        return self.tarball or f"Python-{self.version}.tar.xz"


# The first minor whose free-threaded build (configure --disable-gil, PEP 703) exists: experimental in 3.13,
# supported from 3.14 (PEP 779).
FIRST_FREETHREADED = (3, 13)
# The first minor whose JIT `jit:` builds: 3.13's configure has the option too (PEP 744), but its interpreter has
# no sys._jit, by which verify checks the JIT is built in, off and turned on by PYTHON_JIT=1, and measured slower
# with it on (README); examples/jit.yaml builds it with the configure option itself.
FIRST_JIT = (3, 14)


def is_freethreaded(python: str) -> bool:
    """Whether a Python of the family ("3.14t") is a free-threaded build: its interpreter is python3.14t."""
    return python.endswith("t")


def minor_of(python: str) -> str:
    """The minor ("3.14") a Python of the family ("3.14" or "3.14t") is compiled from."""
    return python.removesuffix("t")


def version_key(minor: str) -> tuple[int, ...]:
    """ "3.13" as (3, 13): minors compare as numbers (3.9 before 3.13)."""
    return tuple(int(part) for part in minor.split("."))


class PythonSpec(Model):
    default: Minor
    versions: dict[Minor, PythonVersion]
    # Minors also compiled free-threaded (--disable-gil): each gives the Python "X.Yt" (python3.14t), its own
    # runtime, variants and builder; `all` holds it beside the others. Its release is the minor's.
    freethreaded: list[Minor] = []
    build_packages: list[DebianPackage] = []
    runtime_packages: list[DebianPackage] = []
    check_imports: list[ModuleName] = []

    @field_validator("versions")
    @classmethod
    def _not_empty(cls, versions: dict[str, PythonVersion]) -> dict[str, PythonVersion]:
        if not versions:
            raise refusal('the matrix is empty; list at least one Python, e.g. "3.13": {version: ..., sha256: ...}')
        return versions

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        faults: list[tuple[KeyPath, str, object]] = [
            (
                ("versions", minor, "version"),
                f"{spec.version} is not a {minor} release; the version must start with {minor}",
                spec.version,
            )
            for minor, spec in self.versions.items()
            if spec.minor != minor
        ]
        faults += [
            (
                ("versions", minor, "jit"),
                f"jit builds the JIT of 3.14 and newer (whose interpreters have sys._jit, which verify checks), "
                f"not of Python {minor}; remove jit from this entry (for 3.13, a profile's configure can name "
                "--enable-experimental-jit=yes-off itself)",
                spec.jit.model_dump(),
            )
            for minor, spec in self.versions.items()
            if spec.jit is not None and version_key(minor) < FIRST_JIT
        ]
        faults += self._freethreaded_faults()
        if self.default not in self.versions:
            choices = ", ".join(self.versions)
            faults.append(
                (("default",), f"{self.default!r} is not in the matrix; choose one of {choices}", self.default)
            )
        refuse_all("PythonSpec", faults)
        return self

    def _freethreaded_faults(self) -> list[tuple[KeyPath, str, object]]:
        faults: list[tuple[KeyPath, str, object]] = []
        for position, minor in enumerate(self.freethreaded):
            if minor not in self.versions:
                message = f"{minor!r} is not in the matrix; choose among {', '.join(self.versions)}"
            elif version_key(minor) < FIRST_FREETHREADED:
                message = (
                    f"Python {minor} has no free-threaded build (configure --disable-gil exists from 3.13, "
                    "supported from 3.14); list 3.13 or newer"
                )
            elif minor in self.freethreaded[:position]:
                message = f"{minor!r} is listed twice"
            else:
                continue
            faults.append((("freethreaded", position), message, minor))
        return faults
