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

from pathlib import Path

import tyro

from breakout_py.errors import run_script
from gbc.render_pictures import RenderJob, render_pictures


# The options are gbc.render_pictures.RenderJob's fields, documented there once.
Args = RenderJob


def main(args: Args) -> Path:
    return render_pictures(args, log=lambda line: print(f"05: {line}"))


if __name__ == "__main__":
    run_script(lambda: main(tyro.cli(Args)))
