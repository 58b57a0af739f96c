"""Emulation speed of the Breakout ROM in PyBoy (headless), as JSON lines.

Plays with a seeded random NOOP/LEFT/RIGHT policy (a new action every `hold`
frames), starting a new game whenever one ends, and reports frames per second
with and without rendering the screen.

    .venv/bin/python roms/tools/benchmark_breakout.py --frames 20000
"""
from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass
from pathlib import Path

import tyro
from pyboy import PyBoy

ROM_DIR = Path(__file__).resolve().parents[1] / "breakout"


@dataclass
class Args:
    frames: int = 20000
    """frames to emulate per measurement"""
    hold: int = 4
    """frames each random action is held"""
    seed: int = 0


class Breakout:
    def __init__(self) -> None:
        symbols = json.loads((ROM_DIR / "breakout.symbols.json").read_text())
        self.address = {v["name"]: v["address"] for v in symbols["variables"]}
        self.constants = symbols["constants"]
        self.pyboy = PyBoy(str(ROM_DIR / "breakout.gb"), window="null", sound_emulated=False)

    def read(self, name: str) -> int:
        return self.pyboy.memory[self.address[name]]

    def start_game(self) -> None:
        """From power-on or game over, to the first frame of play."""
        while self.read("game_state") == self.constants["GAME_STATE_GAME_OVER"] or not self.read("title_frames"):
            if self.read("game_state") == self.constants["GAME_STATE_GAME_OVER"]:
                self.pyboy.button("start")
            self.pyboy.tick(1, False)
        self.pyboy.button("start")
        while self.read("game_state") != self.constants["GAME_STATE_PLAY"]:
            self.pyboy.tick(1, False)


def measure(game: Breakout, args: Args, render: bool) -> dict:
    rng = random.Random(args.seed)
    game.start_game()
    frames, games = 0, 0
    start = time.perf_counter()
    while frames < args.frames:
        action = rng.choice((None, "left", "right"))
        for button in ("left", "right"):
            if button == action:
                game.pyboy.button_press(button)
            else:
                game.pyboy.button_release(button)
        game.pyboy.tick(args.hold, render)
        frames += args.hold
        if game.read("game_state") == game.constants["GAME_STATE_GAME_OVER"]:
            games += 1
            game.start_game()
    seconds = time.perf_counter() - start
    return {"benchmark": "breakout_pyboy", "render": render, "frames": frames, "seconds": round(seconds, 3),
            "frames_per_second": round(frames / seconds, 1), "games_finished": games}


def main(args: Args) -> None:
    game = Breakout()
    try:
        for render in (False, True):
            print(json.dumps(measure(game, args, render)), flush=True)
    finally:
        game.pyboy.stop(save=False)


if __name__ == "__main__":
    main(tyro.cli(Args))
