"""How the scripts end on an expected mistake: one `error: ...` line on stderr and exit code 2, no traceback.

A script's `if __name__ == "__main__":` line calls `run_script(lambda: main(tyro.cli(Args)))`. Exceptions of the
types in `user_error_types()` are mistakes of the person running the script (a bad argument, an unknown env id or
profile, a corrupt checkpoint, no runs to compare, a missing ROM); their messages already say what is wrong and
how to fix it, so the traceback would only hide that line. Every other exception is a bug and keeps its traceback.
"""

from __future__ import annotations

import sys
from typing import Any, Callable

from agents.checkpoint import CheckpointError

USER_ERROR_EXIT_CODE = 2  # the exit code argparse and tyro use for a bad command line


class UserError(ValueError):
    """A mistake in what the person asked for; the message names the problem and the fix."""


def user_error_types() -> tuple[type[BaseException], ...]:
    """The exception types reported as `error: ...`: ours, and the game-profile errors of gbc when it is installed."""
    types: list[type[BaseException]] = [UserError, CheckpointError]
    try:
        from gbc.profiles import ProfileError, RomHashMismatchError, RomNotFoundError, UnknownProfileError
    except ModuleNotFoundError as err:  # gbc is optional for Python-only work
        if err.name != "gbc":
            raise
    else:
        types += [ProfileError, RomHashMismatchError, RomNotFoundError, UnknownProfileError]
    return tuple(types)


def run_script(main: Callable[[], Any]) -> Any:
    """Call `main()`; on a user error print `error: <message>` to stderr and exit with code 2."""
    try:
        return main()
    except user_error_types() as err:
        print(f"error: {err}", file=sys.stderr)
        raise SystemExit(USER_ERROR_EXIT_CODE) from None
