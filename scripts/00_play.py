"""Play Python Breakout in a pygame window: LEFT/RIGHT arrows move the paddle, the ball serves by itself.

Score (top left) and balls left (top right) are drawn in the picture itself, which is exactly the
agent's 84x84 frame in colour, scaled up. After game over, SPACE starts a new game; ESC or closing the
window quits. Run: python scripts/00_play.py [--seed 0] [--scale 8]

With --game gbc it plays the Game Boy Color Breakout ROM instead, through GBCBreakout-v0 (gbc.play), at the
Game Boy's 59.7 frames per second: arrows move the paddle, --gbc-scale sets the window scale. Another of our
Game Boy games by its name: --game shooter (arrows move the cannon, Z fires).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Literal

import numpy as np
import tyro

from breakout_py import core
from breakout_py.render import Renderer, colorize
from breakout_py.window import Window

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
import pygame  # noqa: E402  (after silencing its greeting)


@dataclass
class Args:
    seed: int = 0
    """seed of the first game (each new game adds 1)"""
    scale: int = 8
    """window pixels per game pixel"""
    fps: int = core.FPS
    """frames per second (0: as fast as possible)"""
    max_frames: int = 0
    """stop after this many frames (0: play until the window is closed)"""
    game: Literal["python", "gbc", "shooter"] = "python"
    """python: Python Breakout; gbc: the Game Boy Color ROM (roms/breakout) through GBCBreakout-v0; shooter: the
    fixed shooter ROM (roms/shooter) through GBCShooter-v0"""
    gbc_scale: int = 4
    """window pixels per Game Boy pixel (--game gbc)"""


class PlayLoop:
    """One frame of play per `frame()` call: read keys from pygame events, step the core, draw the window."""

    def __init__(self, args: Args):
        if args.scale < 1 or args.fps < 0 or args.max_frames < 0:
            raise ValueError(f"need scale >= 1, fps >= 0 and max_frames >= 0, got {args}")
        self.seed = args.seed
        self.state = core.new_games([self.seed])
        self.renderer = Renderer(core.SCREEN_SIZE)
        self.window = Window(title="Python Breakout", scale=args.scale)
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


def play(args: Args, scripted_keys: dict[int, list[tuple[int, int]]] | None = None) -> dict:
    """Runs the window until it is closed or `args.max_frames` frames have passed.

    `scripted_keys` maps a frame number to (event type, key) pairs posted as pygame events just before
    that frame, so a test can drive the real input path headless (SDL_VIDEODRIVER=dummy).
    """
    loop = PlayLoop(args)
    clock = pygame.time.Clock()
    try:
        while loop.running and (args.max_frames == 0 or loop.frames < args.max_frames):
            for event_type, key in (scripted_keys or {}).get(loop.frames, ()):
                pygame.event.post(pygame.event.Event(event_type, key=key))
            loop.frame()
            clock.tick(args.fps)
    finally:
        loop.window.close()
    return loop.summary()


def play_gbc(args: Args, scripted_keys: dict[int, list[tuple[int, int]]] | None = None) -> dict:
    """A Game Boy Color ROM (`args.game`, gbc: Breakout) in a window through the env (see gbc.play), at the Game
    Boy's frame rate."""
    from gbc.play import play as play_rom  # PyBoy is imported only when the GBC game is asked for
    from gbc.profiles import get_profile

    profile = "breakout" if args.game == "gbc" else args.game
    summary = play_rom(profile, seed=args.seed, scale=args.gbc_scale, max_frames=args.max_frames,
                       scripted_keys=scripted_keys)
    # RAM reads are unsigned; show each variable as its C type in the symbols file says (ball_dx: int16_t)
    variables = get_profile(profile).variables
    summary["variables"] = {name: variables[name].value(raw) for name, raw in summary["variables"].items()}
    return summary


if __name__ == "__main__":
    cli_args = tyro.cli(Args)
    print(play(cli_args) if cli_args.game == "python" else play_gbc(cli_args))
