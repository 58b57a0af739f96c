"""The library of scripts/04_compare.py: read training runs' TensorBoard scalars, measure convergence, and write the
comparison tables and plots of the memory and pixel agents on one env.

    from agents.compare import compare_runs
    out_dir = compare_runs("CartPole-v1", runs_dir="runs", out_dir="artifacts/compare", targets=(475,))

Definitions (the same everywhere in this toolkit):
  smoothed return at env step s = mean episodic return of the last `window` (20) episodes finished at or before s,
      over all sub-envs of the run; undefined before the run has finished that many episodes.
  reference return R = the best smoothed return reached by any compared run of any agent on this env, unless
      `reference_return` sets it (e.g. the game's maximum score).
  a run has "converged to fraction f" at the first env step at which its smoothed return >= f * R; seconds to
      converge are that run's training wall-clock seconds (charts/train_seconds) at that step.
  final return = a run's smoothed return at its last episode; seed spread = standard deviation of the final
      return over seeds (and its min-max).
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional, Sequence

import numpy as np

from agents.trainer import run_env_label
from breakout_py.errors import UserError
from breakout_py.files import atomic_path, atomic_write, markdown_table, write_table

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
    smoothed_steps: np.ndarray = field(init=False)
    smoothed: np.ndarray = field(init=False)

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
    def final_step(self) -> int:
        return int(self.time_steps[-1])

    @property
    def final_seconds(self) -> float:
        return float(self.train_seconds[-1])

    def first_reach(self, threshold: float) -> Optional[int]:
        hits = np.flatnonzero(self.smoothed >= threshold)
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


def load_runs(env_id: str, runs_dir: str | Path, run_glob: str = "*", window: int = 20) -> list[Run]:
    """The runs of `env_id` under `runs_dir` whose run name matches `run_glob`, smoothed over `window` episodes."""
    runs_dir = Path(runs_dir)
    if not runs_dir.is_dir():
        raise UserError(f"no runs folder at {runs_dir}; train first (scripts/02_train_memory.py, 03_train_pixel.py) "
                        "or pass --runs-dir")
    runs, observations = [], []
    label = env_id.replace("/", "-")  # run folders start with the env id (GBC-v0: with the profile too)
    for config_path in sorted(runs_dir.glob(f"{label}__*__s*__{run_glob}/config.json")):
        config = json.loads(config_path.read_text())
        if run_env_label(config["args"]["env_id"], json.loads(config["args"].get("env_kwargs") or "{}")) != label:
            continue
        scalars = read_scalars(config_path.parent)
        if "charts/train_seconds" not in scalars:
            print(f"skipping {config_path.parent}: no finished iteration logged yet")
            continue
        episode_steps, episode_returns = scalars.get("charts/episodic_return", (np.zeros(0, np.int64), np.zeros(0)))
        order = np.argsort(episode_steps, kind="stable")
        run = Run(config_path.parent.name, config["agent_name"], int(config["args"]["seed"]),
                  episode_steps[order], episode_returns[order], *scalars["charts/train_seconds"],
                  {tag: scalars[tag] for tag in LOSS_TAGS if tag in scalars},
                  json.loads(config["args"].get("env_kwargs") or "{}").get("frame_skip"))
        run.smooth(window)
        runs.append(run)
        observations.append(json.loads(config["args"].get("env_kwargs") or "{}").get("obs_type"))
    label_by_observation(runs, observations)
    if not runs:
        folders = [p.name.split("__") for p in runs_dir.iterdir() if p.is_dir() and p.name.count("__") >= 3]
        names = sorted({parts[3] for parts in folders if parts[0] == label})
        found = (f"run names of {env_id} there: {', '.join(names)}" if names else
                 f"envs with runs there: {', '.join(sorted({parts[0] for parts in folders})) or 'none'}")
        raise UserError(f"no runs of {env_id} matching --run-glob {run_glob!r} under {runs_dir} ({found}); "
                        "check --env-id (GBC-v0 runs: GBC-v0-<profile>), --run-glob and --runs-dir")
    return runs


def label_by_observation(runs: list[Run], observations: list[Optional[str]]) -> None:
    """Agents trained on different observations (GBC's memory agent on the extracted state and on the raw RAM)
    become different rows: '<agent> (<obs_type>)' for every agent name whose runs differ in obs_type."""
    for agent in {run.agent for run in runs}:
        kinds = {obs for run, obs in zip(runs, observations) if run.agent == agent}
        if len(kinds) > 1:
            for run, obs in zip(runs, observations):
                if run.agent == agent:
                    run.agent = f"{agent} ({obs or 'default'})"


def fmt(value: Optional[float], digits: int = 0) -> str:
    return "-" if value is None or not np.isfinite(value) else f"{value:,.{digits}f}"


def summarise(runs: list[Run], reference: float, fractions: Sequence[float] = (0.5, 0.9),
              targets: Sequence[float] = ()) -> tuple[list[dict], list[dict]]:
    """Per-run and per-agent rows of the comparison table: convergence to `fractions` of the reference return and
    to the absolute `targets`."""
    thresholds = [(f"{f:g}xR", f * reference) for f in fractions] + [(f"{t:g}", t) for t in targets]
    run_rows = []
    for run in runs:
        row = {"agent": run.agent, "seed": run.seed, "run": run.name, "env_steps": run.final_step,
               "train_seconds": round(run.final_seconds, 1), "sps": round(run.final_step / run.final_seconds, 1),
               "episodes": len(run.episode_returns),
               "final_return": float(run.smoothed[-1]) if len(run.smoothed) else float("nan"),
               "best_return": float(run.smoothed.max()) if len(run.smoothed) else float("nan")}
        for label, threshold in thresholds:
            step = run.first_reach(threshold)
            row[f"steps_to_{label}"] = step
            row[f"seconds_to_{label}"] = None if step is None else round(float(run.seconds_at(step)), 1)
        run_rows.append(row)

    agent_rows = []
    for agent in sorted({r["agent"] for r in run_rows}):
        rows = [r for r in run_rows if r["agent"] == agent]
        finals = np.array([r["final_return"] for r in rows])
        summary = {"agent": agent, "seeds": len(rows),
                   "env_steps": float(np.mean([r["env_steps"] for r in rows])),
                   "train_seconds": float(np.mean([r["train_seconds"] for r in rows])),
                   "sps": float(np.mean([r["sps"] for r in rows])),
                   "final_return_mean": float(np.nanmean(finals)) if np.isfinite(finals).any() else float("nan"),
                   "final_return_std": float(np.nanstd(finals)) if np.isfinite(finals).any() else float("nan"),
                   "final_return_min": float(np.nanmin(finals)) if np.isfinite(finals).any() else float("nan"),
                   "final_return_max": float(np.nanmax(finals)) if np.isfinite(finals).any() else float("nan"),
                   "best_return": float(np.nanmax([r["best_return"] for r in rows]))
                   if any(np.isfinite(r["best_return"]) for r in rows) else float("nan")}
        for label, _ in thresholds:
            reached = [r for r in rows if r[f"steps_to_{label}"] is not None]
            summary[f"reached_{label}"] = f"{len(reached)}/{len(rows)}"
            for kind in ("steps", "seconds"):
                key = f"{kind}_to_{label}"
                summary[key] = float(np.mean([r[key] for r in reached])) if reached else None
        agent_rows.append(summary)
    return run_rows, agent_rows


def markdown(run_rows: list[dict], agent_rows: list[dict], reference: float, env_id: str, window: int,
             reference_note: str) -> str:
    """comparison.md: the definitions, one row per agent, then one row per run."""
    labels = [k[len("reached_"):] for k in agent_rows[0] if k.startswith("reached_")]
    intro = (
        f"# {env_id}: {' vs '.join(row['agent'] for row in agent_rows)} agent\n\n"
        f"Smoothed return = mean of the last {window} episodes. Reference return R = {reference:,.1f} "
        f"({reference_note}). A run has converged to a threshold at the first env step where its smoothed return "
        "reaches it; step and seconds columns are means over the seeds that reached it (reached: seeds/total). "
        "Final return: mean ± std over seeds (seed spread), min-max in brackets.\n\n"
    )
    header = ["agent", "seeds", "env steps", "wall-clock s", "SPS", "final return", "best"]
    for label in labels:
        header += [f"reached {label}", f"steps to {label}", f"s to {label}"]
    rows = []
    for row in agent_rows:
        cells = [row["agent"], str(row["seeds"]), fmt(row["env_steps"]), fmt(row["train_seconds"]), fmt(row["sps"]),
                 f"{fmt(row['final_return_mean'], 1)} ± {fmt(row['final_return_std'], 1)} "
                 f"[{fmt(row['final_return_min'], 1)}, {fmt(row['final_return_max'], 1)}]",
                 fmt(row["best_return"], 1)]
        for label in labels:
            cells += [row[f"reached_{label}"], fmt(row[f"steps_to_{label}"]), fmt(row[f"seconds_to_{label}"])]
        rows.append(cells)
    agents_table = markdown_table(header, rows)
    header = ["agent", "seed", "run", "env steps", "wall-clock s", "SPS", "final return", "best"]
    header += [f"steps to {label}" for label in labels]
    rows = [[row["agent"], str(row["seed"]), row["run"], fmt(row["env_steps"]), fmt(row["train_seconds"]),
             fmt(row["sps"]), fmt(row["final_return"], 1), fmt(row["best_return"], 1),
             *(fmt(row[f"steps_to_{label}"]) for label in labels)] for row in run_rows]
    return intro + agents_table + "\nPer run:\n\n" + markdown_table(header, rows)


def write_rows(path: Path, rows: list[dict]) -> Path:
    """A CSV file of dict rows (one column per key of the first row), written atomically."""
    return write_table(path, list(rows[0]), [list(row.values()) for row in rows])


def band(xs_per_run: list[np.ndarray], ys_per_run: list[np.ndarray], points: int = 200):
    """Mean and min-max over runs of step-wise curves, on a common grid up to the longest run."""
    curves = [(x, y) for x, y in zip(xs_per_run, ys_per_run) if len(x)]
    if not curves:
        return None
    grid = np.linspace(min(x[0] for x, _ in curves), max(x[-1] for x, _ in curves), points)
    stacked = np.array([np.interp(grid, x, y, left=np.nan, right=np.nan) for x, y in curves])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # grid points no run covers stay NaN
        return grid, np.nanmean(stacked, 0), np.nanmin(stacked, 0), np.nanmax(stacked, 0)


def reference_lines(env_id: str, runs: list[Run], games: int) -> list[tuple[str, float]]:
    """Mean returns of the scripted players at the frame skip(s) of the runs: Python Breakout's, and on any of our
    Game Boy games (an env id registered with a profile that has a scripted player) the random and the game's
    scripted player; none for other envs. Python Breakout plays `games` parallel games, a GBC game `games` episodes
    one after another."""
    if games < 1:
        return []
    if env_id == "BreakoutPy-v0":
        from breakout_py.baselines import AGENTS as players, play_games

        def mean_return(player: str, frame_skip: int) -> float:
            return float(play_games(player, games, frame_skip, seed=0).mean())
        default_skip = 2
    else:
        from gbc import GAME_ENV_IDS
        from gbc.baselines import SCRIPTED_PLAYERS, agent_names, play_episodes

        game = next((name for name, game_env_id in GAME_ENV_IDS.items() if game_env_id == env_id), None)
        if game not in SCRIPTED_PLAYERS:
            return []
        players = agent_names(game)

        def mean_return(player: str, frame_skip: int) -> float:
            return float(np.mean([r["return"] for r in play_episodes(player, games, frame_skip, seed=0, game=game)]))
        default_skip = 4
    lines = []
    for frame_skip in sorted({run.frame_skip or default_skip for run in runs}):
        for player in players:
            mean = mean_return(player, frame_skip)
            lines.append((f"{player.replace('_', '-')} script, frame skip {frame_skip}: {mean:.1f}", mean))
    return lines


def plot(runs: list[Run], path: Path, series: list[tuple[str, Callable]], title: str,
         references: list[tuple[str, float]] = ()) -> None:
    """One row per series, columns: against env steps, against wall-clock seconds; one line per agent, and dashed
    horizontal reference lines (label, value) on the first row."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    agents = sorted({run.agent for run in runs})
    fig, axes = plt.subplots(len(series), 2, figsize=(12, 3.2 * len(series)), squeeze=False, layout="constrained")
    for row, (label, get) in enumerate(series):
        for col, x_label in enumerate(("env steps", "wall-clock seconds")):
            ax = axes[row][col]
            for colour, agent in zip(plt.rcParams["axes.prop_cycle"].by_key()["color"], agents):
                agent_runs = [run for run in runs if run.agent == agent]
                xy = [get(run) for run in agent_runs]
                xs = [x if col == 0 else run.seconds_at(x) for run, (x, _) in zip(agent_runs, xy)]
                result = band(xs, [y for _, y in xy])
                if result is None:
                    continue
                grid, mean, low, high = result
                ax.plot(grid, mean, color=colour, label=f"{agent} ({len(agent_runs)} seeds)")
                ax.fill_between(grid, low, high, color=colour, alpha=0.25, linewidth=0)
            if row == 0:
                for (ref_label, value), style in zip(references, ("--", ":", "-.", (0, (5, 5)))):
                    ax.axhline(value, color="grey", linestyle=style, linewidth=1, label=ref_label)
            ax.set_xlabel(x_label)
            ax.set_ylabel(label)
            ax.grid(alpha=0.3)
            if row == 0:
                ax.legend()
    fig.suptitle(title)
    try:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format="png", dpi=100)
    finally:
        plt.close(fig)


def compare_runs(env_id: str, runs_dir: str | Path = "runs", out_dir: str | Path = "artifacts/compare",
                 run_glob: str = "*", window: int = 20, fractions: Sequence[float] = (0.5, 0.9),
                 reference_return: Optional[float] = None, targets: Sequence[float] = (),
                 baseline_games: int = 200) -> Path:
    """Compare the runs of `env_id` and write to `<out_dir>/<env_id>/`: comparison.md, comparison.csv (one row per
    agent), runs.csv (one row per run), returns.png and losses.png (the scripted players' mean scores over
    `baseline_games` games as reference lines, for Python Breakout and our Game Boy games). Returns that folder."""
    if window < 1:
        raise UserError(f"--window must be at least 1, got {window}")
    runs = load_runs(env_id, runs_dir, run_glob, window)
    best = max((float(run.smoothed.max()) for run in runs if len(run.smoothed)), default=float("nan"))
    if reference_return is not None:
        reference, note = reference_return, "set by --reference-return"
    elif np.isfinite(best):
        reference, note = best, "best smoothed return of all compared runs"
    else:
        raise UserError(f"no run has finished {window} episodes yet; train longer or lower --window")
    run_rows, agent_rows = summarise(runs, reference, fractions, targets)

    out_dir = Path(out_dir) / env_id.replace("/", "-")
    atomic_write(out_dir / "comparison.md", markdown(run_rows, agent_rows, reference, env_id, window, note))
    write_rows(out_dir / "comparison.csv", agent_rows)
    write_rows(out_dir / "runs.csv", run_rows)
    plot(runs, out_dir / "returns.png", [(f"return (mean of last {window})",
                                          lambda run: (run.smoothed_steps, run.smoothed))],
         f"{env_id}: smoothed episodic return, mean and min-max over seeds",
         reference_lines(env_id, runs, baseline_games))
    loss_series = [(tag.split("/")[1], lambda run, tag=tag: run.losses.get(tag, (np.zeros(0), np.zeros(0))))
                   for tag in LOSS_TAGS]
    plot(runs, out_dir / "losses.png", loss_series, f"{env_id}: PPO losses, mean and min-max over seeds")
    counts = ", ".join(f"{row['agent']}: {row['seeds']} seeds" for row in agent_rows)
    print(f"compared {len(runs)} runs ({counts}); "
          f"wrote {out_dir}/comparison.md, comparison.csv, runs.csv, returns.png, losses.png")
    return out_dir
