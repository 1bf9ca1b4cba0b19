"""How a task ends when it cannot finish: a user's mistake as one paragraph, an interrupt, a reader gone away."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

from pyfamily.errors import UserError

F = TypeVar("F", bound=Callable[..., Any])
SIGPIPE_EXIT = 141  # what a shell reports for a program killed by SIGPIPE, as in `invoke plan | head`


def reports_user_errors(function: F) -> F:
    """Print a user's mistake as one paragraph on stderr and exit non-zero, without a traceback."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except UserError as exc:
            print(f"error: {exc}", file=sys.stderr)
            raise SystemExit(exc.exit_code) from None
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            raise SystemExit(130) from None
        except BrokenPipeError:  # the reader went away: say nothing more, and let no flush fail at exit
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise SystemExit(SIGPIPE_EXIT) from None

    return wrapper  # type: ignore[return-value]
