"""The house's one way to write a file: atomically (a crash or a full disk never leaves a half-written file, and
the previous version stays intact), strict JSON (NaN and infinities become null), and one table writer (CSV or
Markdown by the file's suffix).

It lives in breakout_py, the bottom layer, because every package (gbc, agents) and every script writes files.
"""

from __future__ import annotations

import contextlib
import csv
import errno
import io
import json
import math
import os
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from breakout_py.errors import UserError


class WriteError(UserError, OSError):
    """A file could not be written (full disk, no permission); the previous file at that path is untouched."""

    def __str__(self) -> str:  # OSError would prefix "[Errno N]" to a message that already says what happened
        return str(self.strerror)


def _advice(err: OSError) -> str:
    if err.errno == errno.ENOSPC:
        return "the disk is full: free some space and run the command again"
    if err.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "no permission to write there: choose another output folder"
    return "check the path and the disk, then run the command again"


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside `path` for a writer that wants a file name (torch.save, np.savez, savefig);
    on success it replaces `path` in one step, on any failure it is removed and `path` is left as it was.
    An OSError (ENOSPC, EACCES, ...) becomes a WriteError that names the file and the fix."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Keep the suffix last: some writers pick their format from it (savefig, imageio, np.savez adds .npz otherwise).
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")
    try:
        yield tmp
        with open(tmp, "rb") as written:  # flush the data to disk before the rename makes it visible
            os.fsync(written.fileno())
        os.replace(tmp, path)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        if isinstance(err, WriteError):
            raise
        kept = "the previous file there is untouched" if path.exists() else "nothing was written"
        raise WriteError(err.errno, f"cannot write {path}: {err.strerror or err}; {kept}; {_advice(err)}") from err
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write(path: str | Path, data: bytes | str) -> Path:
    """Write `data` (text as UTF-8) to `path` atomically; see atomic_path."""
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def atomic_write_with(path: str | Path, write: Callable[[Path], Any]) -> Path:
    """Call `write(tmp_path)` and move the result to `path` atomically; see atomic_path."""
    path = Path(path)
    with atomic_path(path) as tmp:
        write(tmp)
    return path


def _finite(value: Any) -> Any:
    """`value` with every non-finite float replaced by None (JSON has no NaN), numpy scalars and arrays made plain."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(key): _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    if hasattr(value, "tolist") and callable(value.tolist):  # numpy scalars and arrays
        return _finite(value.tolist())
    if isinstance(value, Path):
        return str(value)
    return value


def json_text(data: Any, indent: int | None = None) -> str:
    """Strict JSON: NaN and infinities become null, numpy values plain numbers, paths strings."""
    return json.dumps(_finite(data), indent=indent, allow_nan=False, default=str)


def json_line(data: Any) -> str:
    """One line of strict JSON, for the JSON-lines the scripts print."""
    return json_text(data)


def write_json(path: str | Path, data: Any, indent: int = 2) -> Path:
    """Write strict JSON to `path` atomically."""
    return atomic_write(path, json_text(data, indent=indent) + "\n")


def _cell(value: Any) -> str:
    if isinstance(value, float):
        if not math.isfinite(value):
            return ""
        return f"{value:.4g}" if abs(value) < 1e6 else f"{value:.0f}"
    return "" if value is None else str(value)


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A GitHub Markdown table; floats to 4 significant digits, missing values blank."""
    lines = ["| " + " | ".join(map(str, header)) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(value).replace("|", "\\|") for value in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def csv_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """CSV text; floats at full precision, missing values and NaN blank."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if value is None or (isinstance(value, float) and not math.isfinite(value)) else value
                         for value in row])
    return out.getvalue()


def write_table(path: str | Path, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> Path:
    """Write a table atomically: CSV for a `.csv` path, Markdown for `.md`."""
    path = Path(path)
    if path.suffix == ".csv":
        return atomic_write(path, csv_table(header, rows))
    if path.suffix == ".md":
        return atomic_write(path, markdown_table(header, rows))
    raise ValueError(f"write_table writes .csv or .md files, not {path.name}")
