"""What scripts/run_pipeline.sh runs for one game: the game named on its command line (`breakout-py`, one of our GBC
games by profile name, or a user's .profile.json), its env id and output folder, which shipped agents
(agents/trained/manifest.json) each step needs and whether they are there, and the scripted player's reference
score. `plan` writes <out root>/<folder>/game.json (read back by agents.probing.games_report) and gives the shell
the plan as variable assignments.
"""

from __future__ import annotations

import json
import shlex
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import breakout_py
from gbc import GAME_ENV_IDS, PROFILED_ENV_ID
from agents.shipped import read_manifest
from breakout_py.baselines import play_games
from breakout_py.errors import UserError
from breakout_py.files import write_json
from gbc.baselines import SCRIPTED_PLAYERS, play_episodes
from gbc.profiles import PROFILE_SUFFIX, ProfileError, UnknownProfileError, get_profile

PYTHON_BREAKOUT = "breakout-py"
PYTHON_BREAKOUT_PLAYER = "follow_ball"  # breakout_py.baselines' scripted player
GAME_FILE = "game.json"
SCRIPTED_FILE = "scripted.json"


class GameNameError(UserError, ValueError):
    """A --game that names no game we know."""


def gbc_games() -> list[str]:
    """Our GBC games' profile names, in the order gbc registers their env ids."""
    return list(GAME_ENV_IDS)


def all_games() -> list[str]:
    """Every game --all-games runs: Python Breakout, then our GBC games."""
    return [PYTHON_BREAKOUT, *gbc_games()]


@dataclass
class GameTarget:
    """One game as the pipeline runs it."""

    game: str  # as given on the command line
    env_id: str
    env_kwargs: dict[str, Any]  # the profile for GBC-v0; {} otherwise
    profile: str  # profile name or file for the GBC steps; "" for Python Breakout
    folder: str  # under the pipeline's out root: the env id (GBC-v0-<profile name> for a user's profile)
    scripted_player: str  # gbc.baselines' player of the game; "" when it has none
    steps: dict[str, str] = field(default_factory=dict)  # step -> "run" or the line saying why it is skipped


def resolve_game(name: str) -> GameTarget:
    """The GameTarget of `name`, or GameNameError listing the names it accepts."""
    if name == PYTHON_BREAKOUT:
        return GameTarget(name, breakout_py.ENV_ID, {}, "", breakout_py.ENV_ID, PYTHON_BREAKOUT_PLAYER)
    try:
        profile = get_profile(name)
    except UnknownProfileError as err:
        raise GameNameError(f"--game {name!r} is no game we know: use one of {all_games()} or a path to a "
                            f"{PROFILE_SUFFIX} file") from err
    except (ProfileError, OSError, ValueError) as err:
        raise GameNameError(f"--game {name!r}: {err}") from err
    env_id = GAME_ENV_IDS.get(name)
    player = SCRIPTED_PLAYERS.get(profile.name)
    if env_id is not None:
        return GameTarget(name, env_id, {}, name, env_id, player.name if player else "")
    return GameTarget(name, PROFILED_ENV_ID, {"profile": name}, name, f"{PROFILED_ENV_ID}-{profile.name}", "")


def shipped_entries(target: GameTarget, trained_dir: Path | None = None) -> dict[str, dict[str, Any]]:
    """agent ("memory"/"pixel") -> manifest entry of the agents shipped for the target's env (and profile)."""
    manifest = read_manifest() if trained_dir is None else read_manifest(trained_dir)
    return {e["agent"]: e for e in manifest["agents"] if e["env_id"] == target.env_id
            and all(e.get("env_kwargs", {}).get(k) == v for k, v in target.env_kwargs.items())}


def _train_hint(agent: str, target: GameTarget) -> str:
    script = "02_train_memory.py" if agent == "memory" else "03_train_pixel.py"
    kwargs = f" --env-kwargs '{json.dumps(target.env_kwargs)}'" if target.env_kwargs else ""
    return (f"train it with scripts/{script} --env-id {target.env_id}{kwargs}, then ship it with "
            "scripts/evaluate.py --model runs/<run>/model.pt --ship")


def plan_steps(target: GameTarget, shipped: dict[str, dict[str, Any]]) -> dict[str, str]:
    """Each step of the pipeline: "run", or the one line saying why it is skipped."""
    gbc_step = "run" if target.profile else f"skipped: {target.env_id} is not a Game Boy game (no RAM to extract " \
                                             "or render)"
    steps = {"extract": gbc_step, "render": gbc_step,
             "scripted": "run" if target.scripted_player else f"skipped: no scripted player for {target.env_id}"}
    for agent in ("memory", "pixel"):
        steps[f"evaluate_{agent}"] = "run" if agent in shipped else \
            f"skipped: no shipped {agent} agent for {target.env_id} ({_train_hint(agent, target)})"
    steps["key_variables"] = steps["evaluate_memory"]
    steps["probe"] = steps["evaluate_pixel"]  # every game here has step 07's adapter (agents.probing.games)
    return steps


def plan(name: str, out_root: str | Path, trained_dir: Path | None = None) -> tuple[GameTarget, Path]:
    """The target of `name` with its steps, written to <out_root>/<folder>/game.json; (target, that folder)."""
    target = resolve_game(name)
    shipped = shipped_entries(target, trained_dir)
    target.steps = plan_steps(target, shipped)
    out = Path(out_root) / target.folder
    write_json(out / GAME_FILE, {**asdict(target), "shipped": {agent: {k: e.get(k) for k in (
        "file", "global_step", "train_seconds", "evaluation")} for agent, e in shipped.items()},
        "planned_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
    return target, out


def shell_plan(target: GameTarget, out: Path, shipped_greedy: dict[str, bool]) -> str:
    """The plan as shell assignments for run_pipeline.sh (eval'd): GAME_OUT, ENV_ID, ENV_KWARGS, PROFILE, and per
    step STEP_<NAME> ("run" or the skip line); GREEDY_<AGENT> is --greedy where the shipped agent was evaluated so."""
    values = {"GAME_OUT": str(out), "ENV_ID": target.env_id,
              "ENV_KWARGS": json.dumps(target.env_kwargs) if target.env_kwargs else "", "PROFILE": target.profile,
              **{f"STEP_{step.upper()}": line for step, line in target.steps.items()},
              **{f"GREEDY_{agent.upper()}": "--greedy" if shipped_greedy.get(agent) else ""
                 for agent in ("memory", "pixel")}}
    return "\n".join(f"{key}={shlex.quote(value)}" for key, value in values.items())


def plan_for_shell(name: str, out_root: str | Path) -> str:
    """plan() and shell_plan() together, as run_pipeline.sh asks for them."""
    target, out = plan(name, out_root)
    shipped = shipped_entries(target)
    return shell_plan(target, out, {agent: bool(e.get("evaluation", {}).get("greedy")) for agent, e in shipped.items()})


def scripted_reference(name: str, episodes: int, out: str | Path, seed: int = 0) -> dict[str, Any]:
    """The game's scripted player (gbc.baselines; breakout_py.baselines for Python Breakout) over `episodes`
    games (frame skip 4, as the shipped agents), written to `out` (JSON)."""
    target = resolve_game(name)
    if not target.scripted_player:
        raise UserError(f"{target.env_id} has no scripted player (games with one: {sorted(SCRIPTED_PLAYERS)})")
    if episodes < 1:
        raise UserError(f"--episodes must be at least 1, got {episodes}")
    start = time.perf_counter()
    if target.env_id == breakout_py.ENV_ID:
        scores = play_games(target.scripted_player, episodes, 4, seed).tolist()
    else:
        scores = [r["score"] for r in play_episodes(target.scripted_player, episodes, 4, seed,
                                                    game=get_profile(target.profile).name)]
    result = {"agent": target.scripted_player, "env_id": target.env_id, "episodes": episodes, "seed": seed,
              "frame_skip": 4, "mean_score": float(np.mean(scores)), "min_score": float(min(scores)),
              "max_score": float(max(scores)), "scores": [float(s) for s in scores],
              "seconds": round(time.perf_counter() - start, 1)}
    write_json(out, result)
    return result
