"""A pygame window that shows colour frames scaled up (used by render_mode="human" and scripts/00_play.py)."""

from __future__ import annotations

import numpy as np


class Window:
    """Opens on the first `show`; `scale` is the integer zoom of each frame pixel."""

    def __init__(self, title: str = "Python Breakout", scale: int = 8):
        if not isinstance(scale, (int, np.integer)) or scale < 1:
            raise ValueError(f"window scale must be a positive integer, got {scale!r}")
        self.title = title
        self.scale = int(scale)
        self._screen = None

    def show(self, rgb: np.ndarray, caption: str | None = None, banner: str | None = None) -> None:
        """Draws one (H, W, 3) uint8 frame and updates the display; `banner` lines ("\n") go across its middle."""
        import pygame

        height, width = rgb.shape[:2]
        size = (width * self.scale, height * self.scale)
        self.open(width, height)
        pygame.display.set_caption(caption or self.title)
        small = pygame.surfarray.make_surface(np.ascontiguousarray(rgb.transpose(1, 0, 2)))
        pygame.transform.scale(small, size, self._screen)
        if banner:
            if not pygame.font.get_init():
                pygame.font.init()
            font = pygame.font.Font(None, max(12, size[1] // 20))
            lines = banner.split("\n")
            for i, line in enumerate(lines):
                text = font.render(line, True, (255, 255, 255), (0, 0, 0))
                centre_y = size[1] // 2 + (i - (len(lines) - 1) / 2) * font.get_linesize()
                self._screen.blit(text, text.get_rect(center=(size[0] // 2, int(centre_y))))
        pygame.display.flip()

    def open(self, width: int, height: int) -> None:
        """Opens the window for frames of width x height (before `show`, to receive key events)."""
        import pygame

        if self._screen is None:
            pygame.display.init()
            self._screen = pygame.display.set_mode((width * self.scale, height * self.scale))
            pygame.display.set_caption(self.title)

    @property
    def is_open(self) -> bool:
        return self._screen is not None

    def close(self) -> None:
        if self._screen is not None:
            import pygame

            pygame.display.quit()
            self._screen = None
