"""A pygame window that shows Game Boy frames at a steady rate (used by render_mode="human" and gbc.play)."""

from __future__ import annotations

import os

import numpy as np

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
import pygame  # noqa: E402


class Window:
    def __init__(self, title: str, width: int, height: int, scale: int):
        if scale < 1:
            raise ValueError(f"window scale must be a positive integer, got {scale!r}")
        pygame.display.init()  # video only: no audio device needed
        self._size = (width * scale, height * scale)
        self._surface = pygame.display.set_mode(self._size)
        pygame.display.set_caption(title)
        self._clock = pygame.time.Clock()
        self.closed = False

    def show(self, rgb: np.ndarray, fps: float) -> None:
        """Draw an (H, W, 3) frame scaled to the window, then wait so frames come at `fps`."""
        for event in pygame.event.get(pygame.QUIT):
            self.closed = True
        frame = pygame.surfarray.make_surface(rgb.swapaxes(0, 1))
        pygame.transform.scale(frame, self._size, self._surface)
        pygame.display.flip()
        self._clock.tick(fps)

    def close(self) -> None:
        pygame.display.quit()
        self.closed = True
