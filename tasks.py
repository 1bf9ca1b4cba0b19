"""Maintainer tasks for the image family: `invoke --list`, `invoke --help TASK`."""

from invoke import task

from pyfamily import cli
from pyfamily.produce import default_jobs

CONFIG_HELP = "family file to use instead of images.yaml (also $PYFAMILY_CONFIG)"
SELECTION_HELP = {
    "config": CONFIG_HELP,
    "version": "Python minor to build, e.g. 3.11: its X.Y, variants and apps, and what they need (repeatable)",
    "target": "target by name, e.g. all, 3.13-pillow, ipython (repeatable; see `invoke list`)",
    "variant": "keep only selected targets of this variant: plain or a variant name (repeatable)",
    "apps": "include app images (default on; --no-apps leaves them out)",
    "profile": "build profile: fast (no PGO, for development) or release (PGO + LTO, what CI publishes)",
}
PLATFORM_HELP = (
    "platform among the family file's platforms:, e.g. linux/arm64 (repeatable or comma-separated; all: every "
    "one; default: this machine's)"
)


def _chosen(version, target, variant, apps):
    return cli.selection(version or (), target or (), variant or (), apps)


@task(help={"config": CONFIG_HELP, "internal": "also show the internal build stages"})
@cli.reports_user_errors
def list(c, config=None, internal=False):
    """Show every image the family defines: kind, Python, variant, what it is built from, its tags."""
    print(cli.list_targets(config, internal))


@task(help={"config": CONFIG_HELP})
@cli.reports_user_errors
def docs(c, config=None):
    """Regenerate the README's table of images from the family file."""
    print(cli.write_docs(config))


@task(
    help={
        "config": CONFIG_HELP,
        "dry_run": "find, download and check the new releases and print the table, but leave the family file as is",
        "keyring": "the Debian archive keyring InRelease is checked with (default: $PYFAMILY_DEBIAN_KEYRING, else "
        "/usr/share/keyrings/debian-archive-keyring.gpg)",
    }
)
@cli.reports_user_errors
def update_versions(c, config=None, dry_run=False, keyring=None):
    """Move each Python minor to its newest patch release: version and sha256 rewritten, comments kept."""
    cli.update_versions(config, dry_run, keyring)


@task(iterable=["version", "target", "variant"], help=SELECTION_HELP)
@cli.reports_user_errors
def plan(c, config=None, version=None, target=None, variant=None, apps=True, profile=None):
    """Show what a build would do, level by level, and why each target is included."""
    print(cli.show_plan(config, _chosen(version, target, variant, apps), profile))


@task(
    iterable=["version", "target", "variant"],
    help={**SELECTION_HELP, "out": "directory to write the build contexts to (default build/rendered)"},
)
@cli.reports_user_errors
def render(c, config=None, version=None, target=None, variant=None, apps=True, profile=None, out="build/rendered"):
    """Write each selected target's build context (Dockerfile and files) to read exactly what will be built."""
    print(cli.render_contexts(config, _chosen(version, target, variant, apps), out, profile))


@task(
    iterable=["version", "target", "variant", "platform"],
    help={
        **SELECTION_HELP,
        "print": "print the bake file (JSON) on stdout",
        "file": "write the bake file to PATH",
        "platform": PLATFORM_HELP,
        "ca_bundle": "PEM bundle the download steps mount as a secret, or none (also $PYFAMILY_CA_BUNDLE; default: "
        "the host's)",
    },
)
@cli.reports_user_errors
def bake(
    c,
    config=None,
    version=None,
    target=None,
    variant=None,
    apps=True,
    profile=None,
    platform=None,
    ca_bundle=None,
    print_=False,
    file=None,
):
    """Write the selection as a `docker buildx bake` file (--print, --file PATH); builds nothing.

    The contexts are rendered into build/contexts as `invoke build` renders them; `invoke build` of the same
    selection prepares them (CPython tarballs, base's Debian tree) for `docker buildx bake --file PATH`."""
    text = cli.bake_file(
        config,
        _chosen(version, target, variant, apps),
        profile=profile,
        platforms=platform or (),
        ca_bundle=ca_bundle,
        show=print_,
        out=file,
    )
    print(text, end="" if print_ else "\n")


@task(
    iterable=["version", "target", "variant", "platform"],
    help={
        **SELECTION_HELP,
        "format": "output format: github (a strategy.matrix per level)",
        "platform": "platforms to make jobs for, among the family file's platforms: (repeatable or comma-separated; "
        "all, the default: every one)",
    },
)
@cli.reports_user_errors
def matrix(
    c, config=None, version=None, target=None, variant=None, apps=True, profile=None, platform=None, format="github"
):
    """Print the selected targets as JSON for a GitHub Actions strategy.matrix, grouped by level: one entry per
    target per platform, with the runner that builds it natively (.github/workflows/images.yml)."""
    if format != "github":
        raise SystemExit(f"error: --format {format!r} is not supported; use github.")
    print(cli.github_matrix(config, _chosen(version, target, variant, apps), profile, platform or ()))


@task(
    iterable=["version", "target", "variant", "platform"],
    help={
        **SELECTION_HELP,
        "platform": PLATFORM_HELP,
        "jobs": "targets built at once (default: CPU count, at most 4)",
        "offline": "use only cached source tarballs and images; no downloads",
        "ca_bundle": "PEM bundle for download steps only, or none (also $PYFAMILY_CA_BUNDLE; default: the host's)",
        "docker": "docker CLI used for builds; must use BuildKit (also $PYFAMILY_DOCKER)",
        "refresh": "ask Debian and PyPI for updates; rebuild (without cache) only what has some, never CPython",
        "no_cache": "from scratch: every target built again without BuildKit's cache, base bootstrapped again",
        "stage_to": "[http://]HOST[:PORT]: push every target built (internal stages too), its platforms, by digest "
        "to <repository>-stage there, tagged with its target name (+ --<arch> for fewer platforms than listed)",
        "parents_from": "[http://]HOST[:PORT]: take every target the selection needs but did not name from there "
        "(staged by --stage-to; pulled by digest, never built)",
        "layer_cache": "[http://]HOST[:PORT]: read and write BuildKit's layer cache of each target at "
        "<repository>-cache there (a fresh machine reuses what an earlier run compiled)",
    },
)
@cli.reports_user_errors
def build(c, config=None, version=None, target=None, variant=None, apps=True, profile=None, jobs=0, offline=False,
          ca_bundle=None, docker=None, refresh=False, no_cache=False, platform=None, stage_to=None, parents_from=None,
          layer_cache=None):  # fmt: skip
    """Build the selected targets (default: the whole family) in dependency order, in parallel where possible."""
    cli.build(
        config,
        _chosen(version, target, variant, apps),
        profile=profile,
        jobs=jobs or default_jobs(),
        offline=offline,
        ca_bundle=ca_bundle,
        docker=docker,
        refresh=refresh,
        no_cache=no_cache,
        platforms=platform or (),
        stage_to=stage_to,
        parents_from=parents_from,
        layer_cache=layer_cache,
    )


@task(
    iterable=["version", "target", "variant", "platform"],
    help={**SELECTION_HELP, "platform": PLATFORM_HELP, "jobs": "targets built at once", "ca_bundle": "as for build",
          "docker": "as for build"},
)  # fmt: skip
@cli.reports_user_errors
def rebuild_check(c, config=None, version=None, target=None, variant=None, apps=True, profile=None, jobs=0,
                  ca_bundle=None, docker=None, platform=None):  # fmt: skip
    """Build the selection again from scratch (as `build --no-cache`) and report, per image and platform, whether
    it is identical to the image the engine held before, and where not: the layer and the first files that differ."""
    chosen = _chosen(version, target, variant, apps)
    cli.rebuild_check(config, chosen, profile=profile, jobs=jobs or default_jobs(), ca_bundle=ca_bundle,
                      docker=docker, platforms=platform or ())  # fmt: skip


@task(
    iterable=["version", "target", "variant", "platform"],
    help={**SELECTION_HELP, "platform": PLATFORM_HELP, "from": "[http://]HOST[:PORT] the images were staged at"},
)
@cli.reports_user_errors
def pull(c, config=None, version=None, target=None, variant=None, apps=True, profile=None, platform=None, from_=None):
    """Take the selection's images staged by `invoke build --stage-to` (every platform chosen) into this engine,
    named as the family names them: what the pipeline's last job verifies and publishes."""
    if not from_:
        raise SystemExit("error: --from HOST[:PORT] is required: where `invoke build --stage-to` staged the images.")
    cli.pull(config, _chosen(version, target, variant, apps), profile, platform or (), from_)


@task(
    iterable=["version", "target", "variant", "platform", "registry"],
    help={
        **SELECTION_HELP,
        "platform": PLATFORM_HELP,
        "signed_by": "instead of running images: check that every published tag of the selection is signed by this "
        "cosign public key file (or `keyless`, with the two certificate flags); nothing is pulled",
        "registry": "with --signed-by: where the tags are (HOST[:PORT] or http://HOST[:PORT]; repeatable; default: "
        "the family file's registries)",
        "certificate_identity": "with --signed-by keyless: the signing workflow's identity (its URL and ref)",
        "certificate_oidc_issuer": "with --signed-by keyless: its OIDC issuer, e.g. "
        "https://token.actions.githubusercontent.com",
    },
)
@cli.reports_user_errors
def verify(
    c,
    config=None,
    version=None,
    target=None,
    variant=None,
    apps=True,
    profile=None,
    platform=None,
    signed_by=None,
    registry=None,
    certificate_identity=None,
    certificate_oidc_issuer=None,
):
    """Run the built images of the selection and check what each promises (imports, venv, smoke commands), on
    each platform chosen (a foreign one emulated); with --signed-by, check the signatures of what is published."""
    trust = cli.trust(signed_by, certificate_identity, certificate_oidc_issuer) if signed_by else None
    cli.verify(config, _chosen(version, target, variant, apps), profile, platform or (), trust, registry or ())


@task(
    iterable=["version", "target", "variant", "registry", "allow_profile", "platform"],
    help={
        **SELECTION_HELP,
        "registry": "push here instead of the family file's registries: HOST[:PORT], or http://HOST[:PORT] "
        "for a plain-HTTP registry (repeatable)",
        "allow_profile": "also publish images built with this profile, e.g. fast (default: release only)",
        "platform": "platforms each tag's index holds, e.g. linux/amd64 (repeatable or comma-separated; all = "
        "every one the family file lists, the default)",
        "sign": "sign every index pushed with cosign before any tag moves: a key file (password in "
        "$COSIGN_PASSWORD) or `keyless` (the CI job's OIDC identity)",
    },
)
@cli.reports_user_errors
def publish(
    c,
    config=None,
    version=None,
    target=None,
    variant=None,
    apps=True,
    profile=None,
    registry=None,
    allow_profile=None,
    platform=None,
    sign=None,
):
    """Push the verified public images of the selection to each registry: blobs, manifests, index; tags last."""
    cli.publish(
        config,
        _chosen(version, target, variant, apps),
        profile,
        registry or (),
        allow_profile or (),
        platform or (),
        sign,
    )


@task(
    iterable=["also", "benchmark"],
    help={
        "config": CONFIG_HELP,
        "version": "Python minor to compare (default 3.13)",
        "quick": "a few minutes: 3 repeats, 5 benchmarks, release measured only if already built",
        "also": "another image to compare, IMAGE or IMAGE=COMMAND (default command python3); COMMAND may start with"
        " NAME=VALUE words for its environment, e.g. IMAGE=PYTHON_JIT=1 python3.14 (repeatable)",
        "repeats": "fresh containers per start-up timing (default 7, or 3 with --quick)",
        "benchmark": "pyperformance benchmark to run instead of the default subset (repeatable)",
        "no_cache": "build both profiles from scratch first (as build --no-cache), so both compiles are timed",
    },
)
@cli.reports_user_errors
def bench(c, config=None, version="3.13", quick=False, also=None, repeats=0, benchmark=None, no_cache=False):
    """Compare X.Y (release, fast) with Debian's pythonX.Y on the same base: size, start-up, pyperformance, builds."""
    from pyfamily import bench as benchmarks

    options = benchmarks.Options(config, version, quick, also or (), int(repeats), benchmark or (), no_cache=no_cache)
    print(benchmarks.table(benchmarks.run(options)))
