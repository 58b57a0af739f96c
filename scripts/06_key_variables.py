"""Key variables: which inputs the trained memory agent's policy and value depend on, on held-out play states.

    .venv/bin/python scripts/06_key_variables.py                                   # shipped memory agent, BreakoutPy-v0
    .venv/bin/python scripts/06_key_variables.py --env-id GBCBreakout-v0           # shipped memory agent, GBC Breakout
    .venv/bin/python scripts/06_key_variables.py --checkpoint runs/<run>/model.pt  # any memory agent
    .venv/bin/python scripts/06_key_variables.py --env-id GBCPong-v0 --profile DIR/user_pong.profile.json
                                     # the same agent on a user's copy of its ROM (scripts/run_pipeline.sh --hide-symbols)

Plays the agent (actions sampled from its policy, a seed of its own) and keeps --states observations; shuffles each
feature's column over those states and measures how far the policy (KL) and the value move, with a bootstrap
interval over states, plus gradient x input (agents/probing/key_variables.py). Features: Python Breakout's state
vector, a Game Boy game's state-spec features or RAM bytes, named from the ROM's symbols file when there is one.
Writes to --out-dir (default artifacts/key_variables/<env id>/<agent>/): key_variables.csv (every feature, ranked by
policy importance), key_variables.json (settings, the top features and their score against the symbols file and
the scripted player's variables), key_variables.png (the top features with intervals). Prints one line per top
feature and where it wrote.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
import tyro

from agents.probing.key_variable_games import load_memory_agent, run_key_variables
from breakout_py.errors import run_script
from breakout_py.files import json_line


@dataclass
class Args:
    """Which memory agent, how many held-out states, and where the results go."""

    agent: str = "memory"
    """the shipped agent (agents/trained/manifest.json) to rank the inputs of, when --checkpoint is empty"""
    checkpoint: str = ""
    """a memory agent's checkpoint (model.pt / checkpoint.pt); its env id and kwargs come from it"""
    env_id: str = "BreakoutPy-v0"
    """env of the shipped agent when --checkpoint is empty"""
    profile: str = ""
    """a user's .profile.json of the agent's own ROM: the agent plays GBC-v0 with it (the state spec beside that ROM
    must be the agent's); without a symbols file beside the ROM, features are named by address"""
    states: int = 1000
    """held-out play states"""
    keep_every: int = 16
    """keep every k-th agent step of each game: consecutive steps are near-duplicates, and a longer stride
    reaches later phases of the game (fewer bricks, a faster ball)"""
    num_envs: int = 8
    """games played in parallel"""
    repeats: int = 5
    """shuffles per feature"""
    bootstrap: int = 1000
    """bootstrap resamples of the states for the intervals"""
    top: int = 10
    """features printed, drawn and scored"""
    seed: int = 1000
    """seed of play, shuffles and bootstrap (the shipped agents trained with seeds below 10)"""
    out_dir: str = ""
    """where the results go; empty: artifacts/key_variables/<env id>/<agent>/"""
    torch_threads: int = 1
    """torch CPU threads"""


def main(args: Args) -> Path:
    torch.set_num_threads(args.torch_threads)
    agent, env_id, env_kwargs, source, default_dir = load_memory_agent(args.agent, args.checkpoint, args.env_id,
                                                                            args.profile)
    out_dir = Path(args.out_dir) if args.out_dir else default_dir
    result, summary, written = run_key_variables(agent, env_id, env_kwargs, out_dir, source, args.states,
                                                 args.keep_every, args.num_envs, args.repeats, args.bootstrap,
                                                 args.top, args.seed)
    for k in result.order()[:args.top]:
        f = result.features[k]
        print(f"06: #{result.rank[k]} {f.name} ({f.addresses}, {f.kind}{', ' + f.symbol_kind if f.symbol_kind else ''})"
              f" policy {result.policy[k]:.4g} [{result.ci_low[k]:.4g}, {result.ci_high[k]:.4g}]"
              f" value {result.value[k]:.4g} grad x input {result.grad_x_input[k]:.4g}")
    scores = {key: summary[key] for key in ("state_in_top", "screen_in_top", "scripted_reads_all_in_top",
                                            "scripted_reads_missing") if key in summary}
    print(f"06: wrote {written['csv']}, {written['json'].name}, {written['png'].name}")
    print(json_line({"out_dir": out_dir, "env_id": env_id, "states": summary["states"], **scores,
                     "seconds": summary["seconds"]}))
    return out_dir


if __name__ == "__main__":
    run_script(lambda: main(tyro.cli(Args)))
