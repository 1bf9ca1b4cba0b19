"""The CA-bundle policy: which PEM bundle download steps see, mounted as a BuildKit secret, never in an image."""

from __future__ import annotations

import os
from pathlib import Path

from pyfamily.config import Config
from pyfamily.errors import UserError

CA_BUNDLE_ENV = "PYFAMILY_CA_BUNDLE"
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")


def resolve_ca_bundle(config: Config, explicit: str | None = None) -> Path | None:
    """--ca-bundle, else $PYFAMILY_CA_BUNDLE, else build.ca_bundle, else the host's bundle if it has one.

    The host's bundle is what lets downloads through a TLS-inspecting proxy; it is mounted into download steps
    only, never copied into an image. "none" mounts nothing."""
    chosen = explicit or os.environ.get(CA_BUNDLE_ENV) or config.build.ca_bundle
    if chosen == "none":
        return None
    if not chosen:
        return HOST_CA_BUNDLE if HOST_CA_BUNDLE.is_file() else None
    path = Path(chosen).expanduser()
    if not path.is_file():
        raise UserError(
            f"The CA bundle {path} (from --ca-bundle, ${CA_BUNDLE_ENV} or build.ca_bundle) "
            "does not exist; give the path of a PEM bundle, such as /etc/ssl/certs/ca-certificates.crt, "
            "or none."
        )
    return path
