"""Steps per second of Python Breakout (batched and single env) beside ALE's Breakout, one JSON line each.

Every measurement steps random actions (drawn beforehand) for `seconds` of wall time after a warm-up.
ALE's `ALE/Breakout-v5` (RAM observations, a single env, as a user would make it) is measured before and
after ours; the speed-up lines divide by the mean of the two. The machine may be shared: each line
carries the 1-minute load average so that noisy figures can be spotted.
GBCBreakout-v0 (the Game Boy Color ROM through PyBoy, frame skip 4 as ALE's v5) is timed too unless
--no-include-gbc: one process with RAM and pixel observations, and its batched env (--gbc-batched-envs envs
on 1 and on 2 worker processes); its ratio line divides its one-process RAM rate by ALE's (target: >= 1).
--gbc-env-ids GBCBreakout-v0 GBCSnake-v0 times each of those GBC envs the same way, a ratio line each.
Run: python scripts/bench_envs.py [--num-envs 1 16 64 256 1024] [--seconds 3]
"""

from __future__ import annotations

from dataclasses import dataclass, field

import gymnasium as gym
import numpy as np
import tyro

import breakout_py
from breakout_py.benchmark import bench_ale, bench_single, bench_vector, emit
from breakout_py.errors import UserError, run_script

TARGETS = {"state": 100.0, "pixels": 20.0}  # required speed-up over ALE (RAM obs) at TARGET_NUM_ENVS
TARGET_NUM_ENVS = 256


@dataclass
class Args:
    num_envs: list[int] = field(default_factory=lambda: [1, 16, 64, 256, 1024])
    """sizes N of the batched env"""
    seconds: float = 3.0
    """wall time per measurement"""
    obs_size: int = 84
    """pixel observation size"""
    seed: int = 0
    include_ale: bool = True
    """also measure ALE/Breakout-v5 (needs ale-py)"""
    include_gbc: bool = True
    """also measure GBCBreakout-v0 (needs roms/breakout/breakout.gb)"""
    gbc_batched_envs: int = 8
    """envs in the batched GBC env, timed on 1 and on 2 worker processes"""
    gbc_env_ids: list[str] = field(default_factory=lambda: ["GBCBreakout-v0"])
    """our GBC envs to time (e.g. GBCBreakout-v0 GBCSnake-v0)"""


def bench_vector_breakout(num_envs: int, obs_type: str, obs_size: int, seconds: float, seed: int) -> dict:
    envs = gym.make_vec(
        breakout_py.ENV_ID,
        num_envs=num_envs,
        vectorization_mode="vector_entry_point",
        obs_type=obs_type,
        obs_size=obs_size,
    )
    return {"env": breakout_py.ENV_ID, "impl": "vector", "obs_type": obs_type, "obs_size": obs_size,
            **bench_vector(envs, seconds, seed)}


def bench_gbc(args: Args, env_id: str) -> dict[str, float]:
    """A GBC env on one process and batched; returns the one-process rate per observation type."""
    from gbc import bench as gbc_bench  # PyBoy is imported only when the GBC env is measured

    rates = {}
    for obs_type in ("ram", "pixels"):
        record = gbc_bench.bench_gbc(obs_type, args.seconds, seed=args.seed, env_id=env_id)
        rates[obs_type] = record["steps_per_s"]
        emit(record)
        for workers in (1, 2):
            emit(gbc_bench.bench_gbc_batched(obs_type, args.gbc_batched_envs, workers, args.seconds, seed=args.seed,
                                             env_id=env_id))
    return rates


def main(args: Args) -> None:
    if args.seconds <= 0 or any(n <= 0 for n in args.num_envs):
        raise UserError(f"--seconds and every --num-envs must be positive, got {args.seconds} and {args.num_envs}")
    if args.include_gbc and args.gbc_batched_envs < 2:
        raise UserError(f"--gbc-batched-envs must be at least 2 (timed on 2 workers), got {args.gbc_batched_envs}")

    def measure_ale() -> float:
        record = bench_ale("ram", args.seconds, args.seed)
        emit(record)
        return record["steps_per_s"]

    ale_rates = [measure_ale()] if args.include_ale else []

    for obs_type in ("state", "pixels"):
        env = gym.make(breakout_py.ENV_ID, obs_type=obs_type, obs_size=args.obs_size)
        emit({"env": breakout_py.ENV_ID, "obs_type": obs_type, **bench_single(env, args.seconds, args.seed)})

    vector_rates = {}
    for obs_type in ("state", "pixels"):
        for num_envs in args.num_envs:
            record = bench_vector_breakout(num_envs, obs_type, args.obs_size, args.seconds, args.seed)
            vector_rates[obs_type, num_envs] = record["steps_per_s"]
            emit(record)

    gbc_rates = {env_id: bench_gbc(args, env_id) for env_id in args.gbc_env_ids} if args.include_gbc else {}

    if not args.include_ale:
        return
    ale_rates.append(measure_ale())
    ale_mean = float(np.mean(ale_rates))
    for obs_type, target in TARGETS.items():
        if (obs_type, TARGET_NUM_ENVS) not in vector_rates:
            continue
        ratio = vector_rates[obs_type, TARGET_NUM_ENVS] / ale_mean
        emit({"metric": "speedup_vs_ale_ram", "obs_type": obs_type, "num_envs": TARGET_NUM_ENVS,
              "obs_size": args.obs_size, "ratio": round(ratio, 1), "target": target, "meets_target": ratio >= target,
              "ale_steps_per_s_mean": round(ale_mean, 1)})
    for env_id, rates in gbc_rates.items():
        ratio = rates["ram"] / ale_mean
        emit({"metric": "gbc_single_vs_ale_ram", "gbc_env": env_id, "obs_type": "ram", "num_envs": 1,
              "ratio": round(ratio, 2), "target": 1.0, "meets_target": ratio >= 1.0,
              "ale_steps_per_s_mean": round(ale_mean, 1)})


if __name__ == "__main__":
    run_script(lambda: main(tyro.cli(Args)))
