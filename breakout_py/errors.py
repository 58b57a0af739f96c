"""The house's one error convention: the library raises `UserError` for a mistake of the person running it, and
every script ends on one with a single `error: ...` line and exit code 2; anything else is a bug and keeps its
traceback.

It lives in breakout_py, the bottom layer, because every package (gbc, agents) and every script sits on it.
A script's `if __name__ == "__main__":` line calls `run_script(lambda: main(tyro.cli(Args)))`.
"""

from __future__ import annotations

import sys
from typing import Any, Callable

USER_ERROR_EXIT_CODE = 2  # the exit code argparse and tyro use for a bad command line


class UserError(Exception):
    """A mistake in what the person asked for (argument, file, profile, checkpoint); the message names the problem
    and the fix. Subclasses may also derive from a builtin type (KeyError, FileNotFoundError) for callers that
    catch those."""


def run_script(main: Callable[[], Any]) -> Any:
    """Call `main()`; on a UserError print `error: <message>` to stderr and exit with code 2."""
    try:
        return main()
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        raise SystemExit(USER_ERROR_EXIT_CODE) from None
