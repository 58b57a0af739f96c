"""Batched Game Boy envs for training: `num_envs` emulators spread over `num_workers` processes.

Each worker process builds and steps its own share of the envs (no PyBoy object is ever pickled) and writes
their observations straight into one shared-memory array, so one batched step costs one message per worker
rather than one per env: with 8 envs on 2 cores, 2 workers each step 4 emulators per message.

Autoreset mode NEXT_STEP (stated in `metadata["autoreset_mode"]`): the step after an env's terminal or
truncated step resets that env, returns its first observation with reward 0, and ignores its action.

A worker that dies (killed, or its emulator crashed the process) is noticed within `WORKER_POLL_SECONDS` while the
parent waits for it: the parent closes the batched env (every worker reaped) and raises `WorkerDiedError`.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import signal
import threading
import traceback
from multiprocessing.connection import wait
from typing import Any

import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from breakout_py.errors import UserError
from gbc.env import GameBoyEnv

DEFAULT_MAX_EPISODE_STEPS = 10_000
# How often the parent, while waiting for replies, checks that the workers it waits for are still alive.
WORKER_POLL_SECONDS = 0.5
# How long close() waits for a worker to exit by itself, then after terminate(), before kill().
WORKER_EXIT_SECONDS = 5.0


@contextlib.contextmanager
def _fork_safe_opencv():
    """Shrink OpenCV's thread pool to one thread (its workers stopped) while forking, then restore it.

    A child forked while the pool's idle threads wait on its condition variables inherits those variables with
    waiters that do not exist in the child; the child's cv2.setNumThreads(1) then blocks forever destroying them
    (seen in the test suite: both workers stuck in pthread_cond_destroy under cv2, the parent waiting for replies).
    """
    import cv2

    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        yield
    finally:
        cv2.setNumThreads(threads)


class WorkerDiedError(UserError, RuntimeError):
    """A worker process of the batched env exited while the parent waited for it."""


def _exit_description(exitcode: int | None) -> str:
    if exitcode is None:
        return "is gone"
    if exitcode < 0:
        try:
            return f"was killed by signal {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"was killed by signal {-exitcode}"
    return f"exited with code {exitcode}"


def _worker(conn, env_kwargs: dict, env_ids: list[int], num_envs: int, shared_obs, obs_shape, obs_dtype,
            max_episode_steps):
    """Owns the envs `env_ids`; answers "reset", "step", "get_state", "set_state" and "close" messages from the
    parent."""
    if threading.current_thread() is threading.main_thread():  # (tests run the worker in a thread)
        # Ctrl-C in a terminal signals the whole process group: the parent handles it (a trainer saves the envs'
        # states first, agents/trainer.py) and then closes the workers
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        import cv2

        # One core per worker: OpenCV's own thread pool would only compete with the others. (The parent left the
        # pool at one thread while forking, so this does not touch a pool copied mid-use; see _fork_safe_opencv.)
        cv2.setNumThreads(1)
        envs = [GameBoyEnv(**env_kwargs) for _ in env_ids]
        observations = np.frombuffer(shared_obs, dtype=obs_dtype).reshape(num_envs, *obs_shape)
        steps = [0] * len(envs)
        needs_reset = [False] * len(envs)
        while True:
            command, payload = conn.recv()
            if command == "step":
                results = []
                for j, (env, action) in enumerate(zip(envs, payload)):
                    if needs_reset[j]:
                        obs, info = env.reset()
                        reward, terminated, truncated, steps[j] = 0.0, False, False, 0
                    else:
                        obs, reward, terminated, truncated, info = env.step(int(action))
                        steps[j] += 1
                        truncated = bool(max_episode_steps) and steps[j] >= max_episode_steps and not terminated
                    needs_reset[j] = terminated or truncated
                    observations[env_ids[j]] = obs
                    results.append((reward, terminated, truncated, info))
                conn.send(("ok", results))
            elif command == "reset":
                seeds, options = payload
                infos = []
                for j, env in enumerate(envs):
                    obs, info = env.reset(seed=seeds[j], options=options)
                    observations[env_ids[j]] = obs
                    steps[j], needs_reset[j] = 0, False
                    infos.append(info)
                conn.send(("ok", infos))
            elif command == "get_state":
                conn.send(("ok", [{"env": env.get_state(), "steps": steps[j], "needs_reset": needs_reset[j]}
                                  for j, env in enumerate(envs)]))
            elif command == "set_state":
                for j, (env, state) in enumerate(zip(envs, payload)):
                    env.set_state(state["env"])
                    steps[j], needs_reset[j] = int(state["steps"]), bool(state["needs_reset"])
                conn.send(("ok", [None] * len(envs)))
            elif command == "close":
                for env in envs:
                    env.close()
                conn.send(("ok", None))
                return
    except (EOFError, BrokenPipeError):  # the parent is gone: nothing to report to
        return
    except Exception:  # the parent re-raises it with the worker's traceback
        try:
            conn.send(("error", traceback.format_exc()))
        except (OSError, EOFError):
            pass


class BatchedGameBoyEnv(VectorEnv):
    """`num_envs` GameBoyEnv(**env_kwargs) stepped in `num_workers` processes (default: one per CPU core)."""

    metadata = {"autoreset_mode": AutoresetMode.NEXT_STEP, "render_modes": []}

    def __init__(
        self,
        num_envs: int = 2,
        *,
        num_workers: int | None = None,
        max_episode_steps: int | None = DEFAULT_MAX_EPISODE_STEPS,
        context: str | None = None,
        **env_kwargs: Any,
    ):
        """context: multiprocessing start method (None: the platform default, fork on Linux)."""
        self._conns, self._processes = [], []
        if not isinstance(num_envs, int) or num_envs < 1:
            raise ValueError(f"num_envs must be a positive integer, got {num_envs!r}")
        num_workers = min(num_envs, os.cpu_count() or 1) if num_workers is None else num_workers
        if not isinstance(num_workers, int) or not 1 <= num_workers <= num_envs:
            raise ValueError(f"num_workers must be an integer from 1 to num_envs ({num_envs}), got {num_workers!r}")
        if env_kwargs.get("render_mode") is not None:
            raise ValueError("the batched env does not render; make a single GameBoyEnv with render_mode instead")
        # Built in this process for the spaces; on fork the workers also inherit its saved power-on state.
        probe = GameBoyEnv(**env_kwargs)
        self.single_observation_space = probe.observation_space
        self.single_action_space = probe.action_space
        if "state_spec" in probe.metadata:
            self.metadata = {**self.metadata, "state_spec": probe.metadata["state_spec"]}
        probe.close()
        self.num_envs = num_envs
        self.num_workers = num_workers
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)
        self.render_mode = None

        obs_shape = self.single_observation_space.shape
        obs_dtype = np.dtype(self.single_observation_space.dtype)
        ctx = mp.get_context(context)
        self._shared_obs = ctx.RawArray("B", int(num_envs * np.prod(obs_shape)) * obs_dtype.itemsize)
        self._observations = np.frombuffer(self._shared_obs, dtype=obs_dtype).reshape(num_envs, *obs_shape)
        self._shares = [list(ids) for ids in np.array_split(np.arange(num_envs), num_workers)]
        with _fork_safe_opencv():
            for env_ids in self._shares:
                parent, child = ctx.Pipe()
                process = ctx.Process(
                    target=_worker,
                    args=(child, env_kwargs, env_ids, num_envs, self._shared_obs, obs_shape, obs_dtype.str,
                          max_episode_steps),
                    daemon=True,
                )
                process.start()
                child.close()
                self._conns.append(parent)
                self._processes.append(process)

    def _send(self, worker: int, message: tuple) -> None:
        try:
            self._conns[worker].send(message)
        except (OSError, EOFError):  # the worker's end is closed: it died
            self._worker_died(worker, "before it was sent a command")

    def _gather(self) -> list:
        """Each worker's reply, in worker order; raises (after closing everything) when a worker fails or dies."""
        replies: dict[int, list] = {}
        waiting = {conn: k for k, conn in enumerate(self._conns)}
        sentinels = {self._processes[k].sentinel: k for k in waiting.values()}
        while waiting:
            ready = wait(list(waiting) + list(sentinels), timeout=WORKER_POLL_SECONDS)
            for item in ready:
                if item in waiting:
                    k = waiting.pop(item)
                    del sentinels[self._processes[k].sentinel]
                    try:
                        status, payload = item.recv()
                    except (OSError, EOFError):
                        self._worker_died(k, "while the parent waited for its reply")
                    if status == "error":
                        self.close()
                        raise RuntimeError(f"a GBC env worker failed:\n{payload}")
                    replies[k] = payload
            for sentinel, k in list(sentinels.items()):
                conn = self._conns[k]
                if sentinel in ready and not conn.poll():  # died without a reply on its way
                    self._worker_died(k, "while the parent waited for its reply")
        return [reply for k in sorted(replies) for reply in replies[k]]

    def _worker_died(self, worker: int, when: str) -> None:
        process = self._processes[worker]
        process.join(timeout=WORKER_POLL_SECONDS)
        described = _exit_description(process.exitcode)
        envs = self._shares[worker]
        self.close()
        raise WorkerDiedError(
            f"GBC env worker {worker} (pid {process.pid}, envs {[int(i) for i in envs]}) {described} {when}. The batched env is closed "
            "(all workers reaped); its envs' states are lost, so make a new one (e.g. restart training from its "
            "last checkpoint). A worker killed by SIGKILL often means the machine ran out of memory"
        )

    def reset(self, *, seed: int | list[int | None] | None = None, options: dict | None = None):
        if seed is None:
            seeds = [None] * self.num_envs
        elif isinstance(seed, int):
            seeds = [seed + i for i in range(self.num_envs)]
        else:
            seeds = list(seed)
            if len(seeds) != self.num_envs:
                raise ValueError(f"reset got {len(seeds)} seeds for {self.num_envs} envs")
        self._check_open()
        for worker, env_ids in enumerate(self._shares):
            self._send(worker, ("reset", ([seeds[i] for i in env_ids], options)))
        infos = {}
        for i, info in enumerate(self._gather()):
            infos = self._add_info(infos, info, i)
        return self._observations.copy(), infos

    def step(self, actions):
        actions = np.asarray(actions)
        if actions.shape != (self.num_envs,):
            raise ValueError(f"step expects one action per env, shape ({self.num_envs},), got {actions.shape}")
        self._check_open()
        for worker, env_ids in enumerate(self._shares):
            self._send(worker, ("step", actions[env_ids].tolist()))
        results = self._gather()
        rewards = np.array([r[0] for r in results], dtype=np.float64)
        terminated = np.array([r[1] for r in results], dtype=np.bool_)
        truncated = np.array([r[2] for r in results], dtype=np.bool_)
        infos = {}
        for i, result in enumerate(results):
            infos = self._add_info(infos, result[3], i)
        return self._observations.copy(), rewards, terminated, truncated, infos

    def get_state(self) -> list[dict[str, Any]]:
        """Per env, everything its future depends on (GameBoyEnv.get_state, its step count and whether its next step
        resets it), for set_state: envs restored from it step exactly as these would."""
        self._check_open()
        for worker in range(len(self._shares)):
            self._send(worker, ("get_state", None))
        return self._gather()

    def set_state(self, state: list[dict[str, Any]]) -> None:
        """Go back to a get_state() of a batched env made with the same num_envs and env settings."""
        if len(state) != self.num_envs:
            raise ValueError(f"saved state holds {len(state)} envs, this batched env has {self.num_envs}: restore a "
                             "state saved with the same num_envs")
        self._check_open()
        for worker, env_ids in enumerate(self._shares):
            self._send(worker, ("set_state", [state[i] for i in env_ids]))
        self._gather()

    def _check_open(self) -> None:
        if not self._processes:
            raise RuntimeError("the batched GBC env is closed (after close() or a worker failure); make a new one")

    def __del__(self):
        self.close()

    def close_extras(self, **kwargs: Any) -> None:
        """Ask every live worker to close its envs, then reap every worker: terminate, and kill, what lingers."""
        for conn, process in zip(self._conns, self._processes):
            if process.is_alive():
                try:
                    conn.send(("close", None))
                except (OSError, EOFError):
                    pass
        for conn, process in zip(self._conns, self._processes):
            if process.is_alive() and conn.poll(WORKER_EXIT_SECONDS):
                try:
                    conn.recv()
                except (OSError, EOFError):  # it exited (after reporting an error) or died
                    pass
            process.join(timeout=WORKER_EXIT_SECONDS)
            if process.is_alive():
                process.terminate()
                process.join(timeout=WORKER_EXIT_SECONDS)
            if process.is_alive():
                process.kill()
                process.join()
            conn.close()
        self._conns, self._processes = [], []


def make_batched_env(num_envs: int = 2, **kwargs: Any) -> BatchedGameBoyEnv:
    """The `vector_entry_point` of the gbc env ids: `gym.make_vec("GBCBreakout-v0", num_envs=8)`."""
    return BatchedGameBoyEnv(num_envs, **kwargs)
