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
from pathlib import Path
from typing import Callable, Optional, Sequence

import numpy as np

from agents.curves import CURVE_ROWS, CURVE_WINDOW, LOSS_TAGS, Run, load_run, run_from_curve
from agents.shipped import TRAINED_DIR, read_manifest
from agents.trainer import run_env_label
from breakout_py.errors import UserError
from breakout_py.files import atomic_path, atomic_write, markdown_table, write_table


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
        loaded = load_run(config_path.parent, window)
        if loaded is not None:
            runs.append(loaded[0])
            observations.append(loaded[1])
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
               "episodes": run.episodes,
               "final_return": float(run.smoothed[-1]) if len(run.smoothed) else float("nan"),
               "best_return": run.best}
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
             reference_note: str, preface: str = "") -> str:
    """comparison.md: the definitions (after `preface`), one row per agent, then one row per run; an `evaluation`
    column where the rows carry one (shipped agents)."""
    labels = [k[len("reached_"):] for k in agent_rows[0] if k.startswith("reached_")]
    intro = (
        f"# {env_id}: {' vs '.join(row['agent'] for row in agent_rows)} agent\n\n{preface}"
        f"Smoothed return = mean of the last {window} episodes. Reference return R = {reference:,.1f} "
        f"({reference_note}). A run has converged to a threshold at the first env step where its smoothed return "
        "reaches it; step and seconds columns are means over the seeds that reached it (reached: seeds/total). "
        "Final return: mean ± std over seeds (seed spread), min-max in brackets.\n\n"
    )
    evaluated = "evaluation" in agent_rows[0]
    header = ["agent", "seeds", "env steps", "wall-clock s", "SPS", "final return", "best"]
    header += ["evaluation"] * evaluated
    for label in labels:
        header += [f"reached {label}", f"steps to {label}", f"s to {label}"]
    rows = []
    for row in agent_rows:
        final = "-" if not np.isfinite(row["final_return_mean"]) else (
            f"{fmt(row['final_return_mean'], 1)} ± {fmt(row['final_return_std'], 1)} "
            f"[{fmt(row['final_return_min'], 1)}, {fmt(row['final_return_max'], 1)}]")
        cells = [row["agent"], str(row["seeds"]), fmt(row["env_steps"]), fmt(row["train_seconds"]), fmt(row["sps"]),
                 final, fmt(row["best_return"], 1), *((row["evaluation"],) if evaluated else ())]
        for label in labels:
            cells += [row[f"reached_{label}"], fmt(row[f"steps_to_{label}"]), fmt(row[f"seconds_to_{label}"])]
        rows.append(cells)
    agents_table = markdown_table(header, rows)
    header = ["agent", "seed", "run", "env steps", "wall-clock s", "SPS", "final return", "best"]
    header += ["evaluation"] * evaluated + [f"steps to {label}" for label in labels]
    rows = [[row["agent"], str(row["seed"]), row["run"], fmt(row["env_steps"]), fmt(row["train_seconds"]),
             fmt(row["sps"]), fmt(row["final_return"], 1), fmt(row["best_return"], 1),
             *((row["evaluation"],) if evaluated else ()), *(fmt(row[f"steps_to_{label}"]) for label in labels)]
            for row in run_rows]
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
    reference, note = reference_of(runs, reference_return)
    if not np.isfinite(reference):
        raise UserError(f"no run has finished {window} episodes yet; train longer or lower --window")
    run_rows, agent_rows = summarise(runs, reference, fractions, targets)
    return write_comparison(Path(out_dir) / env_id.replace("/", "-"), env_id, runs, run_rows, agent_rows,
                            reference, note, window, baseline_games)


SHIPPED_LABELS = {"memory": "memory (state)", "memory_ram": "memory (ram)", "pixel": "pixel"}


def compare_shipped(env_id: str, out_dir: str | Path = "artifacts/compare", fractions: Sequence[float] = (0.5, 0.9),
                    reference_return: Optional[float] = None, targets: Sequence[float] = (),
                    baseline_games: int = 200, trained_dir: Optional[Path] = None) -> Path:
    """Compare the agents shipped for `env_id` (agents/trained/manifest.json) from the training curves shipped with
    them, so the comparison always shows the shipped agents, run folders or not; an agent shipped without a curve
    gets a row of its manifest's steps, seconds and evaluation. Writes `<out_dir>/shipped/<env_id>/` as
    compare_runs does, the evaluation as a column. Returns that folder."""
    trained_dir = Path(trained_dir or TRAINED_DIR)
    entries = read_manifest(trained_dir)["agents"]
    mine = [entry for entry in entries if entry["env_id"] == env_id]
    if not mine:
        envs = ", ".join(sorted({entry["env_id"] for entry in entries})) or "none"
        raise UserError(f"no agent shipped for {env_id} in {trained_dir} (shipped envs: {envs}); check --env-id")
    runs, curveless, evaluations = [], [], {}
    for entry in mine:
        label = SHIPPED_LABELS.get(entry["agent"], entry["agent"])
        evaluation = entry.get("evaluation") or {}
        evaluations[label] = (f"{evaluation['mean_return']:,.2f} ({evaluation.get('episodes', '?')} games, "
                              f"{'greedy' if evaluation.get('greedy') else 'sampled'})"
                              if "mean_return" in evaluation else "-")
        if not entry.get("curve"):
            curveless.append((label, entry))
            continue
        path = trained_dir / entry["curve"]
        if not path.is_file():
            raise UserError(f"the manifest lists {path} but the file is missing; restore it with git checkout")
        runs.append(run_from_curve(path, entry.get("run_name") or entry["file"], label, entry["seed"],
                                   entry["env_kwargs"].get("frame_skip")))
    reference, note = reference_of(runs, reference_return)
    run_rows, agent_rows = summarise(runs, reference, fractions, targets) if runs else ([], [])
    labels = [f"{f:g}xR" for f in fractions] + [f"{t:g}" for t in targets]
    for label, entry in curveless:
        steps, seconds = entry["global_step"], entry["train_seconds"]
        run_rows.append({"agent": label, "seed": entry["seed"], "run": entry.get("run_name") or entry["file"],
                         "env_steps": steps, "train_seconds": seconds, "sps": round(steps / seconds, 1),
                         "episodes": None, "final_return": float("nan"), "best_return": float("nan"),
                         **{f"{kind}_to_{t}": None for t in labels for kind in ("steps", "seconds")}})
        agent_rows.append({"agent": label, "seeds": 1, "env_steps": steps, "train_seconds": seconds,
                           "sps": round(steps / seconds, 1),
                           **{f"final_return_{k}": float("nan") for k in ("mean", "std", "min", "max")},
                           "best_return": float("nan"),
                           **{key: value for t in labels for key, value in
                              ((f"reached_{t}", "no curve"), (f"steps_to_{t}", None), (f"seconds_to_{t}", None))}})
    for row in run_rows + agent_rows:
        row["evaluation"] = evaluations[row["agent"]]
    preface = (f"The agents shipped for {env_id} (agents/trained/manifest.json), one seed each, from the training "
               f"curves shipped with them (the mean return of the last {CURVE_WINDOW} episodes at up to "
               f"{CURVE_ROWS:,} logged iterations, so steps to a threshold are read at that resolution). "
               + (f"Shipped without a curve (no run folder's logs beside the model when it was shipped): "
                  f"{', '.join(label for label, _ in curveless)}; their rows give the manifest's steps, seconds "
                  "and evaluation. " if curveless else "")
               + "Evaluation: the manifest's mean return over its evaluation games (env seed "
               f"{', '.join(sorted({str((e.get('evaluation') or {}).get('seed', '?')) for e in mine}))}).\n\n")
    return write_comparison(Path(out_dir) / "shipped" / env_id.replace("/", "-"), env_id, runs, run_rows,
                            agent_rows, reference, note, CURVE_WINDOW, baseline_games, preface)


def reference_of(runs: list[Run], reference_return: Optional[float]) -> tuple[float, str]:
    """The reference return R and what it is: `reference_return` when set, else the best smoothed return of `runs`
    (NaN when none has one)."""
    if reference_return is not None:
        return reference_return, "set by --reference-return"
    best = max((run.best for run in runs if len(run.smoothed)), default=float("nan"))
    return best, "best smoothed return of all compared runs"


def write_comparison(out_dir: Path, env_id: str, runs: list[Run], run_rows: list[dict], agent_rows: list[dict],
                     reference: float, note: str, window: int, baseline_games: int, preface: str = "") -> Path:
    """comparison.md/.csv, runs.csv and, where any run has curves, returns.png and losses.png into `out_dir`."""
    atomic_write(out_dir / "comparison.md", markdown(run_rows, agent_rows, reference, env_id, window, note, preface))
    write_rows(out_dir / "comparison.csv", agent_rows)
    write_rows(out_dir / "runs.csv", run_rows)
    written = "comparison.md, comparison.csv, runs.csv"
    if runs:
        plot(runs, out_dir / "returns.png", [(f"return (mean of last {window})",
                                              lambda run: (run.smoothed_steps, run.smoothed))],
             f"{env_id}: smoothed episodic return, mean and min-max over seeds",
             reference_lines(env_id, runs, baseline_games))
        loss_series = [(tag.split("/")[1], lambda run, tag=tag: run.losses.get(tag, (np.zeros(0), np.zeros(0))))
                       for tag in LOSS_TAGS]
        plot(runs, out_dir / "losses.png", loss_series, f"{env_id}: PPO losses, mean and min-max over seeds")
        written += ", returns.png, losses.png"
    else:  # no curve to draw: no plot of an earlier comparison may stay beside these tables
        for name in ("returns.png", "losses.png"):
            (out_dir / name).unlink(missing_ok=True)
    counts = ", ".join(f"{row['agent']}: {row['seeds']} seeds" for row in agent_rows)
    print(f"compared {len(agent_rows)} agents ({counts}); wrote {out_dir}/{{{written}}}")
    return out_dir
