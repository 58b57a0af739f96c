"""GBC env render modes show the game's screen: rgb_array frames and the human window's pixels, not just shapes.

Headless: tests/conftest.py selects SDL's dummy video driver, whose display surface can still be read back.
"""

import cv2
import numpy as np
import pygame
import pytest

from gbc.baselines import ACTION_LEFT, ACTION_RIGHT
from gbc.env import GameBoyEnv
from gbc.hardware import SCREEN_HEIGHT, SCREEN_WIDTH
from gbc.profiles import BREAKOUT_ROM

pytestmark = pytest.mark.skipif(not BREAKOUT_ROM.is_file(), reason="roms/breakout/breakout.gb absent: make -C roms")

ACTIONS = [ACTION_RIGHT] * 6 + [ACTION_LEFT] * 3


def test_rgb_array_frames_are_the_screen_the_pixel_agent_sees():
    """Same seed and actions: each rgb_array frame, greyed and shrunk, is the pixel env's newest frame."""
    viewer = GameBoyEnv("breakout", obs_type="ram", render_mode="rgb_array")
    pixels = GameBoyEnv("breakout", obs_type="pixels", obs_size=84)
    try:
        viewer.reset(seed=4)
        obs, _ = pixels.reset(seed=4)
        frames = [viewer.render()]
        for action in ACTIONS:
            viewer.step(action)
            obs, *_ = pixels.step(action)
            frame = viewer.render()
            assert frame.shape == (SCREEN_HEIGHT, SCREEN_WIDTH, 3) and frame.dtype == np.uint8
            assert np.array_equal(frame, viewer.game.pyboy.screen.ndarray[:, :, :3])
            grey = cv2.resize(cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY), (84, 84), interpolation=cv2.INTER_AREA)
            assert np.abs(grey.astype(int) - obs[-1]).max() <= 1  # RGB vs RGBA greyscale rounding
            frames.append(frame)
        assert not np.array_equal(frames[0], frames[-1])  # the paddle moved on screen
        before = frames[-1].copy()
        frames[-1][:] = 0  # a copy: drawing on it leaves the env's next frame alone
        assert np.array_equal(viewer.render(), before)
    finally:
        viewer.close()
        pixels.close()


def test_human_window_shows_the_screen_scaled_and_reports_closing():
    scale = 2
    env = GameBoyEnv("breakout", render_mode="human", render_scale=scale)
    try:
        env.reset(seed=1)
        for action in ACTIONS:
            env.step(action)
            window = pygame.surfarray.array3d(pygame.display.get_surface()).transpose(1, 0, 2)
            expected = np.repeat(np.repeat(env.game.screen_rgb(), scale, axis=0), scale, axis=1)
            assert np.array_equal(window, expected)
        assert not env.window_closed
        pygame.event.post(pygame.event.Event(pygame.QUIT))  # the person closes the window
        env.step(ACTION_RIGHT)
        assert env.window_closed
    finally:
        env.close()
