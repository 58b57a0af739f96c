"""gbc's failures: a full disk while gbc writes a file (the state spec, a memory dump, a PNG), and the error
types a person running a command sees.

On a full disk each write must fail with a WriteError that names the file, leave the file that was there byte for
byte, and leave no temporary file beside it. The disk fills up in the middle of the data write (the writer's first
call writes a few bytes, then fails with ENOSPC), so a writer that wrote straight to the final path would leave it
truncated and these tests would fail.
"""

import errno
import os
from pathlib import Path

import numpy as np
import pytest

from breakout_py.errors import UserError
from breakout_py.files import WriteError
from breakout_py.play import PlayOptionError
from gbc.dump import DumpError, empty_dumps, load_dumps, save_dumps
from gbc.emulated_render import OverrideError
from gbc.extract import RecordingError, RecordingTooShortError, ScoreError, StateSpecError
from gbc.extract.score import load_json
from gbc.extract.spec import default_spec_path, write_spec
from gbc.profiles import BREAKOUT_ROM, ProfileError, RomHashMismatchError, RomNotFoundError, UnknownProfileError
from gbc.render import write_png
from gbc.render_pictures import RenderRequestError
from gbc.vector import WorkerDiedError

COMMITTED_SPEC = default_spec_path(BREAKOUT_ROM)


def disk_full(*_args, **_kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def fill_disk_while_writing(monkeypatch):
    """Path.write_bytes/write_text write the first 10 bytes, then the disk is full."""

    def write_bytes(self, data):
        with open(self, "wb") as f:
            f.write(bytes(data)[:10])
        disk_full()

    monkeypatch.setattr(Path, "write_bytes", write_bytes)
    monkeypatch.setattr(Path, "write_text", lambda self, text, *a, **k: write_bytes(self, text.encode()))


def assert_untouched(error: pytest.ExceptionInfo, path: Path, before: bytes) -> None:
    message = str(error.value)
    assert str(path) in message and "disk is full" in message and "untouched" in message
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # no temporary file left


@pytest.mark.skipif(not COMMITTED_SPEC.is_file(), reason="no committed spec: make -C roms, scripts/01_extract_state.py")
def test_full_disk_while_the_state_spec_is_written(tmp_path, monkeypatch):
    spec = load_json(COMMITTED_SPEC)
    path = tmp_path / "breakout.state_spec.json"
    write_spec(path, {**spec, "recording": {**spec["recording"], "seed": 99}})
    before = path.read_bytes()
    fill_disk_while_writing(monkeypatch)
    with pytest.raises(WriteError) as error:
        write_spec(path, spec)
    assert_untouched(error, path, before)


def test_full_disk_while_a_memory_dump_is_written(tmp_path, monkeypatch):
    path = tmp_path / "dumps.npz"
    save_dumps(path, empty_dumps(2, "CGB"))
    before = path.read_bytes()
    savez_compressed = np.savez_compressed

    def fills_the_disk(file, **arrays):
        with open(file, "wb") as f:
            f.write(b"PK\x03\x04 half")
        disk_full()

    monkeypatch.setattr(np, "savez_compressed", fills_the_disk)
    with pytest.raises(WriteError) as error:
        save_dumps(path, empty_dumps(5, "DMG"))
    assert_untouched(error, path, before)
    monkeypatch.setattr(np, "savez_compressed", savez_compressed)
    assert len(load_dumps(path)) == 2  # still the previous file, whole


def test_full_disk_while_a_png_is_written(tmp_path, monkeypatch):
    path = tmp_path / "frame.png"
    write_png(path, np.zeros((4, 4, 3), np.uint8))
    before = path.read_bytes()
    fill_disk_while_writing(monkeypatch)
    with pytest.raises(WriteError) as error:
        write_png(path, np.full((4, 4, 3), 255, np.uint8))
    assert_untouched(error, path, before)


@pytest.mark.parametrize("error, builtin", [
    (ProfileError, ValueError), (UnknownProfileError, KeyError), (RomNotFoundError, FileNotFoundError),
    (RomHashMismatchError, ValueError), (StateSpecError, ValueError), (DumpError, ValueError),
    (RecordingError, ValueError), (RecordingTooShortError, ValueError), (ScoreError, ValueError),
    (OverrideError, ValueError), (RenderRequestError, ValueError), (PlayOptionError, ValueError),
    (WorkerDiedError, RuntimeError),
])
def test_user_facing_errors_are_user_errors_and_keep_their_builtin_type(error, builtin):
    """run_script prints them as one line (exit code 2); callers that catch the builtin type still do."""
    assert issubclass(error, UserError) and issubclass(error, builtin)
    assert str(error("profile 'x' is unknown")) == "profile 'x' is unknown"  # no quotes added by KeyError
