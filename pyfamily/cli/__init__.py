"""What each invoke task does, as plain functions; tasks.py only turns flags into these calls.

Modules: exits (a user's mistake as one paragraph, never a traceback), family (the family and the selection a task
works on), listing (`list`, `docs`), planning (`plan`, `render`, `matrix`, `bake`), versions (`update-versions`),
pipeline (`build`, `verify`, `publish`), rebuild (`rebuild-check`).
"""

from pyfamily.cli.exits import SIGPIPE_EXIT, reports_user_errors
from pyfamily.cli.family import load, selection
from pyfamily.cli.listing import (
    README,
    README_END,
    README_START,
    built_from,
    images_markdown,
    list_targets,
    purpose,
    readme_with_table,
    shown_tags,
    write_docs,
)
from pyfamily.cli.pipeline import build, publish, settings, trust, verify
from pyfamily.cli.planning import bake_file, github_matrix, render_contexts, show_plan
from pyfamily.cli.rebuild import rebuild_check
from pyfamily.cli.staging import pull
from pyfamily.cli.versions import VERSIONS_HEADERS, update_versions

__all__ = [
    "README",
    "README_END",
    "README_START",
    "SIGPIPE_EXIT",
    "VERSIONS_HEADERS",
    "bake_file",
    "build",
    "built_from",
    "github_matrix",
    "images_markdown",
    "list_targets",
    "load",
    "publish",
    "pull",
    "purpose",
    "readme_with_table",
    "rebuild_check",
    "render_contexts",
    "reports_user_errors",
    "selection",
    "settings",
    "show_plan",
    "shown_tags",
    "trust",
    "update_versions",
    "verify",
    "write_docs",
]
