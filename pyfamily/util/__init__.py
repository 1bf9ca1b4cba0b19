"""The basics every step shares, below all of them: where things are (`paths`), the checkout's git metadata (`git`),
and how steps report progress (`say`). It imports nothing of pyfamily but the other basics (redaction)."""

from pyfamily.util.git import git_revision, git_source
from pyfamily.util.paths import CACHE_ENV, RECIPES, ROOT, WORK_DIR, default_cache_dir, file_name
from pyfamily.util.say import Say

__all__ = [
    "CACHE_ENV",
    "RECIPES",
    "ROOT",
    "WORK_DIR",
    "Say",
    "default_cache_dir",
    "file_name",
    "git_revision",
    "git_source",
]
