"""The `base` section: what every image is built on, a Debian bootstrap (mmdebstrap) or an image."""

from __future__ import annotations

from typing import Self

from pydantic import Field, model_validator

from pyfamily.config.strict import Model
from pyfamily.config.values import (
    DebianPackage,
    DebianSuite,
    HttpUrl,
    ImageRef,
    refusal,
    refuse_all,
)


class DebianBootstrap(Model):
    suite: DebianSuite = "trixie"
    mirror: HttpUrl | None = None
    packages: list[DebianPackage] = []


class BaseSpec(Model):
    debian: DebianBootstrap | None = None
    from_image: ImageRef | None = Field(default=None, alias="from")
    # The Debian suite of the `from:` image, for the {suite} tag placeholder only (a bootstrapped base's suite is
    # debian.suite). Needed when a tag template uses {suite}.
    suite: DebianSuite | None = None

    @model_validator(mode="after")
    def _one_origin(self) -> Self:
        if self.debian is not None and self.from_image is not None:
            raise refusal("give either `debian:` (bootstrap with mmdebstrap) or `from:` (an image), not both")
        if self.suite is not None and self.from_image is None:
            refuse_all(
                "BaseSpec",
                [
                    (
                        ("suite",),
                        "`suite:` names the Debian suite of a `from:` image; a bootstrapped base's suite is "
                        "`debian.suite`, so remove `suite:` or start base `from:` an image",
                        self.suite,
                    )
                ],
            )
        return self

    @property
    def debian_suite(self) -> str | None:
        """The Debian suite of base: the bootstrapped one, or what `suite:` says a `from:` image is (else None)."""
        bootstrap = self.bootstrap
        return bootstrap.suite if bootstrap is not None else self.suite

    @property
    def bootstrap(self) -> DebianBootstrap | None:
        """The Debian bootstrap settings, or None when base starts from an image."""
        if self.from_image is not None:
            return None
        return self.debian or DebianBootstrap()
