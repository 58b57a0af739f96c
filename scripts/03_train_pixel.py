"""Train the pixel agent: PPO with a small CNN on stacked grey frames (default: Python Breakout's pixels).

    .venv/bin/python scripts/03_train_pixel.py                        # BreakoutPy-v0 pixels, 21M steps (~2 h)
    .venv/bin/python scripts/03_train_pixel.py --env-id GBCBreakout-v0
    .venv/bin/python scripts/03_train_pixel.py --run-name NAME         # resume runs/<env>__pixel__s<seed>__NAME

The defaults (PPO settings, CNN, frame size and stack per env id) are `PixelArgs` and `PIXEL_ENV_KWARGS` in
agents/presets.py, where scripts/tune.py and scripts/bench_train.py read them too; `--help` lists them.

Writes runs/<env_id>__pixel__s<seed>__<run_name or timestamp>/ with the same layout as 02_train_memory.py, then
prints the run's summary as one JSON line. Ctrl-C (or SIGTERM) saves a checkpoint first: the same command resumes.
"""

from __future__ import annotations

import tyro

from agents.presets import PixelArgs as Args
from agents.presets import train_pixel
from breakout_py.errors import run_script
from breakout_py.files import json_line


def main(args: Args) -> dict:
    summary = train_pixel(args)
    print(json_line(summary), flush=True)
    return summary


if __name__ == "__main__":
    run_script(lambda: main(tyro.cli(Args)))
