"""gbc.vector on the real Breakout ROM, a few steps at a time: the tests that kill its mutants.

The worker loop runs here in a thread of the test process, talking over a Pipe as it does in a worker process, so its
replies, the shared observation rows and its envs (recorded as they are built) can be checked directly; the batched
env is checked with one or two worker processes and a few steps.
"""

import multiprocessing as mp
import os
import signal
import threading

import cv2
import numpy as np
import pytest
from gymnasium.utils import seeding

import gbc.vector
from breakout_py.errors import UserError
from gbc.env import GameBoyEnv
from gbc.hardware import RAM_OBS_SIZE
from gbc.profiles import BREAKOUT_ROM
from gbc.vector import BatchedGameBoyEnv, WorkerDiedError, _exit_description, _worker, make_batched_env

pytestmark = pytest.mark.skipif(not BREAKOUT_ROM.is_file(), reason="roms/breakout/breakout.gb absent: make -C roms")

NOOP, LEFT, RIGHT = 0, 1, 2
# a usage error: ValueError today, breakout_py.errors.UserError once the modules switch to it
BAD_INPUT = (ValueError, UserError)


@pytest.mark.parametrize("exitcode, described", [
    (None, "is gone"), (-9, "was killed by signal SIGKILL"), (-15, "was killed by signal SIGTERM"),
    (-1000, "was killed by signal 1000"), (0, "exited with code 0"), (3, "exited with code 3"),
])
def test_exit_descriptions(exitcode, described):
    assert _exit_description(exitcode) == described


class WorkerThread:
    """gbc.vector._worker for envs `env_ids` of `num_envs`, in a thread; `envs` are the GameBoyEnvs it built."""

    def __init__(self, monkeypatch, env_ids, num_envs, max_episode_steps, **env_kwargs):
        self.envs = []

        self.reset_options = []

        def recording_env(**kwargs):
            env = GameBoyEnv(**kwargs)
            real_reset = env.reset

            def reset(**kwargs):
                self.reset_options.append(kwargs.get("options"))
                return real_reset(**kwargs)

            env.reset = reset
            self.envs.append(env)
            return env

        monkeypatch.setattr(gbc.vector, "GameBoyEnv", recording_env)
        probe = GameBoyEnv(profile="breakout", **env_kwargs)
        space = probe.observation_space
        probe.close()
        self.shared = mp.RawArray("B", num_envs * int(np.prod(space.shape)) * space.dtype.itemsize)
        self.obs = np.frombuffer(self.shared, dtype=space.dtype).reshape(num_envs, *space.shape)
        self.conn, child = mp.Pipe()
        self.thread = threading.Thread(target=_worker, args=(
            child, dict(profile="breakout", **env_kwargs), env_ids, num_envs, self.shared, space.shape,
            np.dtype(space.dtype).str, max_episode_steps), daemon=True)
        self.threads_before = cv2.getNumThreads()
        self.thread.start()

    def ask(self, command, payload=None):
        self.conn.send((command, payload))
        assert self.conn.poll(30), f"no reply to {command}"
        return self.conn.recv()

    def stop(self):
        if self.thread.is_alive():
            self.ask("close")
        self.thread.join(10)
        cv2.setNumThreads(self.threads_before)


def test_worker_resets_and_steps_its_envs_into_their_rows_of_the_shared_observations(monkeypatch):
    worker = WorkerThread(monkeypatch, [1, 2], 3, max_episode_steps=None)
    try:
        status, infos = worker.ask("reset", ([4, 5], None))
        assert status == "ok" and infos == [{"score": 0, "episode_frame_number": 0, "lives": 3}] * 2
        assert cv2.getNumThreads() == 1
        assert len(worker.envs) == 2 and all(env.profile.name == "breakout" for env in worker.envs)
        assert [env.game.read("rng_state") for env in worker.envs] == [
            int(seeding.np_random(seed)[0].integers(1, 256**2)) for seed in (4, 5)]  # each env its own seed
        assert worker.reset_options == [None, None]
        assert not worker.obs[0].any()
        for row, env in zip((1, 2), worker.envs):
            assert np.array_equal(worker.obs[row], env.game.ram.read())
        paddles = [env.game.read("paddle_x") for env in worker.envs]
        worker.envs[1].game.write("score", 5)
        status, results = worker.ask("step", [RIGHT, LEFT])
        assert status == "ok"
        assert results == [(0.0, False, False, {"score": 0, "episode_frame_number": 4, "lives": 3}),
                           (5.0, False, False, {"score": 5, "episode_frame_number": 4, "lives": 3})]
        assert [env.game.read("paddle_x") for env in worker.envs] == [paddles[0] + 8, paddles[1] - 8]
        for row, env in zip((1, 2), worker.envs):
            assert np.array_equal(worker.obs[row], env.game.ram.read())
        assert not worker.obs[0].any()
        assert worker.ask("close") == ("ok", None)
        worker.thread.join(10)
        assert not worker.thread.is_alive()
    finally:
        worker.stop()


@pytest.mark.parametrize("limit", [None, 0])
def test_worker_without_a_step_limit_never_truncates(monkeypatch, limit):
    worker = WorkerThread(monkeypatch, [0], 1, max_episode_steps=limit)
    try:
        worker.ask("reset", ([1], None))
        for _ in range(3):
            _, [(_, terminated, truncated, _)] = worker.ask("step", [NOOP])
            assert not terminated and truncated is False
    finally:
        worker.stop()


def test_worker_truncates_at_the_step_limit_then_resets_on_the_next_step(monkeypatch):
    worker = WorkerThread(monkeypatch, [0, 1], 2, max_episode_steps=2)
    try:
        worker.ask("reset", ([1, 2], None))
        env_a, env_b = worker.envs
        _, results = worker.ask("step", [RIGHT, RIGHT])
        assert [r[1:3] for r in results] == [(False, False), (False, False)]
        env_b.game.write("lives", 1)
        env_b.game.write("game_state", 2)  # game over on the limit step: terminated, not truncated
        _, results = worker.ask("step", [RIGHT, RIGHT])
        assert [(r[1], r[2]) for r in results] == [(False, True), (True, False)]
        env_a.game.write("score", 9)
        paddle = env_a.game.read("paddle_x")
        _, results = worker.ask("step", [RIGHT, RIGHT])  # the autoreset step: actions ignored, reward 0
        assert [r[:3] for r in results] == [(0.0, False, False), (0.0, False, False)]
        assert [r[3]["episode_frame_number"] for r in results] == [0, 0]
        assert env_a.game.read("paddle_x") != paddle + 8 and env_a.game.read("score") == 0
        assert np.array_equal(worker.obs[0], env_a.game.ram.read())
        _, results = worker.ask("step", [RIGHT, RIGHT])  # counting again from the reset
        assert [r[1:3] for r in results] == [(False, False), (False, False)]
        _, results = worker.ask("step", [RIGHT, RIGHT])
        assert [r[2] for r in results] == [True, True]
        worker.ask("reset", ([3, 4], {"any": "option"}))  # a reset restarts the count too
        assert worker.reset_options[-2:] == [{"any": "option"}] * 2
        _, results = worker.ask("step", [NOOP, NOOP])
        assert [r[2] for r in results] == [False, False]
        _, results = worker.ask("step", [NOOP, NOOP])
        assert [r[2] for r in results] == [True, True]
    finally:
        worker.stop()


def test_worker_reports_an_env_error_with_its_traceback_and_stops(monkeypatch):
    worker = WorkerThread(monkeypatch, [0], 1, max_episode_steps=None)
    worker.ask("reset", ([1], None))
    status, payload = worker.ask("step", [7])
    assert status == "error" and payload.startswith("Traceback") and "action must be an integer" in payload
    worker.thread.join(10)
    assert not worker.thread.is_alive()
    cv2.setNumThreads(worker.threads_before)


def test_worker_stops_quietly_when_the_parent_is_gone(monkeypatch):
    worker = WorkerThread(monkeypatch, [0], 1, max_episode_steps=None)
    worker.ask("reset", ([1], None))
    worker.conn.close()
    worker.thread.join(10)
    assert not worker.thread.is_alive()
    cv2.setNumThreads(worker.threads_before)


@pytest.mark.parametrize("kwargs, message", [
    ({"num_envs": 0}, "num_envs must be a positive integer, got 0"),
    ({"num_envs": 2.0}, "num_envs must be a positive integer, got 2.0"),
    ({"num_envs": 2, "num_workers": 3}, "num_workers must be an integer from 1 to num_envs (2), got 3"),
    ({"num_envs": 2, "num_workers": 0}, "num_workers must be an integer from 1 to num_envs (2), got 0"),
    ({"num_envs": 2, "num_workers": 1.0}, "num_workers must be an integer from 1 to num_envs (2), got 1.0"),
    ({"num_envs": 1, "render_mode": "rgb_array"},
     "the batched env does not render; make a single GameBoyEnv with render_mode instead"),
])
def test_bad_arguments_are_exact_errors(kwargs, message):
    with pytest.raises(BAD_INPUT) as error:
        BatchedGameBoyEnv(profile="breakout", **kwargs)
    assert str(error.value) == message


@pytest.mark.parametrize("cpus, workers", [(1, 1), (None, 1), (2, 2), (8, 3)])
def test_default_workers_are_one_per_core_at_most_one_per_env(monkeypatch, cpus, workers):
    monkeypatch.setattr(os, "cpu_count", lambda: cpus)
    envs = BatchedGameBoyEnv(3, profile="breakout")
    try:
        assert envs.num_workers == workers == len(envs._processes)
    finally:
        envs.close()


def test_batched_env_spaces_shares_and_steps_match_single_envs():
    envs = make_batched_env(3, profile="breakout", num_workers=2, max_episode_steps=3, obs_type="state")
    singles = [GameBoyEnv("breakout", obs_type="state") for _ in range(3)]
    try:
        single = singles[0].observation_space
        assert envs.num_envs == 3 and envs.render_mode is None and envs._shares == [[0, 1], [2]]
        assert envs.single_observation_space == single and envs.single_action_space == singles[0].action_space
        assert envs.observation_space.shape == (3,) + single.shape and envs.action_space.shape == (3,)
        assert len(envs._shared_obs) == 3 * single.shape[0] * 4
        assert all(process.daemon and process.is_alive() for process in envs._processes)
        obs, infos = envs.reset(seed=10)
        assert obs.dtype == np.float32
        assert np.array_equal(obs, np.stack([env.reset(seed=10 + i)[0] for i, env in enumerate(singles)]))
        assert infos["lives"].tolist() == [3, 3, 3] and infos["episode_frame_number"].tolist() == [0, 0, 0]
        obs[:] = 0
        assert envs._observations.any()  # reset returned a copy
        for t in range(3):
            actions = np.array([RIGHT, LEFT, NOOP])
            obs, rewards, terminated, truncated, infos = envs.step(actions)
            expected = [env.step(int(a)) for env, a in zip(singles, actions)]
            assert np.array_equal(obs, np.stack([e[0] for e in expected]))
            assert rewards.dtype == np.float64 and terminated.dtype == np.bool_ and truncated.dtype == np.bool_
            assert rewards.tolist() == [e[1] for e in expected] and terminated.tolist() == [e[2] for e in expected]
            assert truncated.tolist() == [t == 2] * 3 and not terminated.any()
            assert infos["episode_frame_number"].tolist() == [4 * (t + 1)] * 3
        obs[:] = 0
        assert envs._observations.any()  # step returned a copy
    finally:
        envs.close()
        for env in singles:
            env.close()


def test_reset_seeds_none_list_and_bad_length():
    envs = make_batched_env(2, profile="breakout", num_workers=1)
    single = GameBoyEnv("breakout")
    try:
        obs, _ = envs.reset(seed=[None, 6])
        assert np.array_equal(obs[1], single.reset(seed=6)[0])
        first, _ = envs.reset()
        second, _ = envs.reset()
        assert not np.array_equal(first, second)  # no seed: the envs' generators go on
        with pytest.raises(BAD_INPUT) as error:
            envs.reset(seed=[1, 2, 3])
        assert str(error.value) == "reset got 3 seeds for 2 envs"
        with pytest.raises(BAD_INPUT) as error:
            envs.step(np.zeros((2, 1), np.int64))
        assert str(error.value) == "step expects one action per env, shape (2,), got (2, 1)"
    finally:
        envs.close()
        single.close()


def test_a_worker_error_closes_the_batched_env_and_is_reraised():
    envs = make_batched_env(2, profile="breakout", num_workers=2)
    envs.reset(seed=0)
    pids = [process.pid for process in envs._processes]
    with pytest.raises(RuntimeError) as error:
        envs.step(np.array([0, 5]))
    assert str(error.value).startswith("a GBC env worker failed:\nTraceback")
    assert "action must be an integer in [0, 3), got 5" in str(error.value)
    assert envs._processes == [] and envs._conns == []
    assert all(not os.path.exists(f"/proc/{pid}") or open(f"/proc/{pid}/stat").read().split(")")[-1].split()[0] == "Z"
               for pid in pids)
    with pytest.raises(RuntimeError) as error:
        envs.reset(seed=0)
    assert str(error.value) == ("the batched GBC env is closed (after close() or a worker failure); make a new one")


def test_a_dead_worker_is_reported_before_a_command_is_sent():
    envs = make_batched_env(3, profile="breakout", num_workers=2)
    envs.reset(seed=0)
    dead = envs._processes[1]
    os.kill(dead.pid, signal.SIGKILL)
    dead.join(10)
    envs._conns[1].close()  # as if the pipe broke: send() fails at once
    with pytest.raises(WorkerDiedError) as error:
        envs.step(np.zeros(3, np.int64))
    assert str(error.value) == (
        f"GBC env worker 1 (pid {dead.pid}, envs [2]) was killed by signal SIGKILL before it was sent a command. "
        "The batched env is closed (all workers reaped); its envs' states are lost, so make a new one (e.g. restart "
        "training from its last checkpoint). A worker killed by SIGKILL often means the machine ran out of memory")
    assert envs._processes == []


def test_a_worker_that_dies_while_the_parent_waits_is_reported():
    envs = make_batched_env(2, profile="breakout", num_workers=2)
    envs.reset(seed=0)
    victim = envs._processes[1]

    def die_instead_of_answering(message):  # the command "was sent"; the worker dies before it answers
        os.kill(victim.pid, signal.SIGKILL)
        victim.join(10)

    envs._conns[1].send = die_instead_of_answering
    with pytest.raises(WorkerDiedError) as error:
        envs.step(np.zeros(2, np.int64))
    assert str(error.value).startswith(
        f"GBC env worker 1 (pid {victim.pid}, envs [1]) was killed by signal SIGKILL while the parent waited for "
        "its reply. The batched env is closed")
    assert envs._processes == []


def test_a_worker_that_exits_after_replying_is_noticed_on_the_next_command():
    envs = make_batched_env(2, profile="breakout", num_workers=2)
    envs.reset(seed=0)
    pid = envs._processes[0].pid
    os.kill(pid, signal.SIGTERM)
    envs._processes[0].join(10)
    with pytest.raises(WorkerDiedError, match=rf"^GBC env worker 0 \(pid {pid}, envs \[0\]\) was killed by signal "
                                              "SIGTERM (before it was sent a command|while the parent waited)"):
        envs.step(np.zeros(2, np.int64))


def test_close_asks_each_worker_to_close_and_reaps_it():
    envs = make_batched_env(2, profile="breakout", num_workers=2)
    envs.reset(seed=0)
    processes = list(envs._processes)
    envs.close()
    assert all(process.exitcode == 0 for process in processes)  # exited by itself, not terminated
    assert envs._processes == [] and envs._conns == []
    envs.close()
