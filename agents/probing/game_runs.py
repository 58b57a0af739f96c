"""What scripts/run_pipeline.sh runs for one game: the game named on its command line (`breakout-py`, one of our GBC
games by profile name, or a user's .profile.json), its env id and output folder, which shipped agents
(agents/trained/manifest.json) each step needs and whether they are there, and the scripted player's reference
score. `plan` writes <out root>/<folder>/game.json (read back by agents.probing.games_report) and gives the shell
the plan as variable assignments.

`--hide-symbols` runs one of our GBC games as a user's ROM (gbc.user_rom): its ROM copied to <folder>/rom/ with a
user profile and no symbols file, in <out root>/<env id>-hidden-symbols/. Steps 01 and 05 run on it as on any
user's ROM; step 06 plays the game's shipped memory agent on it, with the state spec the agent trained on copied
beside the ROM (a spec holds addresses, ranges and groups, no names: the agent's input, shipped with it); then
`compare_hidden` ranks the same agent with the symbols file (for the comparison only) and matches the two top tens
by address.
"""

from __future__ import annotations

import json
import re
import shlex
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import breakout_py
from gbc import GAME_ENV_IDS, PROFILED_ENV_ID
from agents.probing.key_variable_games import compare_by_address
from agents.shipped import SHIPPED_AGENTS, TRAINED_DIR, read_manifest
from breakout_py.baselines import play_games
from breakout_py.errors import UserError
from breakout_py.files import atomic_write, write_json
from gbc.baselines import SCRIPTED_PLAYERS, play_episodes
from gbc.extract.spec import StateSpec, default_spec_path
from gbc.profiles import PROFILE_SUFFIX, ROMS_DIR, ProfileError, UnknownProfileError, get_profile
from gbc.user_rom import hide_symbols, user_profile_name

PYTHON_BREAKOUT = "breakout-py"
PYTHON_BREAKOUT_PLAYER = "follow_ball"  # breakout_py.baselines' scripted player
GAME_FILE = "game.json"
SCRIPTED_FILE = "scripted.json"
HIDDEN_SUFFIX = "-hidden-symbols"  # the folder of a --hide-symbols run: <env id>-hidden-symbols
USER_ROM_DIR = "rom"  # under it: the user's copy of the ROM, its profile and the memory agent's spec
SYMBOLS_RUN_DIR = "symbols_key_variables"  # under it: step 06 with the symbols file, for the comparison only
HIDDEN_COMPARISON_FILE = "hidden_vs_symbols.json"


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
    symbols_hidden_of: str = ""  # --hide-symbols: our game's env id, whose shipped agents play the user's copy


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


def hidden_symbols_target(name: str, out_root: str | Path) -> GameTarget:
    """The GameTarget of our GBC game `name` run as a user's ROM (--hide-symbols); plan() writes its ROM folder."""
    if name not in gbc_games():
        raise GameNameError(f"--hide-symbols needs one of our GBC games {gbc_games()}, whose symbols file it hides, "
                            f"not {name!r} (a user's .profile.json has none: run it without --hide-symbols)")
    folder = f"{GAME_ENV_IDS[name]}{HIDDEN_SUFFIX}"
    profile = Path(out_root) / folder / USER_ROM_DIR / f"{user_profile_name(name)}{PROFILE_SUFFIX}"
    return GameTarget(name, PROFILED_ENV_ID, {"profile": str(profile)}, str(profile), folder, "",
                      symbols_hidden_of=GAME_ENV_IDS[name])


def shipped_entries(target: GameTarget, trained_dir: Path | None = None) -> dict[str, dict[str, Any]]:
    """agent (one of SHIPPED_AGENTS) -> manifest entry of the agents shipped for the target's env (and profile); for a
    --hide-symbols target, those of the game whose symbols are hidden."""
    manifest = read_manifest() if trained_dir is None else read_manifest(trained_dir)
    if target.symbols_hidden_of:
        return {e["agent"]: e for e in manifest["agents"] if e["env_id"] == target.symbols_hidden_of}
    return {e["agent"]: e for e in manifest["agents"] if e["env_id"] == target.env_id
            and all(e.get("env_kwargs", {}).get(k) == v for k, v in target.env_kwargs.items())}


def _train_hint(agent: str, target: GameTarget) -> str:
    script = "03_train_pixel.py" if agent == "pixel" else "02_train_memory.py"
    env_kwargs = {**target.env_kwargs, **({"obs_type": "ram"} if agent == "memory_ram" else {})}
    kwargs = f" --env-kwargs '{json.dumps(env_kwargs)}'" if env_kwargs else ""
    return (f"train it with scripts/{script} --env-id {target.env_id}{kwargs}, then ship it with "
            "scripts/evaluate.py --model runs/<run>/model.pt --ship")


def plan_steps(target: GameTarget, shipped: dict[str, dict[str, Any]]) -> dict[str, str]:
    """Each step of the pipeline: "run", or the one line saying why it is skipped."""
    gbc_step = "run" if target.profile else f"skipped: {target.env_id} is not a Game Boy game (no RAM to extract " \
                                             "or render)"
    steps = {"extract": gbc_step, "render": gbc_step,
             "scripted": "run" if target.scripted_player else f"skipped: no scripted player for {target.env_id}"}
    for agent in SHIPPED_AGENTS:
        steps[f"evaluate_{agent}"] = "run" if agent in shipped else \
            f"skipped: no shipped {agent} agent for {target.env_id} ({_train_hint(agent, target)})"
    if not target.profile:
        steps["evaluate_memory_ram"] = f"skipped: {target.env_id} has no RAM (its memory agent reads the state vector)"
    steps["key_variables"] = steps["evaluate_memory"]
    steps["key_variables_ram"] = steps["evaluate_memory_ram"]
    steps["probe"] = steps["evaluate_pixel"]  # every game here has step 07's adapter (agents.probing.games)
    if target.symbols_hidden_of:
        of = f"--game {target.game}'s"
        steps.update({f"evaluate_{agent}": f"skipped: symbols hidden, this run ranks key variables; the "
                                           f"evaluations are {of}" for agent in SHIPPED_AGENTS})
        steps.update(scripted="skipped: a user's ROM has no scripted player (it reads variables by name)",
                     key_variables_ram=f"skipped: symbols hidden, this run ranks the state agent's key variables; "
                                       f"the raw-RAM agent's are {of}",
                     probe=f"skipped: symbols hidden, this run ranks key variables; steps 07-08 are {of}")
    steps["compare_hidden"] = steps["key_variables"] if target.symbols_hidden_of else \
        "skipped: the symbols file is not hidden (--hide-symbols)"
    return steps


def _copy_agent_spec(entry: dict[str, Any], profile: Path) -> None:
    """The state spec a shipped memory agent trained on, copied beside the user's ROM, where obs_type="state" reads
    it (step 06 checks its fingerprint against the agent's record)."""
    if not entry.get("state_spec"):
        return  # a raw-RAM agent: its observation needs no spec
    source = Path(entry["state_spec"]["path"])
    source = source if source.is_absolute() else ROMS_DIR.parent / source
    user_rom = get_profile(profile).rom_path
    StateSpec.load(source)  # a clear error when it is missing or malformed
    atomic_write(default_spec_path(user_rom), source.read_bytes())


def plan(name: str, out_root: str | Path, trained_dir: Path | None = None,
         hide_symbols_file: bool = False) -> tuple[GameTarget, Path]:
    """The target of `name` with its steps, written to <out_root>/<folder>/game.json; (target, that folder). With
    `hide_symbols_file`, also the user's copy of the ROM (and the memory agent's spec beside it)."""
    target = hidden_symbols_target(name, out_root) if hide_symbols_file else resolve_game(name)
    shipped = shipped_entries(target, trained_dir)
    target.steps = plan_steps(target, shipped)
    out = Path(out_root) / target.folder
    if hide_symbols_file:
        hide_symbols(name, out / USER_ROM_DIR)
        if "memory" in shipped:
            _copy_agent_spec(shipped["memory"], Path(target.profile))
    trained = Path(trained_dir or TRAINED_DIR)
    write_json(out / GAME_FILE, {**asdict(target), "shipped": {agent: {
        **{k: e.get(k) for k in ("file", "global_step", "train_seconds", "evaluation")},
        "curve": str(trained / e["curve"]) if e.get("curve") else None} for agent, e in shipped.items()},
        "planned_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
    return target, out


def shell_plan(target: GameTarget, out: Path, shipped_greedy: dict[str, bool]) -> str:
    """The plan as shell assignments for run_pipeline.sh (eval'd): GAME_OUT, ENV_ID, ENV_KWARGS, PROFILE,
    SYMBOLS_HIDDEN_OF (our game's env id under --hide-symbols, else empty), and per step STEP_<NAME> ("run" or the
    skip line); GREEDY_<AGENT> is --greedy where the shipped agent was evaluated so."""
    values = {"GAME_OUT": str(out), "ENV_ID": target.env_id,
              "ENV_KWARGS": json.dumps(target.env_kwargs) if target.env_kwargs else "", "PROFILE": target.profile,
              "SYMBOLS_HIDDEN_OF": target.symbols_hidden_of,
              **{f"STEP_{step.upper()}": line for step, line in target.steps.items()},
              **{f"GREEDY_{agent.upper()}": "--greedy" if shipped_greedy.get(agent) else ""
                 for agent in SHIPPED_AGENTS}}
    return "\n".join(f"{key}={shlex.quote(value)}" for key, value in values.items())


def plan_for_shell(name: str, out_root: str | Path, hide_symbols_file: bool = False) -> str:
    """plan() and shell_plan() together, as run_pipeline.sh asks for them."""
    target, out = plan(name, out_root, hide_symbols_file=hide_symbols_file)
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


def compare_hidden(name: str, out_root: str | Path) -> dict[str, Any]:
    """The --hide-symbols run of our game `name` against the symbols file: step 06's top ten of the two runs (its
    key_variables/ and symbols_key_variables/) matched by address, and whether step 01 on the user's copy made the
    observation the memory agent trained on; written to <folder>/hidden_vs_symbols.json."""
    target = hidden_symbols_target(name, out_root)
    out = Path(out_root) / target.folder
    comparison = compare_by_address(out / "key_variables" / "key_variables.csv",
                                    out / SYMBOLS_RUN_DIR / "key_variables.csv")
    agent_spec = default_spec_path(get_profile(target.profile).rom_path)
    extracted = out / "extract" / f"{user_profile_name(name)}.state_spec.json"
    if extracted.is_file() and agent_spec.is_file():
        specs = {"user's 01": StateSpec.load(extracted), "the agent's": StateSpec.load(agent_spec)}
        kept = {int(a, 16) for f in specs["user's 01"].data["features"] for a in f["addresses"]}
        top_bytes = [int(a, 16) for row in comparison["hidden_top"]  # "0xC0A5[0xC2A5]": an indexed input's two
                     for a in re.findall(r"0x[0-9A-Fa-f]+", row["addresses"])]  # (array start, index byte)
        comparison["state_spec"] = {
            "same_observation": len({s.fingerprint["sha256"] for s in specs.values()}) == 1,
            "features": {which: s.size for which, s in specs.items()},
            "top_bytes_kept_by_users_01": [sum(b in kept for b in top_bytes), len(top_bytes)],
            "note": "the agent reads the spec it trained on; a user's 01 records random play only (no scripted "
                    "player, no seed variable), so its kept bytes and ranges may differ"}
    write_json(out / HIDDEN_COMPARISON_FILE, {"game": name, "symbols_hidden_of": target.symbols_hidden_of,
                                              **comparison})
    return comparison
