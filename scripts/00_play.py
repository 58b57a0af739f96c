"""Play Python Breakout in a pygame window: LEFT/RIGHT arrows move the paddle, the ball serves by itself.

Score (top left) and balls left (top right) are drawn in the picture itself, which is exactly the
agent's 84x84 frame in colour, scaled up. After game over, SPACE starts a new game; ESC or closing the
window quits. Run: python scripts/00_play.py [--seed 0] [--scale 8]

With --game gbc (or breakout) it plays the Game Boy Color Breakout ROM instead, through GBCBreakout-v0 (gbc.play), at
the Game Boy's 59.7 frames per second: arrows move the paddle, --gbc-scale sets the window scale. --game NAME plays any
other Game Boy game with a profile the same way (snake, pong, shooter, runner, or a profile of your own ROM).
Prints a JSON line summing up the last game when the window closes. The play loops are breakout_py.play's and gbc.play's.
"""

from __future__ import annotations

from dataclasses import dataclass

import tyro

from breakout_py import core
from breakout_py.errors import run_script
from breakout_py.files import json_line
from breakout_py.play import ScriptedKeys, play


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
    game: str = "python"
    """python: Python Breakout; gbc or breakout: the Game Boy Color ROM roms/breakout; any other name: the Game Boy
    game of that profile (snake, pong, shooter, runner, or your own roms/NAME.profile.json)"""
    gbc_scale: int = 4
    """window pixels per Game Boy pixel (--game gbc)"""


def play_gbc(args: Args, scripted_keys: ScriptedKeys | None = None) -> dict:
    """A Game Boy game (--game) in a window through the env, at the Game Boy's frame rate (gbc.play)."""
    from gbc.play import play as play_rom  # PyBoy is imported only when the GBC game is asked for

    profile = "breakout" if args.game == "gbc" else args.game
    return play_rom(profile, seed=args.seed, scale=args.gbc_scale, max_frames=args.max_frames,
                    scripted_keys=scripted_keys)


def main(args: Args) -> dict:
    if args.game != "python":
        return play_gbc(args)
    return play(seed=args.seed, scale=args.scale, fps=args.fps, max_frames=args.max_frames)


if __name__ == "__main__":
    print(json_line(run_script(lambda: main(tyro.cli(Args)))))
