"""Step 06 on an env: the features of a memory agent's observation, held-out play states recorded by the agent
itself, and the run that ranks them (agents.probing.key_variables) and writes its files.

Features per env:
- Python Breakout (BreakoutPy-v0, obs_type "state"): breakout_py.STATE_NAMES, addresses `state[i]`, kind `scalar`
  or `array` (the bricks); its scripted player (breakout_py.baselines' ball-follower) reads FOLLOW_BALL_READS.
- A Game Boy env (gbc): obs_type "state": the state spec's features (name and kind from the spec: byte, word, or
  a member of an array), then its indexed inputs (kind `indexed`, written `0xC0A5[0xC2A5]`: the array's first
  byte, the index byte; named `body_x[head_index]` from symbols); obs_type "ram": every RAM byte. Each is named
  from the ROM's symbols file by address when there is one (`ball_x`, `bricks[5]`), else by its address
  (`2:0xD018` in CGB WRAM bank 2); the scripted player is gbc.baselines' for the profile.
- Any other env with flat observations: `obs[i]`, no symbols.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

import gymnasium as gym
import numpy as np
import torch
import torch.nn as nn

import breakout_py
from agents.probing.key_variables import (
    GRAD_X_INPUT,
    Feature,
    Importance,
    KeyVariableError,
    permutation_importance,
    score_top,
    write_key_variables,
)
from agents.checkpoint import check_state_spec, load_agent
from agents.shipped import load_shipped
from agents.trainer import make_vec_env
from breakout_py.baselines import FOLLOW_BALL_READS
from gbc import PROFILED_ENV_ID
from gbc.baselines import SCRIPTED_PLAYERS
from gbc.extract import is_game_boy_env_id
from gbc.hardware import HRAM_START, RAM_OBS_SIZE, WRAM_END, WRAM_START
from gbc.profiles import get_profile


@dataclass
class FeatureSet:
    """The features of an env's observation, and what scores them."""

    features: list[Feature]
    symbols_path: Optional[Path]  # the symbols file the names come from; None when there is none
    scripted_player: Optional[str]  # the game's scripted player, None when it has none
    scripted_reads: Optional[tuple[str, ...]]  # the variables it reads
    columns: Optional[list[np.ndarray]] = None  # each feature's observation columns; None: one column each


def obs_index_address(index: int) -> int:
    """The RAM address of an index of the `obs_type="ram"` observation (inverse of gbc.hardware.ram_obs_index)."""
    wram = WRAM_END - WRAM_START
    return WRAM_START + index if index < wram else HRAM_START + index - wram


class SymbolTable:
    """A ROM's symbols file by (CGB WRAM bank, address): the variable at an address, with the element index of a
    multi-byte one. Bank 0 is the address as the CPU sees it; a symbol in a switched bank ("cgb_wram_bank") may
    share its address with one of bank 1."""

    def __init__(self, variables: list[dict[str, Any]]):
        self._at: dict[tuple[int, int], tuple[str, int, int, str]] = {}
        for v in variables:
            bank = int(v.get("cgb_wram_bank") or 0)
            for offset in range(int(v["size"])):
                self._at[bank, int(v["address"]) + offset] = (v["name"], offset, int(v["size"]), v["kind"])

    def name(self, addresses: list[int], bank: int = 0) -> tuple[str, str, str]:
        """(label, symbol, symbol kind) of a feature over `addresses` (in `bank`); ("", "", "") when the first is
        unknown."""
        if (bank, addresses[0]) not in self._at:
            return "", "", ""
        symbol, offset, size, kind = self._at[bank, addresses[0]]
        whole = offset == 0 and len(addresses) == size and all(
            self._at.get((bank, a), ("",))[0] == symbol for a in addresses)
        return (symbol if whole or size == 1 else f"{symbol}[{offset}]"), symbol, kind


def _game_boy_features(env: gym.Env) -> FeatureSet:
    game = env.unwrapped
    profile = game.profile
    symbols_path = Path(profile.rom_path).with_suffix(".symbols.json")
    symbols = SymbolTable(json.loads(symbols_path.read_text())["variables"]) if symbols_path.is_file() else None
    inputs = None
    if game.obs_type == "state":
        spec = game.state_spec.data
        inputs = game.state_spec.columns  # several per feature with thermometer inputs
        group_kind = {g["name"]: g["kind"] for g in spec.get("groups", [])}
        columns = [(int(f.get("bank") or 0), [int(a, 16) for a in f["addresses"]],
                    group_kind.get(f["group"], "byte") if f["group"] else
                    ("word" if len(f["addresses"]) == 2 else "byte")) for f in spec["features"]]
    elif game.obs_type == "ram":
        columns = [(0, [obs_index_address(i)], "byte") for i in range(RAM_OBS_SIZE)]
    else:
        raise KeyVariableError(f"{profile.name}: key variables read a memory agent's observation (obs_type 'state' "
                               f"or 'ram'), not obs_type {game.obs_type!r}")
    features = []
    for bank, addresses, kind in columns:  # a CGB WRAM bank's byte is written 2:0xD018
        label, symbol, symbol_kind = symbols.name(addresses, bank) if symbols else ("", "", "")
        where = " ".join(f"{bank}:0x{a:04X}" if bank else f"0x{a:04X}" for a in addresses)
        features.append(Feature(label or where, where, symbol, kind, symbol_kind))
    if game.obs_type == "state":  # the spec's indexed inputs follow its features: array[index], e.g. body_x[head_index]
        for e in spec.get("indexed", []):
            base, index = int(e["base_address"], 16), int(e["index_address"], 16)
            where = f"0x{base:04X}[0x{index:04X}]"
            _, symbol, symbol_kind = symbols.name([base]) if symbols else ("", "", "")
            index_name = symbols.name([index])[0] if symbols else ""
            name = f"{symbol}[{index_name}]" if symbol and index_name else where
            features.append(Feature(name, where, symbol, "indexed", symbol_kind))
    player = SCRIPTED_PLAYERS.get(profile.name)
    return FeatureSet(features, symbols_path if symbols else None, player.name if player else None,
                      tuple(player.reads) if player else None, inputs)


def features_for_env(env_id: str, env_kwargs: dict[str, Any]) -> FeatureSet:
    """The features of the env's observation (see the module docstring)."""
    if env_id == breakout_py.ENV_ID:
        if env_kwargs.get("obs_type") != "state":
            raise KeyVariableError(f"{env_id} with {env_kwargs}: key variables read the memory agent's state vector "
                                   "(obs_type 'state'), not pixels")
        features = [Feature(name, f"state[{i}]", name, "array" if name.startswith("brick_") else "scalar")
                    for i, name in enumerate(breakout_py.STATE_NAMES)]
        return FeatureSet(features, None, "follow_ball", FOLLOW_BALL_READS)
    env = gym.make(env_id, **env_kwargs)
    try:
        if is_game_boy_env_id(env_id):
            return _game_boy_features(env)
        shape = env.observation_space.shape
    finally:
        env.close()
    if shape is None or len(shape) != 1:
        raise KeyVariableError(f"{env_id} gives observations of shape {shape}; key variables need flat ones")
    return FeatureSet([Feature(f"obs[{i}]", f"obs[{i}]", "", "value") for i in range(shape[0])], None, None, None)


ARTIFACTS = Path("artifacts/key_variables")


def load_memory_agent(agent: str, checkpoint: str, env_id: str,
                      profile: str = "") -> tuple[nn.Module, str, dict[str, Any], str, Path]:
    """(network, env id, env kwargs, source to show, default output folder) of a checkpoint file, or of the shipped
    agent `agent` for `env_id` when `checkpoint` is empty. `profile`: a user's .profile.json of the agent's own ROM
    (gbc.user_rom): the agent plays GBC-v0 with that profile, its observation otherwise unchanged (the state spec
    beside that ROM must be the one it trained on: check_state_spec)."""
    if checkpoint:
        network, payload = load_agent(checkpoint)
        path = Path(checkpoint)
        name = path.parent.name if path.stem in ("model", "checkpoint") else path.stem
        env_id, env_kwargs, source = payload["env_id"], payload["env_kwargs"], str(path)
    else:
        network, entry = load_shipped(agent=agent, env_id=env_id)
        name, env_kwargs, source = f"shipped_{agent}", entry["env_kwargs"], f"shipped {agent} agent {entry['path']}"
    env_kwargs = dict(env_kwargs)
    if profile:
        if not is_game_boy_env_id(env_id):
            raise KeyVariableError(f"--profile plays a Game Boy agent on a user's profile of its ROM; this agent was "
                                   f"trained on {env_id}")
        env_id, env_kwargs["profile"] = PROFILED_ENV_ID, profile
        return network.eval(), env_id, env_kwargs, source, ARTIFACTS / f"{env_id}-{get_profile(profile).name}" / name
    return network.eval(), env_id, env_kwargs, source, ARTIFACTS / env_id.replace("/", "-") / name


@torch.no_grad()
def record_play_states(agent: nn.Module, env_id: str, env_kwargs: dict[str, Any], states: int, keep_every: int,
                       num_envs: int, seed: int) -> tuple[np.ndarray, dict[str, Any]]:
    """`states` observations from the agent's own play (actions sampled from its policy), every `keep_every`-th
    step of `num_envs` parallel games seeded with `seed`; and how they were played (steps, games finished)."""
    if states < 2 or keep_every < 1 or num_envs < 1:
        raise KeyVariableError(f"need states >= 2, keep_every >= 1 and num_envs >= 1, got {states}, {keep_every}, "
                               f"{num_envs}")
    envs = make_vec_env(env_id, num_envs, env_kwargs)
    generator = torch.Generator().manual_seed(seed)
    kept: list[np.ndarray] = []
    steps = finished = 0
    try:
        check_state_spec(getattr(agent, "trained_state_spec", None), envs.metadata.get("state_spec"),
                         "the memory agent")
        obs, _ = envs.reset(seed=seed)
        while sum(len(block) for block in kept) < states:
            if steps % keep_every == 0:
                kept.append(np.asarray(obs, np.float32).copy())
            logits = agent.policy_logits(torch.as_tensor(obs))
            actions = torch.multinomial(torch.softmax(logits, -1), 1, generator=generator).squeeze(-1)
            obs, _, terminated, truncated, _ = envs.step(actions.numpy())
            finished += int(np.sum(terminated | truncated))
            steps += 1
    finally:
        envs.close()
    return np.concatenate(kept)[:states], {"agent_steps_per_game": steps, "games": num_envs,
                                           "games_finished": finished, "keep_every": keep_every, "seed": seed}


def grids_as_features(feature_set: FeatureSet, agent: nn.Module) -> FeatureSet:
    """A grid network's grids (agents.networks.GridAgent) as one feature each, kind "grid": the network convolves a
    grid's cells as one picture, so they are shuffled together and ranked once. One cell's shuffle moves a 252nd of
    Snake's board, and single cells ranked by the play sampled (agents/trained/results/key_variables.md). The
    feature sits where its first cell was, named by its symbol when known, else by its first and last address."""
    grids = getattr(agent, "config", {}).get("grids") or []
    if not grids:
        return feature_set
    grid_of = {int(c): g for g, grid in enumerate(grids) for c in grid["cells"] if c >= 0}
    columns = feature_set.columns or [np.array([k]) for k in range(len(feature_set.features))]
    members: dict[int, list[int]] = {}
    for k, cols in enumerate(columns):
        if int(cols[0]) in grid_of:
            members.setdefault(grid_of[int(cols[0])], []).append(k)
    first_of = {ks[0]: g for g, ks in members.items()}
    grouped = {k for ks in members.values() for k in ks}
    features, new_columns = [], []
    for k, (feature, cols) in enumerate(zip(feature_set.features, columns)):
        if k in first_of:
            cells = members[first_of[k]]
            where = f"{feature.addresses.split()[0]}-{feature_set.features[cells[-1]].addresses.split()[-1]}"
            features.append(Feature(feature.symbol or where, where, feature.symbol, "grid", feature.symbol_kind))
            new_columns.append(np.concatenate([columns[c] for c in cells]))
        elif k not in grouped:
            features.append(feature)
            new_columns.append(cols)
    return dataclasses.replace(feature_set, features=features, columns=new_columns)


def run_key_variables(agent: nn.Module, env_id: str, env_kwargs: dict[str, Any], out_dir: Path, source: str,
                      states: int = 1000, keep_every: int = 16, num_envs: int = 8, repeats: int = 5,
                      bootstrap: int = 1000, top: int = 10, seed: int = 1000,
                      log: Callable[[str], None] = print) -> tuple[Importance, dict[str, Any], dict[str, Path]]:
    """Step 06: record held-out play, rank the features, score the top ones, write the files in `out_dir`."""
    feature_set = grids_as_features(features_for_env(env_id, env_kwargs), agent)
    start = time.perf_counter()
    obs, play = record_play_states(agent, env_id, env_kwargs, states, keep_every, num_envs, seed)
    played = time.perf_counter()
    log(f"06: {len(obs)} held-out states from {play['games']} games x {play['agent_steps_per_game']} steps "
        f"({played - start:.1f} s)")
    result = permutation_importance(agent, obs, feature_set.features, repeats, bootstrap, seed, feature_set.columns)
    ranked = time.perf_counter()
    score = score_top(result, top, feature_set.scripted_reads, feature_set.symbols_path is not None)
    summary = {
        "source": source, "env_id": env_id, "env_kwargs": env_kwargs, "states": len(obs), "play": play,
        "repeats": repeats, "bootstrap": bootstrap,
        "policy_importance": "mean over states of KL(policy(x) || policy(x with the feature's columns shuffled over "
                             "states)), averaged over the repeats; interval: 95% bootstrap over states",
        "value_importance": "mean over states of |V(x) - V(x with the columns shuffled)|",
        "grad_x_input": GRAD_X_INPUT,
        "symbols": str(feature_set.symbols_path) if feature_set.symbols_path else None,
        "scripted_player": feature_set.scripted_player, **score,
        "seconds": {"play": round(played - start, 2), "importance": round(ranked - played, 2)},
    }
    title = f"{env_id} {Path(out_dir).name}: top {top} of {len(result.features)} inputs, {len(obs)} held-out states"
    written = write_key_variables(out_dir, result, summary, top, title)
    return result, summary, written


def _read_ranked(path: Path) -> list[dict[str, str]]:
    if not Path(path).is_file():
        raise KeyVariableError(f"no key variables at {path}: run scripts/06_key_variables.py first")
    with open(path, newline="") as f:
        return sorted(csv.DictReader(f), key=lambda row: int(row["rank"]))


def compare_by_address(hidden_csv: Path, symbols_csv: Path, top: int = 10) -> dict[str, Any]:
    """Two step-06 rankings (key_variables.csv) of one agent on one ROM, with its symbols file hidden and shown:
    the hidden run's top features matched to the symbols run's by address. Symbol names come from the symbols
    run's table, after the fact and only for this comparison."""
    hidden, shown = _read_ranked(hidden_csv), _read_ranked(symbols_csv)
    shown_at = {row["addresses"]: row for row in shown}
    hidden_top, shown_top = [r["addresses"] for r in hidden[:top]], [r["addresses"] for r in shown[:top]]
    return {
        "top": top,
        "overlap": len(set(hidden_top) & set(shown_top)),
        "same_order": hidden_top == shown_top,
        "named_by_address": all(r["feature"] == r["addresses"] and not r["symbol"] for r in hidden),
        "features": [len(hidden), len(shown)],
        "hidden_top": [{"rank": int(r["rank"]), "addresses": r["addresses"], "feature": r["feature"],
                        "symbols_run_rank": int(shown_at[r["addresses"]]["rank"]) if r["addresses"] in shown_at
                        else None, "symbol": shown_at.get(r["addresses"], {}).get("feature", "")}
                       for r in hidden[:top]],
        "missing_from_hidden_top": [shown_at[a]["feature"] for a in shown_top if a not in hidden_top],
    }
