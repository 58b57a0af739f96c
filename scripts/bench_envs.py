"""Steps per second of Python Breakout (batched and single env) beside ALE's Breakout, one JSON line each.

Every measurement steps random actions (drawn beforehand) for `seconds` of wall time after a warm-up.
ALE's `ALE/Breakout-v5` (RAM observations, a single env, as a user would make it) is measured before and
after ours; the speed-up lines divide by the mean of the two. The machine may be shared: each line
carries the 1-minute load average so that noisy figures can be spotted.
Run: python scripts/bench_envs.py [--num-envs 1 16 64 256 1024] [--seconds 3]
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field

import gymnasium as gym
import numpy as np
import tyro

import breakout_py

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


def emit(record: dict) -> None:
    record["load_avg_1m"] = round(os.getloadavg()[0], 2)
    print(json.dumps(record), flush=True)


def time_steps(step, actions: np.ndarray, seconds: float) -> tuple[int, float]:
    """Calls step(action) cycling through `actions` for about `seconds`; returns (calls, elapsed)."""
    for action in actions[:10]:
        step(action)
    calls = 0
    start = time.perf_counter()
    while True:
        for action in actions:
            step(action)
        calls += len(actions)
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return calls, elapsed


def bench_single(make, n_actions: int, seconds: float, seed: int) -> tuple[float, int, float]:
    env = make()
    env.reset(seed=seed)
    actions = np.random.default_rng(seed).integers(0, n_actions, size=200)

    def step(action):
        _, _, terminated, truncated, _ = env.step(action)
        if terminated or truncated:
            env.reset()

    calls, elapsed = time_steps(step, actions, seconds)
    env.close()
    return calls / elapsed, calls, elapsed


def bench_vector(num_envs: int, obs_type: str, obs_size: int, seconds: float, seed: int) -> tuple[float, int, float]:
    envs = gym.make_vec(
        breakout_py.ENV_ID,
        num_envs=num_envs,
        vectorization_mode="vector_entry_point",
        obs_type=obs_type,
        obs_size=obs_size,
    )
    envs.reset(seed=seed)
    actions = np.random.default_rng(seed).integers(0, 3, size=(20, num_envs))
    calls, elapsed = time_steps(envs.step, actions, seconds)  # the vector env resets its games itself
    envs.close()
    return calls * num_envs / elapsed, calls * num_envs, elapsed


def bench_ale(seconds: float, seed: int) -> float:
    import ale_py

    gym.register_envs(ale_py)
    rate, steps, elapsed = bench_single(lambda: gym.make("ALE/Breakout-v5", obs_type="ram"), 4, seconds, seed)
    emit({"env": "ALE/Breakout-v5", "impl": "single", "obs_type": "ram", "num_envs": 1,
          "steps_per_s": round(rate, 1), "steps": steps, "seconds": round(elapsed, 3)})
    return rate


def main(args: Args) -> None:
    if args.seconds <= 0 or any(n <= 0 for n in args.num_envs):
        raise ValueError(f"seconds and every --num-envs must be positive, got {args.seconds} and {args.num_envs}")
    ale_rates = [bench_ale(args.seconds, args.seed)] if args.include_ale else []

    for obs_type in ("state", "pixels"):
        rate, steps, elapsed = bench_single(
            lambda: gym.make(breakout_py.ENV_ID, obs_type=obs_type, obs_size=args.obs_size), 3, args.seconds, args.seed
        )
        emit({"env": breakout_py.ENV_ID, "impl": "single", "obs_type": obs_type, "num_envs": 1,
              "steps_per_s": round(rate, 1), "steps": steps, "seconds": round(elapsed, 3)})

    vector_rates = {}
    for obs_type in ("state", "pixels"):
        for num_envs in args.num_envs:
            rate, steps, elapsed = bench_vector(num_envs, obs_type, args.obs_size, args.seconds, args.seed)
            vector_rates[obs_type, num_envs] = rate
            emit({"env": breakout_py.ENV_ID, "impl": "vector", "obs_type": obs_type, "num_envs": num_envs,
                  "obs_size": args.obs_size, "steps_per_s": round(rate, 1), "steps": steps,
                  "seconds": round(elapsed, 3)})

    if not args.include_ale:
        return
    ale_rates.append(bench_ale(args.seconds, args.seed))
    ale_rate = float(np.mean(ale_rates))
    for obs_type, target in TARGETS.items():
        if (obs_type, TARGET_NUM_ENVS) not in vector_rates:
            continue
        ratio = vector_rates[obs_type, TARGET_NUM_ENVS] / ale_rate
        emit({"metric": "speedup_vs_ale_ram", "obs_type": obs_type, "num_envs": TARGET_NUM_ENVS,
              "obs_size": args.obs_size, "ratio": round(ratio, 1), "target": target, "meets_target": ratio >= target,
              "ale_steps_per_s_mean": round(ale_rate, 1)})


if __name__ == "__main__":
    main(tyro.cli(Args))
