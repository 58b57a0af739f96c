"""Agent steps per second of GBCBreakout-v0 (or another of our GBC envs: --env-id GBCSnake-v0; one process, and
batched over worker processes) beside ALE Breakout-v5.

    python -m gbc.bench [--seconds 3] [--batched-envs 8] [--batched-workers 1 2] [--env-id GBCBreakout-v0]

prints one JSON line per measurement (keys as in scripts/bench_envs.py). Both games hold each action for
4 frames (frame skip 4) and take random actions drawn beforehand; episode resets are included. ALE is timed
with its RAM and its RGB observation, beside ours with RAM, the extracted state (obs_type="state": the committed
spec's bytes of RAM, scaled; ALE RAM is its reference too, timed once) and pixels. The machine may be shared: each
line carries the 1-minute load average so that noisy figures can be spotted.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import gymnasium as gym
import tyro

import gbc  # noqa: F401  (registers the envs)
from breakout_py.benchmark import bench_ale, bench_single, bench_vector, emit
from breakout_py.errors import UserError, run_script

ALE_OBS_TYPE = {"ram": "ram", "state": "ram", "pixels": "rgb"}  # ALE's observation beside each of ours


def bench_gbc(obs_type: str, seconds: float, frame_skip: int = 4, seed: int = 0,
              env_id: str = "GBCBreakout-v0") -> dict:
    """Agent steps per second of one env of `env_id` (one of our Game Boy games) in this process."""
    env = gym.make(env_id, obs_type=obs_type, frame_skip=frame_skip)
    return {"env": env_id, "obs_type": obs_type, "frame_skip": frame_skip, **bench_single(env, seconds, seed)}


def bench_gbc_batched(
    obs_type: str, num_envs: int, num_workers: int, seconds: float, frame_skip: int = 4, seed: int = 0,
    env_id: str = "GBCBreakout-v0",
) -> dict:
    """Agent steps per second summed over the envs of the batched env (autoreset included)."""
    envs = gym.make_vec(env_id, num_envs=num_envs, num_workers=num_workers, obs_type=obs_type, frame_skip=frame_skip)
    return {"env": env_id, "obs_type": obs_type, "frame_skip": frame_skip, "impl": "batched",
            "processes": num_workers, **bench_vector(envs, seconds, seed)}


@dataclass
class Args:
    seconds: float = 3.0
    """wall time per measurement"""
    frame_skip: int = 4
    obs_types: list[str] = field(default_factory=lambda: ["ram", "state", "pixels"])
    """GBC observation types to time (ALE is timed with its matching 'ram' and 'rgb')"""
    batched_envs: int = 8
    """envs in the batched GBC env"""
    batched_workers: list[int] = field(default_factory=lambda: [1, 2])
    """worker process counts to time the batched GBC env with"""
    seed: int = 0
    env_id: str = "GBCBreakout-v0"
    """which of our GBC envs to time (GBCBreakout-v0, GBCSnake-v0)"""


def main(args: Args) -> None:
    if args.seconds <= 0 or args.batched_envs < 1 or any(w < 1 for w in args.batched_workers):
        raise UserError(f"--seconds, --batched-envs and --batched-workers must be positive, got {args}")
    unknown = [t for t in args.obs_types if t not in ALE_OBS_TYPE]
    if unknown:
        raise UserError(f"--obs-types {unknown} unknown; choose from {list(ALE_OBS_TYPE)}")
    timed_ale = set()
    for obs_type in args.obs_types:
        if ALE_OBS_TYPE[obs_type] not in timed_ale:
            emit(bench_ale(ALE_OBS_TYPE[obs_type], args.seconds, args.seed, args.frame_skip))
            timed_ale.add(ALE_OBS_TYPE[obs_type])
        emit(bench_gbc(obs_type, args.seconds, args.frame_skip, args.seed, args.env_id))
        for workers in args.batched_workers:
            emit(bench_gbc_batched(obs_type, args.batched_envs, workers, args.seconds, args.frame_skip, args.seed,
                                   args.env_id))


if __name__ == "__main__":
    run_script(lambda: main(tyro.cli(Args)))
