"""Compare the memory and pixel agents' training runs (several seeds each) on one env.

    .venv/bin/python scripts/04_compare.py                                   # runs/BreakoutPy-v0__*
    .venv/bin/python scripts/04_compare.py --env-id CartPole-v1 --targets 475
    .venv/bin/python scripts/04_compare.py --env-id GBCSnake-v0 --shipped   # the shipped agents, no run folders

Reads every run folder under --runs-dir written by 02_train_memory.py / 03_train_pixel.py for --env-id (its
config.json and TensorBoard scalars) and writes to --out-dir:
  returns.png   smoothed episodic return against env steps and against wall-clock seconds (mean over the seeds
                that reached that point, band min-max over them)
  losses.png    value/policy loss, entropy, approx-KL, clip fraction, explained variance against steps and seconds
  comparison.md, comparison.csv   one row per agent;  runs.csv   one row per run (seed)
With --shipped it compares the agents shipped for --env-id from the training curves shipped with them
(agents/trained/<env>__<agent>.curve.csv) and writes to <out-dir>/shipped/<env>/, the evaluation as a column.
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

from agents.compare import compare_runs, compare_shipped
from agents.curves import CURVE_WINDOW
from breakout_py.errors import UserError, run_script


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
    shipped: bool = False
    """compare the agents shipped for --env-id (agents/trained/) from their shipped training curves instead of run
    folders (--runs-dir and --run-glob unused; the curves keep the 20-episode smoothed return)"""


def main(args: Args) -> Path:
    settings = dataclasses.asdict(args)
    if settings.pop("shipped"):
        if args.window != CURVE_WINDOW:
            raise UserError(f"--shipped reads the shipped curves, smoothed over {CURVE_WINDOW} episodes: drop --window")
        return compare_shipped(args.env_id, args.out_dir, args.fractions, args.reference_return, args.targets,
                               args.baseline_games)
    return compare_runs(**settings)


if __name__ == "__main__":
    run_script(lambda: main(tyro.cli(Args)))
