"""Train the memory agent: PPO with an MLP on the env's state/RAM vector (default: Python Breakout's state).

    .venv/bin/python scripts/02_train_memory.py                       # BreakoutPy-v0, 24M steps
    .venv/bin/python scripts/02_train_memory.py --env-id CartPole-v1 --total-timesteps 150000 --num-envs 4
    .venv/bin/python scripts/02_train_memory.py --run-name NAME        # resume runs/<env>__memory__s<seed>__NAME

The defaults (PPO settings, network, env kwargs per env id) are `MemoryArgs` and `MEMORY_ENV_KWARGS` in
agents/presets.py, where scripts/tune.py and scripts/bench_train.py read them too; `--help` lists them.

Writes runs/<env_id>__memory__s<seed>__<run_name or timestamp>/: TensorBoard scalars (CleanRL names), config.json,
checkpoints/checkpoint.pt, model.pt (final) and videos/*.mp4, then prints the run's summary as one JSON line.
Ctrl-C (or SIGTERM) saves a checkpoint first: the same command resumes from it.
"""

from __future__ import annotations

import tyro

from agents.presets import MemoryArgs as Args
from agents.presets import train_memory
from breakout_py.errors import run_script
from breakout_py.files import json_line


def main(args: Args) -> dict:
    summary = train_memory(args)
    print(json_line(summary), flush=True)
    return summary


if __name__ == "__main__":
    run_script(lambda: main(tyro.cli(Args)))
