"""The batched GBC env's worker processes: a dead worker is a clear error within seconds, close() reaps them all,
and the state observation travels through the shared memory as float32."""

import os
import signal
import threading
import time

import numpy as np
import pytest

import gbc
from gbc.env import GameBoyEnv
from gbc.profiles import BREAKOUT_ROM
from gbc.vector import WorkerDiedError

pytestmark = pytest.mark.skipif(not BREAKOUT_ROM.is_file(), reason="roms/breakout/breakout.gb absent: make -C roms")


def worker_pids(envs):
    return [process.pid for process in envs._processes]


def is_running(pid: int) -> bool:
    """Alive and not a zombie (a reaped process has no /proc entry at all)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_killed_worker_is_a_clear_error_and_every_worker_is_reaped():
    envs = gbc.make_batched_env(4, profile="breakout", num_workers=2)
    envs.reset(seed=0)
    for _ in range(3):
        envs.step(np.zeros(4, np.int64))
    pids = worker_pids(envs)
    os.kill(pids[1], signal.SIGKILL)
    start = time.perf_counter()
    with pytest.raises(WorkerDiedError, match=r"worker 1 \(pid \d+, envs \[2, 3\]\) was killed by signal SIGKILL"):
        envs.step(np.zeros(4, np.int64))
    assert time.perf_counter() - start < 5
    assert envs.closed and not any(is_running(pid) for pid in pids)
    with pytest.raises(RuntimeError, match="closed"):
        envs.step(np.zeros(4, np.int64))


def test_worker_killed_while_stepping_is_noticed_within_seconds():
    envs = gbc.make_batched_env(2, profile="breakout", num_workers=2)
    envs.reset(seed=0)
    pids = worker_pids(envs)
    killer = threading.Timer(0.3, os.kill, (pids[0], signal.SIGKILL))
    killer.start()
    start = time.perf_counter()
    with pytest.raises(WorkerDiedError, match="worker 0 .* SIGKILL"):
        while time.perf_counter() - start < 60:
            envs.step(np.zeros(2, np.int64))
    assert time.perf_counter() - start < 0.3 + 5
    killer.join()
    assert not any(is_running(pid) for pid in pids)


def test_worker_that_exits_is_reported_with_its_exit_code():
    envs = gbc.make_batched_env(2, profile="breakout", num_workers=2)
    envs.reset(seed=0)
    pids = worker_pids(envs)
    os.kill(pids[0], signal.SIGTERM)
    with pytest.raises(WorkerDiedError, match="SIGTERM"):
        envs.reset(seed=1)
    assert not any(is_running(pid) for pid in pids)


def test_close_reaps_every_worker_and_is_idempotent():
    envs = gbc.make_batched_env(3, profile="breakout", num_workers=3)
    envs.reset(seed=0)
    pids = worker_pids(envs)
    assert all(is_running(pid) for pid in pids)
    envs.close()
    envs.close()
    assert not any(is_running(pid) for pid in pids)


def test_state_observations_travel_as_float32_and_match_single_envs():
    envs = gbc.make_batched_env(2, profile="breakout", num_workers=2, obs_type="state")
    singles = [GameBoyEnv("breakout", obs_type="state") for _ in range(2)]
    try:
        obs, _ = envs.reset(seed=[3, 4])
        assert obs.dtype == np.float32 and obs.shape == (2, singles[0].observation_space.shape[0])
        assert np.array_equal(obs, np.stack([env.reset(seed=s)[0] for env, s in zip(singles, (3, 4))]))
        for action in [2] * 10 + [1] * 10:
            obs, *_ = envs.step(np.array([action, 0]))
            assert np.array_equal(obs, np.stack([singles[0].step(action)[0], singles[1].step(0)[0]]))
    finally:
        envs.close()
        for env in singles:
            env.close()
