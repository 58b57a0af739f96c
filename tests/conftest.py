"""Headless pygame for every test: no window system, no audio device; fixtures more than one test file uses."""

import os

import numpy as np
import pytest

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")


@pytest.fixture
def palette_split():
    """A DMG dump of random tiles with BGP 0xE4, and a raster segment that reverses BGP (0x1B) from line 100 on:
    (dumps, the Recording keyword arguments of its raster)."""
    from gbc.dump import RASTER_SEGMENTS, empty_dumps

    dumps = empty_dumps(1, model="DMG")
    dumps.vram[:, 0, :0x1800] = np.random.default_rng(0).integers(0, 256, 0x1800)
    dumps.io[:, 0x40], dumps.io[:, 0x47] = 0x91, 0xE4
    lines = np.full((1, RASTER_SEGMENTS), -1, np.int16)
    registers = np.zeros((1, RASTER_SEGMENTS, 4), np.uint8)
    lines[0, 0], registers[0, 0] = 100, (0x91, 0x1B, 0, 0)
    return dumps, dict(raster_lines=lines, raster_registers=registers,
                       raster_palettes=np.zeros((1, RASTER_SEGMENTS, 128), np.uint8))
