"""Hyperparameter search for the PPO agents with Optuna: TPE sampler, a median pruner on the learning curve, and a
study file that resumes.

    .venv/bin/python scripts/tune.py --agent memory --n-trials 24          # BreakoutPy-v0 memory agent
    .venv/bin/python scripts/tune.py --agent memory --n-trials 12 &        # run this twice: two workers, one study
    .venv/bin/python scripts/tune.py --agent pixel --trial-cpu-seconds 600 --n-trials 6
    .venv/bin/python scripts/tune.py --agent memory --n-trials 0           # only print/write the study's tables

Each trial trains from scratch with the agent's training defaults (agents/presets.py, as 02/03 train) and the
trial's sampled settings, for at most `trial_cpu_seconds` of this process's CPU time. CPU time rather than wall-clock:
with one torch thread the two agree on an idle machine, but CPU time does not grow when other jobs share the cores,
so trials run side by side (or beside other work) stay comparable. Every `report_every` CPU seconds the trial reports
its smoothed return (mean of the last 20 episodes) to the pruner, which stops trials below the median of earlier
trials at the same point. The objective is the smoothed return when the trial ends (budget spent or steps done),
so settings win by learning fast per CPU second, the quantity that decides training time on this machine.

The study lives in `<out_dir>/<study>.journal` (Optuna's journal file: several processes on one machine can share
it, and a rerun continues it), or in the Optuna storage `--storage` names: an RDB URL such as
`sqlite:///tune.db` or `postgresql://user@host/db`, which many machines can work on at once, or another journal
file's path. `<out_dir>/<study>/trials.csv` and `best.json` are rewritten after every trial.

    .venv/bin/python scripts/tune.py --agent memory --storage postgresql://tuner@db-host/tune   # on each machine
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import optuna
import tyro

from agents.presets import Preset, preset_of
from breakout_py.errors import UserError, run_script
from breakout_py.files import json_line, write_json, write_table


@dataclass
class Args:
    agent: str = "memory"
    """which agent to tune: memory (02_train_memory.py) or pixel (03_train_pixel.py)"""
    space: str = ""
    """search space (default: the agent's): memory, memory-wide or pixel"""
    env_id: str = "BreakoutPy-v0"
    """env to tune on"""
    study: str = ""
    """study name (default: <env_id>__<agent>)"""
    out_dir: str = "artifacts/tune"
    """folder of the study's tables (and of its journal file when --storage is empty)"""
    storage: str = ""
    """Optuna storage of the study: an RDB URL (sqlite:///tune.db, postgresql://user@host/db, mysql://...) that
    several machines share, or a journal file's path; empty: <out_dir>/<study>.journal"""
    n_trials: int = 24
    """trials this process runs (several processes can work on one study)"""
    trial_cpu_seconds: float = 150.0
    """CPU-time budget of one trial"""
    report_every: float = 15.0
    """CPU seconds between the reports the pruner sees"""
    pruner_startup_trials: int = 5
    """trials that always run to the end before the pruner starts pruning"""
    pruner_warmup_reports: int = 3
    """reports of each trial before it can be pruned"""
    seed: int = 1
    """seed of the sampler and of every trial's training run"""
    enqueue_defaults: bool = True
    """make the agent's current defaults (agents/presets.py) the study's first trial (a baseline the search must beat)"""
    enqueue: tuple[str, ...] = ()
    """JSON objects of settings to try before the sampler's own (any subset of the search space's names)"""


# Search spaces. Values are those of the training scripts' Args fields (and env kwargs / network settings).
# The first memory study sampled this wide space; its trials with frame skip 2-3, gamma 0.97/0.995 or one update
# epoch did not learn within their budget (agents/trained/results/tuning.md), so the default space keeps the region
# around what learnt.
MEMORY_WIDE_SPACE = {
    "learning_rate": ("log", 1e-4, 3e-3),
    "anneal_lr": ("choice", [True, False]),
    "total_timesteps": ("choice", [3_000_000, 6_000_000, 12_000_000, 24_000_000]),
    "num_envs": ("choice", [16, 32, 64, 128, 256, 512]),
    "num_steps": ("choice", [16, 32, 64, 128]),
    "num_minibatches": ("choice", [1, 2, 4, 8]),
    "update_epochs": ("choice", [1, 2, 4, 8]),
    "gamma": ("choice", [0.95, 0.97, 0.99, 0.995]),
    "gae_lambda": ("choice", [0.8, 0.9, 0.95, 0.98]),
    "ent_coef": ("log", 1e-4, 3e-2),
    "clip_coef": ("choice", [0.1, 0.2, 0.3]),
    "width": ("choice", [64, 128, 256]),
    "frame_skip": ("choice", [2, 3, 4]),
}
MEMORY_SPACE = {
    "learning_rate": ("log", 3e-4, 3e-3),
    "anneal_lr": ("choice", [True, False]),
    "total_timesteps": ("choice", [3_000_000, 6_000_000, 12_000_000, 24_000_000]),
    "num_envs": ("choice", [16, 32, 64, 128]),
    "num_steps": ("choice", [64, 128, 256]),
    "num_minibatches": ("choice", [2, 4, 8]),
    "update_epochs": ("choice", [2, 4, 8]),
    "gamma": ("choice", [0.98, 0.99]),
    "gae_lambda": ("choice", [0.9, 0.95]),
    "ent_coef": ("log", 1e-3, 3e-2),
    "clip_coef": ("choice", [0.1, 0.2, 0.3]),
    "width": ("choice", [64, 128, 256]),
    "frame_skip": ("choice", [3, 4]),
}
PIXEL_SPACE = {
    "learning_rate": ("log", 1e-4, 2e-3),
    "anneal_lr": ("choice", [True, False]),
    "total_timesteps": ("choice", [2_000_000, 5_000_000, 10_000_000]),
    "num_envs": ("choice", [8, 16, 32, 64, 128]),
    "num_steps": ("choice", [32, 64, 128]),
    "num_minibatches": ("choice", [2, 4, 8]),
    "update_epochs": ("choice", [1, 2, 3, 4]),
    "gamma": ("choice", [0.97, 0.99]),
    "gae_lambda": ("choice", [0.9, 0.95]),
    "ent_coef": ("log", 1e-3, 3e-2),
    "clip_coef": ("choice", [0.1, 0.2]),
    "obs_size": ("choice", [42, 64]),
    "cnn": ("choice", ["atari-small", "two-layer", "two-layer-wide", "two-layer-stride2"]),
    "frame_stack": ("choice", [2, 4]),
    "frame_skip": ("choice", [2, 4]),
}
# The pixel agent's conv stacks: 03_train_pixel.py's --channels/--kernels/--strides/--hidden-size.
CNN_ARCHS = {
    "atari-small": {"channels": (16, 32, 32), "kernels": (8, 4, 3), "strides": (4, 2, 1), "hidden_size": 256},
    "two-layer": {"channels": (16, 32), "kernels": (6, 4), "strides": (3, 2), "hidden_size": 128},
    "two-layer-wide": {"channels": (32, 64), "kernels": (6, 4), "strides": (3, 2), "hidden_size": 256},
    # 03_train_pixel.py's default: a stride-2 first layer, whose finer grid keeps the ball's height linear
    # (agents/trained/results/training_breakoutpy.md, "The pixel agent's first layer")
    "two-layer-stride2": {"channels": (16, 32), "kernels": (4, 5), "strides": (2, 3), "hidden_size": 128},
}
SPACES = {"memory": MEMORY_SPACE, "memory-wide": MEMORY_WIDE_SPACE, "pixel": PIXEL_SPACE}
ENV_KEYS = {"frame_skip", "obs_size", "frame_stack"}  # settings that belong to the env kwargs


def search_space(preset: Preset, space_name: str, env_id: str) -> dict[str, tuple]:
    """The agent's space; the env settings (frame skip, frame size and stack) only for the repo's own envs, the ones
    with env kwargs in the agent's preset (other envs, such as CartPole, take no such kwargs)."""
    own_env = env_id in preset.env_kwargs
    return {name: spec for name, spec in SPACES[space_name].items() if own_env or name not in ENV_KEYS}


def suggest(trial: optuna.Trial, space: dict[str, tuple]) -> dict[str, Any]:
    params = {}
    for name, (kind, *spec) in space.items():
        if kind == "log":
            params[name] = trial.suggest_float(name, spec[0], spec[1], log=True)
        else:
            params[name] = trial.suggest_categorical(name, spec[0])
    return params


def run_args_for(preset: Preset, env_id: str, params: dict[str, Any], seed: int, runs_dir: str):
    """The agent's default Args with a trial's settings applied (videos and checkpoints off)."""
    defaults = preset.with_env_defaults(dataclasses.replace(preset.args_type(), env_id=env_id))
    env_kwargs = preset.default_env_kwargs(env_id)
    env_kwargs.update({key: value for key, value in params.items() if key in ENV_KEYS})
    fields = {key: value for key, value in params.items() if key not in ENV_KEYS | {"width", "cnn"}}
    if "width" in params:  # the memory agent's two hidden layers
        fields["hidden_sizes"] = (params["width"], params["width"])
    if "cnn" in params:
        fields.update(CNN_ARCHS[params["cnn"]])
    return dataclasses.replace(defaults, env_id=env_id, env_kwargs=json.dumps(env_kwargs), seed=seed,
                               runs_dir=runs_dir, run_name="trial", video_interval=0, checkpoint_interval=0,
                               progress_bar=False, torch_threads=1, **fields)


def defaults_as_params(preset: Preset, space: dict[str, tuple], env_id: str) -> dict[str, Any]:
    """The agent's current defaults in the search space's terms (for enqueueing them as a baseline trial)."""
    defaults = preset.with_env_defaults(dataclasses.replace(preset.args_type(), env_id=env_id))
    env_kwargs = preset.default_env_kwargs(env_id)
    params = {}
    for name in space:
        if name in ENV_KEYS:
            params[name] = env_kwargs.get(name)
        elif name == "width":
            params[name] = defaults.hidden_sizes[0]
        elif name == "cnn":
            current = {key: getattr(defaults, key) for key in ("channels", "kernels", "strides", "hidden_size")}
            params[name] = next((arch for arch, spec in CNN_ARCHS.items() if spec == current), None)
        else:
            params[name] = getattr(defaults, name)
    return {key: value for key, value in params.items() if value is not None}


def write_tables(study: optuna.Study, folder: Path) -> None:
    trials = study.get_trials(deepcopy=False)
    names = sorted({name for trial in trials for name in trial.params})
    header = ["number", "state", "value", "cpu_seconds", "env_steps", "reports", "last_report", *names]
    rows = []
    for trial in trials:
        reports = trial.intermediate_values
        rows.append([
            trial.number, trial.state.name, None if trial.value is None else round(trial.value, 2),
            trial.user_attrs.get("cpu_seconds"), trial.user_attrs.get("env_steps"), len(reports),
            round(reports[max(reports)], 2) if reports else None,
            *(trial.params.get(name) for name in names),
        ])
    write_table(folder / "trials.csv", header, rows)
    complete = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
    if complete:
        best = max(complete, key=lambda t: t.value)
        write_json(folder / "best.json", {"number": best.number, "value": best.value, "params": best.params,
                                          **best.user_attrs})


STORAGE_ATTEMPTS = 5  # tries to open an RDB storage that other workers may be creating at the same moment


def open_storage(storage: str, default_journal: Path) -> tuple[optuna.storages.BaseStorage, str]:
    """The study's storage and a description of where it is: an RDB URL (scheme://...) or a journal file path."""
    if "://" not in storage:
        journal = Path(storage) if storage else default_journal
        return optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(journal))), str(journal)
    import sqlalchemy.exc

    try:
        for attempt in range(STORAGE_ATTEMPTS):
            try:
                return optuna.storages.RDBStorage(storage), storage
            except (sqlalchemy.exc.IntegrityError, sqlalchemy.exc.OperationalError) as err:
                # another worker creating the database's tables at the same moment: "already exists", "locked"
                racing = isinstance(err, sqlalchemy.exc.IntegrityError) or any(
                    words in str(err) for words in ("already exists", "database is locked"))
                if not racing or attempt == STORAGE_ATTEMPTS - 1:
                    raise
                time.sleep(0.2 * (attempt + 1))
    except (sqlalchemy.exc.ArgumentError, sqlalchemy.exc.NoSuchModuleError, sqlalchemy.exc.OperationalError,
            ModuleNotFoundError) as err:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise UserError(f"--storage {storage!r} could not be opened ({reason}); give an Optuna "
                        "RDB URL such as sqlite:///tune.db (its folder must exist) or postgresql://user@host/db "
                        "(with its driver installed), or a journal file path") from err


def main(args: Args) -> optuna.Study:
    space_name = args.space or args.agent
    if args.agent not in ("memory", "pixel") or space_name not in SPACES or \
            not space_name.startswith(args.agent):
        raise UserError(f"--agent must be memory or pixel and --space one of {sorted(SPACES)} for that agent, got "
                         f"{args.agent!r} and {space_name!r}")
    if args.trial_cpu_seconds <= 0 or args.report_every <= 0:
        raise UserError("--trial-cpu-seconds and --report-every must be positive")
    preset = preset_of(args.agent)
    space = search_space(preset, space_name, args.env_id)
    name = args.study or f"{args.env_id.replace('/', '-')}__{space_name}"
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    storage, where = open_storage(args.storage, out_dir / f"{name}.journal")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        study_name=name, storage=storage, direction="maximize", load_if_exists=True,
        # a different sampler seed per worker process, so parallel workers do not propose the same settings
        sampler=optuna.samplers.TPESampler(seed=args.seed + os.getpid(), n_startup_trials=6, multivariate=True),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=args.pruner_startup_trials,
                                           n_warmup_steps=args.pruner_warmup_reports),
    )
    if args.enqueue_defaults and not study.trials:
        study.enqueue_trial(defaults_as_params(preset, space, args.env_id))
    for settings in args.enqueue:
        params = json.loads(settings)
        unknown = set(params) - set(space)
        if unknown:
            raise UserError(f"--enqueue names {sorted(unknown)}, not in the {space_name} search space "
                             f"{sorted(space)}")
        study.enqueue_trial(params, skip_if_exists=True)

    def objective(trial: optuna.Trial) -> float:
        params = suggest(trial, space)
        with tempfile.TemporaryDirectory() as runs_dir:
            run_args = run_args_for(preset, args.env_id, params, args.seed, runs_dir)
            if run_args.num_envs * run_args.num_steps < 2 * run_args.num_minibatches:
                raise optuna.TrialPruned("rollout too small for the minibatches")
            state = {"next_report": args.report_every, "report": 0, "pruned": False}

            def on_iteration(progress: dict[str, Any]) -> bool:
                state["cpu_seconds"] = progress["cpu_seconds"]
                if progress["cpu_seconds"] >= state["next_report"]:
                    state["next_report"] += args.report_every
                    state["report"] += 1
                    value = progress["mean_return"]
                    trial.report(0.0 if math.isnan(value) else value, state["report"])
                    if trial.should_prune():
                        state["pruned"] = True
                        return True
                return progress["cpu_seconds"] >= args.trial_cpu_seconds

            with contextlib.redirect_stdout(sys.stderr):
                summary = preset.train(run_args, callback=on_iteration)
        trial.set_user_attr("cpu_seconds", round(state.get("cpu_seconds", 0.0), 1))
        trial.set_user_attr("wall_seconds", round(summary["session_seconds"], 1))
        trial.set_user_attr("env_steps", summary["global_step"])
        value = summary["mean_return_last_episodes"]
        print(json_line({"trial": trial.number, "pruned": state["pruned"], "smoothed_return": value,
                          "env_steps": summary["global_step"], "params": params}), flush=True)
        if state["pruned"]:
            raise optuna.TrialPruned()
        return 0.0 if math.isnan(value) else value

    def after_trial(study: optuna.Study, _trial) -> None:
        write_tables(study, out_dir / name)

    if args.n_trials > 0:
        study.optimize(objective, n_trials=args.n_trials, callbacks=[after_trial])
    write_tables(study, out_dir / name)
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    if complete:
        print(json_line({"study": name, "trials": len(study.trials), "best_value": study.best_value,
                          "best_params": study.best_params}))
    print(f"wrote the study to {where} and its tables to {out_dir / name}/trials.csv, best.json", file=sys.stderr)
    return study


if __name__ == "__main__":
    run_script(lambda: main(tyro.cli(Args)))
