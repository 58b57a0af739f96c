"""gbc.play: a person plays the GBC game in a window, driven here through posted key events
(headless: tests/conftest.py selects SDL's dummy video driver)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pygame
import pytest

from breakout_py.errors import UserError
from gbc.play import choose_action, play
from gbc.profiles import BREAKOUT_ROM

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "00_play.py"
needs_rom = pytest.mark.skipif(not BREAKOUT_ROM.is_file(), reason="roms/breakout/breakout.gb absent: make -C roms")


@needs_rom
def test_arrow_keys_move_the_paddle():
    still = play(seed=0, fps=0, max_frames=40)
    right = play(seed=0, fps=0, max_frames=40,
                 scripted_keys={5: [(pygame.KEYDOWN, pygame.K_RIGHT)], 25: [(pygame.KEYUP, pygame.K_RIGHT)]})
    left = play(seed=0, fps=0, max_frames=40, scripted_keys={5: [(pygame.KEYDOWN, pygame.K_LEFT)]})
    assert still["frames"] == right["frames"] == 40 and still["lives"] == 3
    start = still["variables"]["paddle_x"]
    assert left["variables"]["paddle_x"] < start < right["variables"]["paddle_x"]


@needs_rom
def test_escape_quits():
    result = play(seed=0, fps=0, max_frames=100, scripted_keys={3: [(pygame.KEYDOWN, pygame.K_ESCAPE)]})
    assert result["frames"] == 3


def test_held_keys_choose_the_matching_action():
    actions = ((), ("left",), ("right",), ("a",), ("right", "a"))
    assert choose_action(actions, set()) == 0
    assert choose_action(actions, {"left"}) == 1
    assert choose_action(actions, {"right", "a"}) == 4
    assert choose_action(actions, {"left", "b"}) == 1  # B has no action: LEFT alone
    with pytest.raises(UserError, match="scale"):
        play(scale=0)


@needs_rom
def test_play_script_plays_the_gbc_game():
    done = subprocess.run([sys.executable, str(SCRIPT), "--game", "gbc", "--max-frames", "30", "--gbc-scale", "1"],
                          capture_output=True, text=True, timeout=120, check=True,
                          env={**os.environ, "SDL_VIDEODRIVER": "dummy", "PYTHONPATH": str(SCRIPT.parents[1])})
    summary = json.loads(done.stdout.strip().splitlines()[-1])  # the printed summary
    assert summary["frames"] == 30 and summary["lives"] == 3
    assert summary == play(seed=0, fps=0, max_frames=30, scale=1)


@needs_rom
def test_signed_variables_are_read_signed():
    # seed 1 serves the first ball down and to the left (found by playing it): ball_dx is negative
    variables = play(seed=1, fps=0, max_frames=60)["variables"]
    assert variables["ball_dx"] < 0 < variables["ball_dy"] and -variables["ball_dx"] == variables["ball_dy"]
