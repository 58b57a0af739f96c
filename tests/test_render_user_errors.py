"""User errors of step 05: a damaged or foreign dump file is one line naming the file; --game picks the profile
whose screen lag the emulated render uses."""

import subprocess
import sys
from pathlib import Path

import pytest

from gbc.dump import DumpError, empty_dumps, load_recording, save_dumps
from gbc.emulated_render import EmulatedRenderer
from gbc.profiles import get_profile

REPO = Path(__file__).resolve().parent.parent


def test_truncated_and_text_dump_files_name_the_file(tmp_path):
    good = save_dumps(tmp_path / "good.npz", empty_dumps(2))
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(good.read_bytes()[: len(good.read_bytes()) // 2])
    with pytest.raises(DumpError, match=r"truncated\.npz is not a readable \.npz dump file, truncated or damaged"):
        load_recording(truncated)
    text = tmp_path / "notes.npz"
    text.write_text("frame,ball_x\n0,40\n")
    with pytest.raises(DumpError, match=r"notes\.npz is not a readable \.npz dump file: it starts with b'fram'"):
        load_recording(text)
    assert len(load_recording(good).dumps) == 2


def test_05_prints_one_error_line_for_a_truncated_dump(tmp_path):
    good = save_dumps(tmp_path / "good.npz", empty_dumps(1))
    (tmp_path / "bad.npz").write_bytes(good.read_bytes()[:100])
    result = subprocess.run([sys.executable, "scripts/05_render_gbc.py", "--dumps", str(tmp_path / "bad.npz"),
                             "--out-dir", str(tmp_path / "out")], cwd=REPO, capture_output=True, text=True,
                            env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "bad.npz" in result.stderr, result.stderr


def test_the_emulated_render_takes_the_screen_lag_from_the_profile():
    import dataclasses

    profile = dataclasses.replace(get_profile("breakout"), screen_lag_frames=3)
    renderer = EmulatedRenderer(profile)
    try:
        assert renderer.frames == 3
    finally:
        renderer.close()
    assert get_profile("breakout").screen_lag_frames == 2
