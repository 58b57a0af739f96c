"""Compare the memory and pixel agents' training runs (several seeds each) on one env.

    .venv/bin/python scripts/04_compare.py                                   # runs/BreakoutPy-v0__*
    .venv/bin/python scripts/04_compare.py --env-id CartPole-v1 --targets 475

Reads every run folder under --runs-dir written by 02_train_memory.py / 03_train_pixel.py for --env-id (its
config.json and TensorBoard scalars) and writes to --out-dir:
  returns.png   smoothed episodic return against env steps and against wall-clock seconds (mean over the seeds
                that reached that point, band min-max over them)
  losses.png    value/policy loss, entropy, approx-KL, clip fraction, explained variance against steps and seconds
  comparison.md, comparison.csv   one row per agent;  runs.csv   one row per run (seed)
An agent whose runs used different observations (obs_type) gets one row per observation, e.g. 'memory (state)' and
'memory (ram)' on GBCBreakout-v0.

The smoothed return, reference return R, convergence and seed spread are defined in agents/compare.py, which does
the work.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import tyro

from agents.compare import compare_runs
from breakout_py.errors import run_script


@dataclass
class Args:
    env_id: str = "BreakoutPy-v0"
    """compare the runs of this env"""
    runs_dir: str = "runs"
    """folder holding the run folders"""
    run_glob: str = "*"
    """only run folders whose name matches this glob after '<env_id>__<agent>__s<seed>__', e.g. 'full*'"""
    out_dir: str = "artifacts/compare"
    """where the plots and tables go (a subfolder per env is made)"""
    window: int = 20
    """episodes in the smoothed return"""
    fractions: tuple[float, ...] = field(default_factory=lambda: (0.5, 0.9))
    """fractions of the reference return whose first-reach step and time the table reports"""
    reference_return: Optional[float] = None
    """the return the fractions refer to (default: the best smoothed return of all compared runs)"""
    targets: tuple[float, ...] = ()
    """absolute returns whose first-reach step and time the table also reports, e.g. 108 54"""
    baseline_games: int = 200
    """games of each scripted player (breakout_py.baselines, gbc.baselines) drawn as reference lines at the runs'
    frame skip, for BreakoutPy-v0 and each of our Game Boy games (GBC plays them one by one: 0.4 s a Breakout game;
    0: none)"""


def main(args: Args) -> Path:
    return compare_runs(**dataclasses.asdict(args))


if __name__ == "__main__":
    run_script(lambda: main(tyro.cli(Args)))
