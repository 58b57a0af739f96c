"""Step 05 on any game: a damaged or foreign dump file is one line naming the file; the emulated render takes
the screen lag from the game's profile; a frame that a raster interrupt changed names its cause."""

import subprocess
import sys
from pathlib import Path

import numpy as np
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


def test_a_frame_changed_by_a_raster_interrupt_names_palette_or_lcdc_never_unexplained():
    from gbc.dump import STAT, Recording, empty_dumps
    from gbc.render import check_recording, render

    dumps = empty_dumps(3, model="DMG")
    rng = np.random.default_rng(0)
    dumps.vram[:, 0, :0x1800] = rng.integers(0, 256, 0x1800)  # tiles with all four colours
    dumps.io[:, 0x40] = 0x91  # LCD on, background on, tiles at 0x8000
    dumps.io[:, 0x47] = 0xE4
    screens = render(dumps).copy()
    colours = np.unique(screens[0].reshape(-1, 3), axis=0)
    bottom = screens[0, 100:].reshape(-1, 3)  # frame 0: the bottom lines in other colours (a palette swap)
    swapped = bottom.copy()
    for a, b in zip(colours, colours[::-1]):
        swapped[(bottom == a).all(axis=1)] = b
    screens[0, 100:] = swapped.reshape(44, 160, 3)
    screens[1, 100:] = screens[1, 100:][:, ::-1]  # frame 1: another picture below line 100 (LCDC)
    screens[2] = screens[0]
    dumps.io[:2, STAT - 0xFF00] = 0x40  # LY=LYC interrupt source
    dumps.ie[:2] = 0x03  # VBlank and STAT interrupts; frame 2 has none
    causes = [c.cause for c in check_recording(Recording(dumps, screens))]
    assert causes == ["mid_frame_palette", "mid_frame_lcdc", "unexplained"]


def test_raster_segments_draw_each_part_of_the_frame_with_its_registers(palette_split):
    import dataclasses

    from gbc.dump import Recording
    from gbc.render import render, render_recorded

    dumps, raster = palette_split  # from line 100: the palette reversed
    recording = Recording(dumps, **raster)
    drawn = render_recorded(recording, np.arange(1))[0]
    io = dumps.io.copy()
    io[:, 0x47] = 0x1B
    assert (drawn[:100] == render(dumps)[0, :100]).all()
    assert (drawn[100:] == render(dataclasses.replace(dumps, io=io))[0, 100:]).all()
    assert not (drawn[100:] == render(dumps)[0, 100:]).all()


def test_lines_drawn_after_a_mid_frame_vram_write_name_it():
    from gbc.dump import Recording, empty_dumps
    from gbc.render import check_recording, render

    dumps = empty_dumps(2, model="DMG")
    rng = np.random.default_rng(1)
    dumps.vram[:, 0, :0x1800] = rng.integers(0, 256, 0x1800)
    dumps.vram[1, 0, :0x1800] = rng.integers(0, 256, 0x1800)  # the game rewrote the tiles during frame 0
    dumps.io[:, 0x40], dumps.io[:, 0x47] = 0x91, 0xE4
    screens = render(dumps).copy()
    screens[0, 100:] = screens[1, 100:]  # the lines drawn after the write show the new tiles
    causes = [c.cause for c in check_recording(Recording(dumps, screens))]
    assert causes == ["mid_frame_video_write", ""]
