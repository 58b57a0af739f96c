"""Can an agent's network, on that agent's input, play like the game's scripted player? Behaviour cloning says.

    .venv/bin/python scripts/clone_scripted.py --env-id GBCRunner-v0                 # the memory agent's MLP
    .venv/bin/python scripts/clone_scripted.py --env-id GBCSnake-v0 --agent memory_ram
    .venv/bin/python scripts/clone_scripted.py --env-id GBCPong-v0 --agent pixel --epochs 10

Records --games games of the scripted player (gbc.baselines; it reads the RAM) taking a random action with
probability --noise, fits a fresh network of the agent's preset (agents/presets.py: the memory agent's MLP on the
extracted state, on raw RAM, or the pixel agent's CNN on its frames) to the script's actions by cross-entropy
(agents/imitation.py), and plays the clone and the scripted player on the same --eval-episodes seeds (actions
sampled, as the shipped agents' evaluations). A clone that plays near the script says the input and the network
suffice and the trained agent's gap is PPO's; a clone that cannot fit or play says the input or network limits it.
Writes artifacts/clone/<env id>__<agent>[__<network>].json and prints where.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import gymnasium as gym
import numpy as np
import tyro

from agents.cpu_threads import use_torch_threads
from agents.evaluation import evaluate_agent, summarise_returns
from agents.imitation import fit_policy, scripted_demonstrations
from agents.networks import build_network
from agents.presets import PRESETS
from agents.trainer import network_for_space, with_grid_layouts
from breakout_py.errors import UserError, run_script
from breakout_py.files import json_line, write_json
from gbc.baselines import agent_names, play_episodes

AGENT_PRESETS = {"memory": ("memory", None), "memory_ram": ("memory", {"obs_type": "ram"}), "pixel": ("pixel", None)}


@dataclass
class Args:
    env_id: str = "GBCRunner-v0"
    """one of our Game Boy games (each has a scripted player)"""
    agent: str = "memory"
    """whose network and input: memory (MLP on the extracted state), memory_ram (MLP on the raw RAM) or pixel (CNN
    on stacked frames), each as its training preset builds it"""
    env_kwargs: str = ""
    """JSON object of env kwargs instead of the agent's preset for this env id"""
    network: str = ""
    """the memory agent's network (mlp or grid, as 02_train_memory.py --network) instead of the preset's"""
    games: int = 300
    """scripted games to record (the last tenth held out to measure accuracy)"""
    noise: float = 0.1
    """probability of a random action in the recorded games, so the clone sees states off the script's path"""
    max_steps: int = 1_500
    """agent steps per recorded game at most"""
    epochs: int = 100
    """passes over the recorded states"""
    learning_rate: float = 1e-3
    """Adam learning rate"""
    eval_episodes: int = 20
    """games the clone and the scripted player each play (up to the env's time limit)"""
    eval_seed: int = 20_000
    """env seed of the first evaluation game (the shipped agents' evaluations use 20000)"""
    seed: int = 0
    """seed of the recorded games, the noise, the network's initial weights and the minibatches"""
    torch_threads: int = 0
    """torch CPU threads (0: automatic, agents/cpu_threads.py)"""
    out_dir: str = "artifacts/clone"
    """folder for <env id>__<agent>.json"""


def main(args: Args) -> dict:
    if args.agent not in AGENT_PRESETS:
        raise UserError(f"--agent must be one of {sorted(AGENT_PRESETS)}, got {args.agent!r}")
    preset_name, kwargs_override = AGENT_PRESETS[args.agent]
    if args.network and preset_name != "memory":
        raise UserError(f"--network picks a memory agent's network; the {args.agent} agent has its CNN: drop it")
    preset = PRESETS[preset_name]
    env_kwargs = json.loads(args.env_kwargs) if args.env_kwargs else (
        kwargs_override or preset.default_env_kwargs(args.env_id))
    use_torch_threads(args.torch_threads, training_cnn=preset_name == "pixel")
    start = time.perf_counter()
    demos = scripted_demonstrations(args.env_id, env_kwargs, args.games, args.noise, args.seed, args.max_steps)
    recorded_s = time.perf_counter() - start

    probe_env = gym.make(args.env_id, **env_kwargs)
    preset_args = preset.args_type(env_id=args.env_id, **({"network": args.network} if args.network else {}))
    network = with_grid_layouts(preset.network(preset_args), args.env_id, env_kwargs)
    config = network_for_space(network, probe_env.observation_space, probe_env.action_space)
    game = probe_env.unwrapped.profile.name
    probe_env.close()
    agent = build_network(config)
    fit = fit_policy(agent, demos, args.epochs, learning_rate=args.learning_rate, seed=args.seed)
    fitted_s = time.perf_counter() - start - recorded_s

    clone = evaluate_agent(agent.eval(), args.env_id, env_kwargs, args.eval_episodes, args.eval_seed)
    script_name = agent_names(game)[1]
    scripted = np.array([r["return"] for r in play_episodes(script_name, args.eval_episodes,
                                                            env_kwargs.get("frame_skip", 4), args.eval_seed,
                                                            game=game)])
    shares = np.bincount(demos.actions, minlength=config["n_actions"]) / len(demos.actions)
    result = {"env_id": args.env_id, "agent": args.agent, "env_kwargs": env_kwargs, "network": config,
              "scripted_player": script_name, "games": args.games, "noise": args.noise, "max_steps": args.max_steps,
              "epochs": args.epochs, "seed": args.seed, "recorded_states": int(len(demos.actions)),
              "action_shares": [round(float(s), 4) for s in shares],
              "recorded_mean_return": round(float(demos.returns.mean()), 2), **fit,
              "clone": summarise_returns(clone["returns"]), "scripted": summarise_returns(scripted),
              "eval_seed": args.eval_seed, "record_seconds": round(recorded_s, 1), "fit_seconds": round(fitted_s, 1),
              "seconds": round(time.perf_counter() - start, 1)}
    name = f"{args.env_id}__{args.agent}" + (f"__{args.network}" if args.network else "")
    path = write_json(Path(args.out_dir) / f"{name}.json", result, indent=1)
    print(json_line(result), flush=True)
    print(f"wrote {path}", flush=True)
    return result


if __name__ == "__main__":
    run_script(lambda: main(tyro.cli(Args)))
