"""Train the memory agent: PPO with an MLP on the env's state/RAM vector (default: Python Breakout's state).

    .venv/bin/python scripts/02_train_memory.py                       # BreakoutPy-v0, 3M steps
    .venv/bin/python scripts/02_train_memory.py --env-id CartPole-v1 --total-timesteps 150000 --num-envs 4
    .venv/bin/python scripts/02_train_memory.py --run-name NAME        # resume runs/<env>__memory__s<seed>__NAME

Writes runs/<env_id>__memory__s<seed>__<run_name or timestamp>/: TensorBoard scalars (CleanRL names), config.json,
checkpoints/checkpoint.pt, model.pt (final) and videos/*.mp4.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import tyro

from agents.trainer import PPOArgs, train


@dataclass
class Args(PPOArgs):
    env_id: str = "BreakoutPy-v0"
    """a registered Gymnasium env id with a Discrete action space and a flat observation"""
    env_kwargs: str = "{}"
    """JSON object of env keyword arguments (BreakoutPy-v0 defaults to obs_type "state")"""
    total_timesteps: int = 3_000_000
    """env steps to train for (all sub-envs together)"""
    num_envs: int = 8
    """parallel sub-envs"""
    num_steps: int = 128
    """steps per sub-env in each rollout"""
    learning_rate: float = 2.5e-4
    """Adam learning rate (eps 1e-5)"""
    ent_coef: float = 0.01
    """entropy bonus coefficient"""
    torch_threads: int = 1
    """torch CPU threads: the 64-unit MLP gains nothing from a second thread (scripts/bench_train.py)"""
    hidden_sizes: tuple[int, ...] = field(default_factory=lambda: (64, 64))
    """widths of the actor's and the critic's hidden layers"""


def main(args: Args) -> dict:
    return train(args, agent_name="memory", network={"type": "mlp", "hidden_sizes": list(args.hidden_sizes)})


if __name__ == "__main__":
    print(json.dumps(main(tyro.cli(Args))))
