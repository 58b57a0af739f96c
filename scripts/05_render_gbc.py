"""Render Game Boy memory dumps to pictures: the frame a player would see.

    .venv/bin/python scripts/05_render_gbc.py --dumps my_dumps.npz               # every dump of the files
    .venv/bin/python scripts/05_render_gbc.py --record --every 10                # record an episode, every 10th frame
    .venv/bin/python scripts/05_render_gbc.py --record --compare --override ball_x=40 --every 20

--dumps: .npz files written by gbc.dump.save_dumps (GameBoy.dump(), a Recorder, or this script's --record).
--record: plays --game's ROM (a profile name or .profile.json; default our Breakout) from power-on (boot
animation, title, a game of random moves until game over, back to the title) in --model and saves it as
<out-dir>/episode_<model>_s<seed>.npz (dumps, PyBoy's screens, per-line registers) plus the emulator state before
every --every-th frame (<out-dir>/states/).

Writes to --out-dir: frames/frame_<index>.png (every --every-th dump, enlarged --scale times), contact_sheet.png
and summary.json. With --compare, each PNG shows the direct render, PyBoy's own screen and (recorded episodes only)
the emulated render side by side, the pixels that differ from PyBoy's screen in magenta; summary.json lists the
differing pixels of each frame and their cause (gbc.render.CAUSES). --override NAME=VALUE (or 0xADDR=VALUE)
writes values into the saved state before the emulated render (the frame shown is the profile's
screen_lag_frames later, 2 for our ROMs).
The work is gbc.render_pictures'.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import tyro

from breakout_py.errors import run_script
from gbc.render_pictures import RenderJob, render_pictures


@dataclass
class Args:
    dumps: list[str] = field(default_factory=list)
    """dump files (.npz from gbc.dump.save_dumps) to render"""
    record: bool = False
    """record an episode of --game from power-on instead (saved to --out-dir)"""
    game: str = "breakout"
    """--record and the emulated render: the game profile (breakout, snake, pong, ... or a .profile.json path)"""
    model: str = "CGB"
    """--record: the emulated hardware, CGB or DMG"""
    seed: int = 0
    """--record: seeds the game and the random moves"""
    max_play_frames: int = 3000
    """--record: stop the game after this many frames of play if it is not over by then"""
    every: int = 1
    """render every Nth dump (recorded episodes: also save the emulator state of every Nth frame)"""
    compare: bool = False
    """show the direct render beside PyBoy's screen (and the emulated render) with differing pixels marked"""
    override: list[str] = field(default_factory=list)
    """--compare on a recorded episode: NAME=VALUE or 0xADDR=VALUE written before the emulated render"""
    scale: int = 2
    """enlargement of the PNGs (the contact sheet uses 1)"""
    sheet_columns: int = 8
    """thumbnails per row of the contact sheet"""
    sheet_max: int = 64
    """at most this many thumbnails on the contact sheet, evenly spread over the rendered frames"""
    out_dir: str = "artifacts/render_gbc"
    """where the PNGs, the contact sheet and summary.json go"""


def main(args: Args) -> Path:
    job = RenderJob(dumps=args.dumps, record=args.record, game=args.game, model=args.model, seed=args.seed,
                    max_play_frames=args.max_play_frames, every=args.every, compare=args.compare,
                    override=args.override, scale=args.scale, sheet_columns=args.sheet_columns,
                    sheet_max=args.sheet_max, out_dir=Path(args.out_dir))
    return render_pictures(job, log=lambda line: print(f"05: {line}"))


if __name__ == "__main__":
    run_script(lambda: main(tyro.cli(Args)))
