"""Publish: push the public images of a plan to every registry, all or nothing as far as tags go (publisher.py says
the steps), through the Registry API v2 client (registry.py, transport.py, auth.py); stage.py is the pipeline's
hand-over between jobs. What is pushed is read from the engine by pyfamily.oci."""

from pyfamily.config import parse_registry
from pyfamily.publish.publisher import PUBLISHABLE_PROFILES, Row, publish, table

__all__ = ["PUBLISHABLE_PROFILES", "Row", "parse_registry", "publish", "table"]
