"""Draws a batch of game states straight into greyscale uint8 frames of any size.

A pixel shows whatever covers its centre in logical coordinates (the 84x84 layout of `core`), so at
84x84 one logical unit is one pixel and at other sizes the same picture is sampled nearest-neighbour.
Every object has a colour whose greyscale value (OpenCV's RGB->GRAY weights) is unique, so the colour
picture a person sees is `colorize(grey frame)` and turns back into exactly the agent's frame.
"""

from __future__ import annotations

import numpy as np

from . import core

# RGB of each object, after aknuck's palette (row colours nudged so that their grey levels differ).
BACKGROUND_RGB = (0, 0, 0)
WALL_RGB = (142, 142, 142)  # walls, score and lives
PADDLE_RGB = (255, 0, 0)
BALL_RGB = (255, 255, 255)
BRICK_ROW_RGB = (
    (200, 72, 72),  # red
    (198, 108, 58),  # orange
    (200, 150, 50),  # dark yellow
    (190, 190, 50),  # yellow
    (72, 200, 72),  # green
    (67, 73, 202),  # blue
)


def rgb_to_grey(rgb) -> np.ndarray:
    """OpenCV's fixed-point RGB->GRAY (0.299 R + 0.587 G + 0.114 B, rounded) for uint8 RGB on the last axis."""
    rgb = np.asarray(rgb, dtype=np.int64)
    return ((rgb[..., 0] * 4899 + rgb[..., 1] * 9617 + rgb[..., 2] * 1868 + (1 << 13)) >> 14).astype(np.uint8)


BACKGROUND_GREY = int(rgb_to_grey(BACKGROUND_RGB))
WALL_GREY = int(rgb_to_grey(WALL_RGB))
PADDLE_GREY = int(rgb_to_grey(PADDLE_RGB))
BALL_GREY = int(rgb_to_grey(BALL_RGB))
BRICK_ROW_GREY = rgb_to_grey(BRICK_ROW_RGB)  # (6,) uint8

_PALETTE = (BACKGROUND_RGB, WALL_RGB, PADDLE_RGB, BALL_RGB) + BRICK_ROW_RGB
assert len({int(rgb_to_grey(c)) for c in _PALETTE}) == len(_PALETTE), "every object needs its own grey level"
GREY_TO_RGB = np.zeros((256, 3), dtype=np.uint8)
for _colour in _PALETTE:
    GREY_TO_RGB[rgb_to_grey(_colour)] = _colour

# 3x5 digit glyphs (rows of 3 bits, top to bottom); index 10 is blank (a leading zero of the score).
_GLYPH_ROWS = (
    ("111", "101", "101", "101", "111"),
    ("010", "110", "010", "010", "111"),
    ("111", "001", "111", "100", "111"),
    ("111", "001", "111", "001", "111"),
    ("101", "101", "111", "001", "001"),
    ("111", "100", "111", "001", "111"),
    ("111", "100", "111", "101", "111"),
    ("111", "001", "010", "010", "010"),
    ("111", "101", "111", "101", "111"),
    ("111", "101", "111", "001", "111"),
    ("000", "000", "000", "000", "000"),
)
GLYPHS = np.array([[[c == "1" for c in row] for row in g] for g in _GLYPH_ROWS], dtype=np.uint8)  # (11, 5, 3)
_BLANK = 10
GLYPH_W, GLYPH_H = 3, 5
HUD_Y0 = 2  # top of the digits
# Left edges of the HUD digits: three for the score (under the left wall), one for the lives (right).
HUD_DIGIT_X = (core.PLAY_LEFT, core.PLAY_LEFT + 4, core.PLAY_LEFT + 8, core.PLAY_RIGHT - GLYPH_W)


def pixel_span(lo, hi, size: int):
    """Pixels [first, end) whose centres lie in the logical interval [lo, hi) at `size` pixels per 84 units."""
    scale = size / core.SCREEN_SIZE
    first = np.ceil(np.asarray(lo) * scale - 0.5).astype(np.int64)
    end = np.ceil(np.asarray(hi) * scale - 0.5).astype(np.int64)
    return np.clip(first, 0, size), np.clip(end, 0, size)


def index_span(indices: np.ndarray) -> slice:
    """The slice over consecutive pixel indices; empty when no pixel centre falls on the object (a HUD digit is
    narrower than a pixel at some small sizes, and is then not drawn)."""
    return slice(int(indices[0]), int(indices[-1]) + 1) if indices.size else slice(0, 0)


class Renderer:
    """Renders `core.GameState` batches to (N, size, size) uint8 greyscale; the maps are built once per size."""

    def __init__(self, size: int = core.SCREEN_SIZE):
        if not isinstance(size, (int, np.integer)) or isinstance(size, bool) or size < 16:
            raise ValueError(f"frame size must be an integer >= 16 pixels, got {size!r}")
        self.size = int(size)
        centre = (np.arange(self.size) + 0.5) * core.SCREEN_SIZE / self.size  # logical coordinate of each pixel
        cy, cx = centre[:, None], centre[None, :]

        static = np.full((self.size, self.size), BACKGROUND_GREY, dtype=np.uint8)
        side_walls = (cy >= core.TOP_WALL_Y0) & ((cx < core.PLAY_LEFT) | (cx >= core.PLAY_RIGHT))
        top_wall = (cy >= core.TOP_WALL_Y0) & (cy < core.PLAY_TOP)
        static[side_walls | top_wall] = WALL_GREY
        self.static = static

        # Brick band: the pixel rows and columns that fall on the wall of bricks, and which brick each shows.
        brick_row = np.floor((centre - core.BRICK_Y0) / core.BRICK_HEIGHT).astype(np.int64)
        brick_col = np.floor((centre - core.BRICK_X0) / core.BRICK_WIDTH).astype(np.int64)
        rows = np.flatnonzero((brick_row >= 0) & (brick_row < core.BRICK_ROWS))
        cols = np.flatnonzero((brick_col >= 0) & (brick_col < core.BRICK_COLS))
        self.band_rows = slice(rows[0], rows[-1] + 1)
        self.band_cols = slice(cols[0], cols[-1] + 1)
        self.band_shape = (rows.size, cols.size)
        # flat index into a game's (6 * 18) bricks of each band pixel, row by row
        self.band_brick = (brick_row[rows][:, None] * core.BRICK_COLS + brick_col[cols][None, :]).ravel()

        # HUD: each digit is a box of pixels; its picture for each glyph is drawn once here.
        gy = np.floor(centre - HUD_Y0).astype(np.int64)
        glyph_rows = np.flatnonzero((gy >= 0) & (gy < GLYPH_H))
        self.hud_rows = index_span(glyph_rows)
        self.hud_cols = []
        self.hud_pictures = []  # per digit: (11, box_h, box_w) uint8
        for x0 in HUD_DIGIT_X:
            gx = np.floor(centre - x0).astype(np.int64)
            glyph_cols = np.flatnonzero((gx >= 0) & (gx < GLYPH_W))
            self.hud_cols.append(index_span(glyph_cols))
            cells = GLYPHS[:, gy[glyph_rows]][:, :, gx[glyph_cols]]
            background = static[self.hud_rows, self.hud_cols[-1]]
            self.hud_pictures.append(np.where(cells == 1, np.uint8(WALL_GREY), background).astype(np.uint8))

        paddle_top, paddle_end = pixel_span(core.PADDLE_Y, core.PADDLE_Y + core.PADDLE_HEIGHT, self.size)
        self.paddle_rows = slice(int(paddle_top), int(paddle_end))
        self.columns = np.arange(self.size)
        self.ball_reach = np.arange(int(np.ceil(core.BALL_SIZE * self.size / core.SCREEN_SIZE)) + 1)

    def render(self, state: core.GameState, out: np.ndarray | None = None) -> np.ndarray:
        """Frames (N, size, size) uint8 of the games in `state`, written into `out` when given."""
        n = state.num_games
        if out is None:
            out = np.empty((n, self.size, self.size), dtype=np.uint8)
        out[:] = self.static

        row_grey = state.bricks.view(np.uint8) * BRICK_ROW_GREY[:, None]  # (N, 6, 18)
        band = np.take(row_grey.reshape(n, -1), self.band_brick, axis=1)
        out[:, self.band_rows, self.band_cols] = band.reshape(n, *self.band_shape)

        score = state.score
        digits = (
            np.where(score >= 100, score // 100 % 10, _BLANK),
            np.where(score >= 10, score // 10 % 10, _BLANK),
            score % 10,
            np.clip(state.lives, 0, 9),
        )
        for value, cols, pictures in zip(digits, self.hud_cols, self.hud_pictures):
            out[:, self.hud_rows, cols] = pictures[value]

        half = core.PADDLE_WIDTH / 2
        first, end = pixel_span(state.paddle_x - half, state.paddle_x + half, self.size)
        paddle = (self.columns >= first[:, None]) & (self.columns < end[:, None])  # (N, size)
        rows = out[:, self.paddle_rows]
        out[:, self.paddle_rows] = np.where(paddle[:, None, :], np.uint8(PADDLE_GREY), rows)

        x0, x1 = pixel_span(state.ball_x - core.BALL_RADIUS, state.ball_x + core.BALL_RADIUS, self.size)
        y0, y1 = pixel_span(state.ball_y - core.BALL_RADIUS, state.ball_y + core.BALL_RADIUS, self.size)
        xs = x0[:, None] + self.ball_reach  # (N, F)
        ys = y0[:, None] + self.ball_reach
        covered = (ys < y1[:, None])[:, :, None] & (xs < x1[:, None])[:, None, :]  # (N, F, F)
        game, iy, ix = np.nonzero(covered)
        out[game, ys[game, iy], xs[game, ix]] = BALL_GREY
        return out


def colorize(grey: np.ndarray) -> np.ndarray:
    """The colour picture (..., 3) uint8 of greyscale frames drawn by `Renderer`."""
    return GREY_TO_RGB[grey]
