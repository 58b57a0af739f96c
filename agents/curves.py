"""Training curves of a run: read from its TensorBoard scalars, smoothed (agents/compare.py's definitions), and kept
as a small CSV file that ships beside a trained model (agents/shipped.py), so a comparison can be drawn after the run
folder is gone.

    from agents.curves import load_run, write_curve, run_from_curve
    run, obs_type = load_run(Path("runs/GBCSnake-v0__memory__s1__indexed"))
    write_curve(Path("runs/GBCSnake-v0__memory__s1__indexed"), Path("snake.curve.csv"))
    run = run_from_curve(Path("snake.curve.csv"), "indexed", "memory", 1)   # best, final, first_reach as the run's
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np

from breakout_py.errors import UserError
from breakout_py.files import write_table

LOSS_TAGS = ("losses/value_loss", "losses/policy_loss", "losses/entropy", "losses/approx_kl", "losses/clipfrac",
             "losses/explained_variance")


@dataclass
class Run:
    """One run folder's curves: its episodes (env step, return), its train_seconds against env steps, and the PPO
    losses; `smooth(window)` fills the smoothed return."""

    name: str
    agent: str
    seed: int
    episode_steps: np.ndarray
    episode_returns: np.ndarray
    time_steps: np.ndarray
    train_seconds: np.ndarray
    losses: dict[str, tuple[np.ndarray, np.ndarray]]
    frame_skip: Optional[int] = None
    episode_count: Optional[int] = None
    """episodes finished, where the episodes themselves are not kept (a shipped curve)"""
    smoothed_steps: np.ndarray = field(init=False)
    smoothed: np.ndarray = field(init=False)
    peaks: Optional[np.ndarray] = field(init=False, default=None)
    """a shipped curve's highest smoothed return since the previous point (None: `smoothed` has every episode)"""

    def smooth(self, window: int) -> None:
        if len(self.episode_returns) < window:
            self.smoothed_steps, self.smoothed = np.zeros(0), np.zeros(0)
            return
        sums = np.cumsum(np.insert(self.episode_returns, 0, 0.0))
        self.smoothed = (sums[window:] - sums[:-window]) / window
        self.smoothed_steps = self.episode_steps[window - 1:]

    def seconds_at(self, steps: np.ndarray | float) -> np.ndarray | float:
        return np.interp(steps, self.time_steps, self.train_seconds)

    @property
    def episodes(self) -> int:
        return len(self.episode_returns) if self.episode_count is None else self.episode_count

    @property
    def final_step(self) -> int:
        return int(self.time_steps[-1])

    @property
    def final_seconds(self) -> float:
        return float(self.train_seconds[-1])

    @property
    def best(self) -> float:
        highs = self.smoothed if self.peaks is None else self.peaks
        return float(highs.max()) if len(highs) else float("nan")

    def first_reach(self, threshold: float) -> Optional[int]:
        hits = np.flatnonzero((self.smoothed if self.peaks is None else self.peaks) >= threshold)
        return int(self.smoothed_steps[hits[0]]) if len(hits) else None


def read_scalars(run_dir: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Every TensorBoard scalar of a run folder: tag -> (steps, values)."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(run_dir), size_guidance={"scalars": 0})
    acc.Reload()
    out = {}
    for tag in acc.Tags()["scalars"]:
        events = acc.Scalars(tag)
        out[tag] = (np.array([e.step for e in events], dtype=np.int64), np.array([e.value for e in events]))
    return out


def load_run(run_dir: Path, window: int = 20) -> tuple[Run, Optional[str]] | None:
    """One run folder's curves smoothed over `window` episodes and its observation type; None (with a printed line)
    when it has not logged a finished iteration yet."""
    config = json.loads((run_dir / "config.json").read_text())
    scalars = read_scalars(run_dir)
    if "charts/train_seconds" not in scalars:
        print(f"skipping {run_dir}: no finished iteration logged yet")
        return None
    env_kwargs = json.loads(config["args"].get("env_kwargs") or "{}")
    episode_steps, episode_returns = scalars.get("charts/episodic_return", (np.zeros(0, np.int64), np.zeros(0)))
    order = np.argsort(episode_steps, kind="stable")
    run = Run(run_dir.name, config["agent_name"], int(config["args"]["seed"]), episode_steps[order],
              episode_returns[order], *scalars["charts/train_seconds"],
              {tag: scalars[tag] for tag in LOSS_TAGS if tag in scalars}, env_kwargs.get("frame_skip"))
    run.smooth(window)
    return run, env_kwargs.get("obs_type")


CURVE_WINDOW = 20
CURVE_ROWS = 1000
CURVE_RETURN, CURVE_PEAK = f"mean_return_last_{CURVE_WINDOW}", f"highest_mean_return_last_{CURVE_WINDOW}"
CURVE_COLUMNS = ("env_step", "train_seconds", "episodes", CURVE_RETURN, CURVE_PEAK,
                 *(tag.split("/")[1] for tag in LOSS_TAGS))


def curve_table(run: Run, max_rows: int = CURVE_ROWS) -> tuple[list[str], list[list]]:
    """A run's curves at its logged iterations (at most `max_rows`, evenly spread, the last kept), small enough to
    ship beside its model when the run folder is gone: env step, training seconds, episodes finished, the mean return
    of the last CURVE_WINDOW episodes (`run` must be smoothed over that window), the highest such mean since the
    previous row (so the best return is kept exactly and the step a threshold is first reached to a row's
    resolution, where the mean at each row alone would miss its peaks) and each PPO loss. It ends at the last
    iteration that logged its losses: the episodes of an iteration cut short (a run stopped by Ctrl-C) are left out."""
    picks = np.unique(np.linspace(0, len(run.time_steps) - 1, min(max_rows, len(run.time_steps))).round().astype(int))
    steps = run.time_steps[picks]
    episodes = np.searchsorted(run.episode_steps, steps, side="right")
    # smoothed[i] is the mean of episodes i .. i + window - 1: after n episodes, the last window is smoothed[n - window]
    smoothed = np.full(len(steps), np.nan)
    ready = episodes >= CURVE_WINDOW
    smoothed[ready] = run.smoothed[episodes[ready] - CURVE_WINDOW]
    peaks = np.full(len(steps), np.nan)
    for row, (start, end) in enumerate(zip(np.insert(episodes[:-1], 0, 0), episodes)):
        since = run.smoothed[max(start - CURVE_WINDOW + 1, 0):max(end - CURVE_WINDOW + 1, 0)]
        peaks[row] = since.max() if len(since) else smoothed[row]
    losses = [np.interp(steps, *run.losses[tag]) if tag in run.losses else np.full(len(steps), np.nan)
              for tag in LOSS_TAGS]
    rows = [[int(step), round(float(seconds), 2), int(count), *(float(f"{v:.6g}") for v in values)]
            for step, seconds, count, *values in zip(steps, run.train_seconds[picks], episodes, smoothed, peaks,
                                                     *losses)]
    return list(CURVE_COLUMNS), rows


def run_from_curve(path: Path, name: str, agent: str, seed: int, frame_skip: Optional[int] = None) -> Run:
    """A Run rebuilt from a curve file written by `curve_table`: its smoothed return (over CURVE_WINDOW episodes, at
    the logged iterations), training seconds and losses; the single episodes are not kept."""
    with open(path, newline="") as f:
        reader = csv.reader(f)
        header = next(reader, [])
        if tuple(header) != CURVE_COLUMNS:
            raise UserError(f"{path} is not a training curve of this toolkit (columns {header[:4]}...); restore it "
                            "with git checkout or ship the agent again with scripts/evaluate.py --ship")
        table = np.array([[float(cell) if cell not in ("", "nan") else np.nan for cell in row] for row in reader])
    if len(table) == 0:
        raise UserError(f"{path} holds no rows; restore it with git checkout")
    columns = dict(zip(CURVE_COLUMNS, table.T))
    steps = columns["env_step"].astype(np.int64)
    losses = {tag: (steps, columns[tag.split("/")[1]]) for tag in LOSS_TAGS
              if np.isfinite(columns[tag.split("/")[1]]).any()}
    run = Run(name, agent, seed, np.zeros(0, np.int64), np.zeros(0), steps, columns["train_seconds"], losses,
              frame_skip, int(columns["episodes"][-1]))
    ready = np.isfinite(columns[CURVE_RETURN])
    run.smoothed_steps, run.smoothed, run.peaks = steps[ready], columns[CURVE_RETURN][ready], columns[CURVE_PEAK][ready]
    return run


def write_curve(run_dir: Path, path: Path) -> Path:
    """The curve file of the run in `run_dir` (see `curve_table`), written atomically to `path`."""
    loaded = load_run(Path(run_dir), CURVE_WINDOW)
    if loaded is None:
        raise UserError(f"{run_dir} has no finished iteration logged, so no curve to ship")
    return write_table(path, *curve_table(loaded[0]))
