"""Timing helpers shared by the env benchmarks (scripts/bench_envs.py, python -m gbc.bench).

Each measurement steps random actions, drawn beforehand, for about `seconds` of wall time after a short
warm-up, and is printed as one JSON line carrying the 1-minute load average, so that figures taken on a
shared machine can be spotted.
"""

from __future__ import annotations

import os
import time

import gymnasium as gym
import numpy as np

from breakout_py.files import json_line


def emit(record: dict) -> None:
    record["load_avg_1m"] = round(os.getloadavg()[0], 2)
    print(json_line(record), flush=True)


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
    """Steps per second of one env in this process (episode resets included); closes the env."""
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


def bench_vector(envs: gym.vector.VectorEnv, seconds: float, seed: int) -> dict:
    """Env steps per second summed over the sub-envs of a vector env (its autoreset included); closes it."""
    envs.reset(seed=seed)
    num_envs = envs.num_envs
    actions = np.random.default_rng(seed).integers(0, int(envs.single_action_space.n), size=(20, num_envs))
    calls, elapsed = time_steps(envs.step, actions, seconds)
    envs.close()
    return {"num_envs": num_envs, "steps_per_s": round(calls * num_envs / elapsed, 1), "steps": calls * num_envs,
            "seconds": round(elapsed, 3)}


def bench_ale(obs_type: str, seconds: float, seed: int, frame_skip: int = 4) -> dict:
    """ALE's Atari Breakout (ale-py ships its ROM), one env made as a user would: the reference."""
    import ale_py

    gym.register_envs(ale_py)
    env = gym.make("ALE/Breakout-v5", obs_type=obs_type, frameskip=frame_skip)
    return {"env": "ALE/Breakout-v5", "obs_type": obs_type, "frame_skip": frame_skip, **bench_single(env, seconds, seed)}
