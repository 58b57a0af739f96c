"""Agent steps per second of GBCBreakout-v0 (one process, and batched over worker processes) beside ALE Breakout-v5.

    python -m gbc.bench [--seconds 3] [--batched-envs 8] [--batched-workers 1 2]

prints one JSON line per measurement (keys as in scripts/bench_envs.py). Both games hold each action for
4 frames (frame skip 4) and take random actions drawn beforehand; episode resets are included. ALE is timed
with its RAM and its RGB observation, beside ours with RAM and pixels. The machine may be shared: each
line carries the 1-minute load average so that noisy figures can be spotted.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field

import gymnasium as gym
import numpy as np
import tyro

import gbc  # noqa: F401  (registers the envs)

ALE_OBS_TYPE = {"ram": "ram", "pixels": "rgb"}  # ALE's observation beside each of ours


def emit(record: dict) -> None:
    record["load_avg_1m"] = round(os.getloadavg()[0], 2)
    print(json.dumps(record), flush=True)


def time_steps(step, actions: np.ndarray, seconds: float) -> tuple[int, float]:
    """Calls step(action) cycling through `actions` for about `seconds` after a warm-up; (calls, elapsed)."""
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


def bench_single(env: gym.Env, seconds: float, seed: int) -> dict:
    """Steps per second of one env in this process."""
    env.reset(seed=seed)
    actions = np.random.default_rng(seed).integers(0, int(env.action_space.n), size=200)

    def step(action):
        _, _, terminated, truncated, _ = env.step(int(action))
        if terminated or truncated:
            env.reset()

    calls, elapsed = time_steps(step, actions, seconds)
    env.close()
    return {"impl": "single", "num_envs": 1, "processes": 1, "steps_per_s": round(calls / elapsed, 1),
            "steps": calls, "seconds": round(elapsed, 3)}


def bench_gbc(obs_type: str, seconds: float, frame_skip: int = 4, seed: int = 0) -> dict:
    env = gym.make("GBCBreakout-v0", obs_type=obs_type, frame_skip=frame_skip)
    return {"env": "GBCBreakout-v0", "obs_type": obs_type, "frame_skip": frame_skip, **bench_single(env, seconds, seed)}


def bench_gbc_batched(
    obs_type: str, num_envs: int, num_workers: int, seconds: float, frame_skip: int = 4, seed: int = 0
) -> dict:
    """Agent steps per second summed over the envs of the batched env (autoreset included)."""
    envs = gym.make_vec(
        "GBCBreakout-v0", num_envs=num_envs, num_workers=num_workers, obs_type=obs_type, frame_skip=frame_skip
    )
    envs.reset(seed=seed)
    actions = np.random.default_rng(seed).integers(0, int(envs.single_action_space.n), size=(20, num_envs))
    calls, elapsed = time_steps(envs.step, actions, seconds)
    envs.close()
    return {"env": "GBCBreakout-v0", "obs_type": obs_type, "frame_skip": frame_skip, "impl": "batched",
            "num_envs": num_envs, "processes": num_workers, "steps_per_s": round(calls * num_envs / elapsed, 1),
            "steps": calls * num_envs, "seconds": round(elapsed, 3)}


def bench_ale(obs_type: str, seconds: float, frame_skip: int = 4, seed: int = 0) -> dict:
    import ale_py

    gym.register_envs(ale_py)
    env = gym.make("ALE/Breakout-v5", obs_type=obs_type, frameskip=frame_skip)
    result = bench_single(env, seconds, seed)
    return {"env": "ALE/Breakout-v5", "obs_type": obs_type, "frame_skip": frame_skip, **result}


@dataclass
class Args:
    seconds: float = 3.0
    """wall time per measurement"""
    frame_skip: int = 4
    obs_types: list[str] = field(default_factory=lambda: ["ram", "pixels"])
    """GBC observation types to time (ALE is timed with its matching 'ram' and 'rgb')"""
    batched_envs: int = 8
    """envs in the batched GBC env"""
    batched_workers: list[int] = field(default_factory=lambda: [1, 2])
    """worker process counts to time the batched GBC env with"""
    seed: int = 0


def main(args: Args) -> None:
    if args.seconds <= 0 or args.batched_envs < 1 or any(w < 1 for w in args.batched_workers):
        raise ValueError(f"seconds, batched_envs and batched_workers must be positive, got {args}")
    unknown = [t for t in args.obs_types if t not in ALE_OBS_TYPE]
    if unknown:
        raise ValueError(f"obs_types {unknown} unknown; choose from {list(ALE_OBS_TYPE)}")
    for obs_type in args.obs_types:
        emit(bench_ale(ALE_OBS_TYPE[obs_type], args.seconds, args.frame_skip, args.seed))
        emit(bench_gbc(obs_type, args.seconds, args.frame_skip, args.seed))
        for workers in args.batched_workers:
            emit(bench_gbc_batched(obs_type, args.batched_envs, workers, args.seconds, args.frame_skip, args.seed))


if __name__ == "__main__":
    main(tyro.cli(Args))
