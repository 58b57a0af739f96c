"""Play Python Breakout in a pygame window (scripts/00_play.py): LEFT/RIGHT arrows move the paddle, the ball
serves by itself; after game over SPACE starts a new game (next seed); ESC or closing the window quits.

Score and balls left are drawn in the picture itself, which is exactly the agent's 84x84 frame in colour, scaled up.
"""

from __future__ import annotations

import os

import numpy as np

from breakout_py import core
from breakout_py.errors import UserError
from breakout_py.render import Renderer, colorize
from breakout_py.window import Window

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
import pygame  # noqa: E402  (after silencing its greeting)

ScriptedKeys = dict[int, list[tuple[int, int]]]
"""frame number -> (pygame event type, key) pairs posted just before that frame (a test drives the real input
path headless with them, SDL_VIDEODRIVER=dummy)"""


class PlayOptionError(UserError, ValueError):
    """A window scale, frame rate or frame limit out of range."""


class PlayLoop:
    """One frame of play per `frame()` call: read keys from pygame events, step the core, draw the window."""

    def __init__(self, seed: int = 0, scale: int = 8):
        if scale < 1:
            raise PlayOptionError(f"the window scale must be >= 1, got {scale}")
        self.seed = seed
        self.state = core.new_games([self.seed])
        self.renderer = Renderer(core.SCREEN_SIZE)
        self.window = Window(title="Python Breakout", scale=scale)
        self.window.open(core.SCREEN_SIZE, core.SCREEN_SIZE)
        self.held = {pygame.K_LEFT: False, pygame.K_RIGHT: False}
        self.frames = 0
        self.games_played = 1
        self.running = True

    def action(self) -> int:
        left, right = self.held[pygame.K_LEFT], self.held[pygame.K_RIGHT]
        if left and not right:
            return core.LEFT
        if right and not left:
            return core.RIGHT
        return core.NOOP

    def handle(self, event: pygame.event.Event) -> None:
        if event.type == pygame.QUIT or (event.type == pygame.KEYDOWN and event.key == pygame.K_ESCAPE):
            self.running = False
        elif event.type in (pygame.KEYDOWN, pygame.KEYUP) and event.key in self.held:
            self.held[event.key] = event.type == pygame.KEYDOWN
        elif event.type == pygame.KEYDOWN and event.key == pygame.K_SPACE and self.state.game_over[0]:
            self.seed += 1
            self.games_played += 1
            core.reset_games(self.state, np.ones(1, dtype=bool), [self.seed])

    def frame(self) -> None:
        for event in pygame.event.get():
            self.handle(event)
        if not self.running:
            return
        core.step_frame(self.state, np.array([self.action()]))
        self.frames += 1
        score, lives = int(self.state.score[0]), int(self.state.lives[0])
        banner = None
        if self.state.game_over[0]:
            cleared = not self.state.bricks.any()
            banner = f"{'WALL CLEARED' if cleared else 'GAME OVER'}   score {score}\nSPACE: new game   ESC: quit"
        self.window.show(
            colorize(self.renderer.render(self.state))[0],
            caption=f"Python Breakout   score {score}   lives {lives}",
            banner=banner,
        )

    def summary(self) -> dict:
        return {
            "frames": self.frames,
            "games_played": self.games_played,
            "score": int(self.state.score[0]),
            "lives": int(self.state.lives[0]),
            "paddle_x": float(self.state.paddle_x[0]),
            "game_over": bool(self.state.game_over[0]),
        }


def play(seed: int = 0, scale: int = 8, fps: int = core.FPS, max_frames: int = 0,
         scripted_keys: ScriptedKeys | None = None) -> dict:
    """Runs the window until it is closed or `max_frames` frames have passed (0: no limit); fps 0: as fast as
    possible. Returns the frame count, games played and the last game's score, lives, paddle position."""
    if fps < 0 or max_frames < 0:
        raise PlayOptionError(f"need fps >= 0 and max_frames >= 0, got fps={fps}, max_frames={max_frames}")
    loop = PlayLoop(seed, scale)
    clock = pygame.time.Clock()
    try:
        while loop.running and (max_frames == 0 or loop.frames < max_frames):
            for event_type, key in (scripted_keys or {}).get(loop.frames, ()):
                pygame.event.post(pygame.event.Event(event_type, key=key))
            loop.frame()
            clock.tick(fps)
    finally:
        loop.window.close()
    return loop.summary()
