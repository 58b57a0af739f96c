"""The PPO training loop shared by scripts/02_train_memory.py and scripts/03_train_pixel.py.

Reads top to bottom like CleanRL's ppo.py: make envs, build agent, then per iteration anneal the learning rate,
collect a rollout, compute GAE and run the PPO update; log CleanRL's TensorBoard scalars, checkpoint and record
videos on the way. Works with any Gymnasium vector env with a Discrete action space.

Autoreset (Gymnasium 1.x): NEXT_STEP envs take a dummy step after each episode end; it is stored with valid=0 and never
learned from, and its observation (the final obs of the ended episode) supplies V(final obs) for the truncation
bootstrap (see agents.ppo.compute_gae). SAME_STEP envs return the final obs in infos["final_obs"]: a truncated step
gets reward + gamma * V(final obs) and is then treated as terminal (CleanRL's trick). DISABLED is rejected.

Stopping early: SIGINT (Ctrl-C) and SIGTERM end training with a TrainingStopped (a UserError: the scripts print one
`error:` line) after saving a checkpoint of where the rollout stopped, the envs' states included (agents.rollout_state);
rerunning the same command goes on exactly from there, as if never stopped. An env whose worker process died
(gbc.vector.WorkerDiedError) took its state with it: the checkpoint is then the last whole iteration's, and the rerun
reseeds the envs.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import random
import re
import signal
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

import gymnasium as gym
import numpy as np
import torch
import torch.optim as optim
from gymnasium.vector import AutoresetMode

from agents.checkpoint import CheckpointError, check_state_spec, load_into, read_checkpoint, save_checkpoint
from agents.cpu_threads import use_torch_threads
from agents.networks import TRUNK_PRECISIONS, build_network, trunk_dtype_for, trunk_dtype_name
from agents.ppo import Rollout, compute_gae, ppo_update
from agents.rollout_state import capture_envs, decode, encode, restore_envs
from breakout_py.errors import UserError
from breakout_py.files import atomic_path, write_json

CHECKPOINT_NAME = "checkpoint.pt"
FINAL_MODEL_NAME = "model.pt"
CONFIG_NAME = "config.json"
RETURN_WINDOW = 20  # episodes in the smoothed return shown on the progress bar and in train()'s summary


@dataclass
class PPOArgs:
    """Settings shared by both training scripts; each script's Args overrides the defaults."""

    env_id: str = "BreakoutPy-v0"
    """a registered Gymnasium env id with a Discrete action space"""
    env_kwargs: str = "{}"
    """JSON object of keyword arguments for the env, e.g. '{"obs_type": "pixels", "obs_size": 84}'"""
    seed: int = 1
    """seed of torch, the minibatch shuffling and the envs"""
    total_timesteps: int = 500_000
    """env steps to train for (all sub-envs together)"""
    num_envs: int = 8
    """parallel sub-envs"""
    num_steps: int = 128
    """steps per sub-env in each rollout"""
    learning_rate: float = 2.5e-4
    """Adam learning rate (eps 1e-5)"""
    anneal_lr: bool = True
    """anneal the learning rate linearly to 0 over total_timesteps"""
    gamma: float = 0.99
    """discount factor"""
    gae_lambda: float = 0.95
    """lambda of generalised advantage estimation"""
    num_minibatches: int = 4
    """minibatches per epoch"""
    update_epochs: int = 4
    """passes over each rollout"""
    norm_adv: bool = True
    """normalise advantages within each minibatch"""
    clip_coef: float = 0.2
    """surrogate (and value) clipping coefficient"""
    clip_vloss: bool = True
    """clip the value loss as in the PPO paper's code"""
    ent_coef: float = 0.01
    """entropy bonus coefficient"""
    vf_coef: float = 0.5
    """value loss coefficient"""
    max_grad_norm: float = 0.5
    """global gradient-norm clip"""
    episodic_life: bool = True
    """learn as if losing a life ended the episode (CleanRL's EpisodicLifeEnv), for envs that report
    infos["lives"]; episodic_return still counts whole games. No effect on envs without lives"""
    target_kl: Optional[float] = None
    """stop an update early once approx_kl exceeds this (None: never)"""
    torch_threads: int = 0
    """torch CPU threads; 0: automatic (agents/cpu_threads.py: 1 for an MLP, 2 for a CNN)"""
    trunk_precision: str = "float32"
    """dtype of a CNN's conv trunk in training (agents/networks.py): float32, bfloat16 (autocast; heads, losses and
    weights stay float32), or auto (bfloat16 where the processor has it natively). CNNs only: an MLP computes in
    float32, and any other setting for one is refused"""
    cuda: bool = True
    """use CUDA when available"""
    torch_deterministic: bool = True
    """torch.backends.cudnn.deterministic"""
    runs_dir: str = "runs"
    """folder that holds the run folders"""
    run_name: Optional[str] = None
    """last part of the run folder name (default: a timestamp); an existing folder with a checkpoint is resumed"""
    checkpoint_interval: int = 20
    """save a checkpoint every this many iterations (0: only the final model)"""
    video_interval: int = 250
    """record one episode every this many iterations, and after the last (0: never)"""
    video_max_steps: int = 1500
    """longest recorded episode, in env steps"""
    video_fps: int = 30
    """frames per second of the mp4 videos"""
    progress_bar: bool = True
    """show a tqdm progress bar"""

    @property
    def batch_size(self) -> int:
        return self.num_envs * self.num_steps

    @property
    def num_iterations(self) -> int:
        return self.total_timesteps // self.batch_size


def validate_args(args: PPOArgs) -> dict[str, Any]:
    """Check the settings; returns the parsed env kwargs."""
    for name in ("num_envs", "num_steps", "num_minibatches", "update_epochs", "video_fps"):
        if getattr(args, name) < 1:
            raise UserError(f"--{name.replace('_', '-')} must be at least 1, got {getattr(args, name)}")
    for name in ("checkpoint_interval", "video_interval", "video_max_steps", "torch_threads"):
        if getattr(args, name) < 0:
            raise UserError(f"--{name.replace('_', '-')} must be 0 or more, got {getattr(args, name)}")
    if args.trunk_precision not in TRUNK_PRECISIONS:
        raise UserError(f"--trunk-precision must be one of {', '.join(TRUNK_PRECISIONS)}, got {args.trunk_precision!r}")
    if args.total_timesteps < args.batch_size:
        raise UserError(
            f"--total-timesteps {args.total_timesteps} is less than one rollout (num_envs * num_steps = "
            f"{args.batch_size}); raise it or lower --num-envs/--num-steps"
        )
    if args.batch_size < 2 * args.num_minibatches:
        raise UserError(f"a rollout of {args.batch_size} steps cannot fill {args.num_minibatches} minibatches; "
                         "lower --num-minibatches")
    try:
        env_kwargs = json.loads(args.env_kwargs)
    except json.JSONDecodeError as err:
        raise UserError(f"--env-kwargs must be a JSON object such as '{{\"obs_type\": \"pixels\"}}', got "
                         f"{args.env_kwargs!r}: {err}") from err
    if not isinstance(env_kwargs, dict):
        raise UserError(f"--env-kwargs must be a JSON object (a dict), got {args.env_kwargs!r}")
    return env_kwargs


def register_env_packages() -> None:
    """Import the repo's env packages so their ids (BreakoutPy-v0, GBCBreakout-v0) are registered."""
    import breakout_py  # noqa: F401

    try:
        import gbc  # noqa: F401
    except ModuleNotFoundError as err:
        if err.name != "gbc":
            raise


def make_vec_env(env_id: str, num_envs: int, env_kwargs: dict[str, Any]) -> gym.vector.VectorEnv:
    """The env's own batched implementation when it registers one (vector_entry_point), else SyncVectorEnv."""
    register_env_packages()
    try:
        spec = gym.spec(env_id)
    except gym.error.Error as err:
        raise UserError(f"unknown env id {env_id!r} ({err}); pass a registered id such as BreakoutPy-v0, "
                         "GBCBreakout-v0 or CartPole-v1") from err
    mode = "vector_entry_point" if spec.vector_entry_point is not None else "sync"
    envs = gym.make_vec(env_id, num_envs=num_envs, vectorization_mode=mode, **env_kwargs)
    if not isinstance(envs.single_action_space, gym.spaces.Discrete):
        envs.close()
        raise UserError(f"{env_id} has action space {envs.single_action_space}; this PPO needs a Discrete one")
    return envs


def autoreset_mode_of(envs: gym.vector.VectorEnv) -> AutoresetMode:
    mode = envs.metadata.get("autoreset_mode", AutoresetMode.NEXT_STEP)
    mode = AutoresetMode(mode) if not isinstance(mode, AutoresetMode) else mode
    if mode not in (AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP):
        raise UserError(f"vector env autoreset mode {mode} is not supported: the trainer needs NEXT_STEP or "
                         "SAME_STEP (Gymnasium's default is NEXT_STEP)")
    return mode


def network_for_space(network: dict[str, Any], obs_space: gym.spaces.Space,
                      action_space: gym.spaces.Discrete) -> dict[str, Any]:
    """Fill a network config's observation/action sizes from the env; an MLP on uint8 observations (RAM bytes)
    scales them by 1/255 into [0, 1] (the CNN always divides its uint8 frames by 255)."""
    config = {**network, "obs_shape": list(obs_space.shape), "n_actions": int(action_space.n)}
    if config.get("type") == "mlp" and obs_space.dtype == np.uint8:
        config["input_scale"] = 1.0 / 255.0
    return config


def with_grid_layouts(network: dict[str, Any], env_id: str, env_kwargs: dict[str, Any]) -> dict[str, Any]:
    """A grid network's config (agents.networks.GridAgent) with the env's grid layouts filled in, read from one env
    of `env_id` (its `grid_layouts()`); any other network as it is."""
    if network.get("type") != "grid" or "grids" in network:
        return network
    register_env_packages()
    env = gym.make(env_id, **env_kwargs)
    try:
        layouts = getattr(env.unwrapped, "grid_layouts", None)
        if layouts is None:
            raise UserError(f"{env_id} has no grid layouts (a Game Boy game whose profile names a grid of its RAM, "
                            "as Snake's board); train the MLP: --network mlp")
        return {**network, "grids": layouts()}
    finally:
        env.close()


def code_version() -> str:
    """The git commit of this checkout, with "+dirty" when tracked files differ from it ("unknown" outside git)."""
    import subprocess

    repo = Path(__file__).resolve().parents[1]
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True,
                                check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=repo,
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("+dirty" if dirty else "")


def run_env_label(env_id: str, env_kwargs: dict[str, Any]) -> str:
    """The first part of a run folder's name: the env id, and for GBC-v0 (any profiled ROM) the profile's name too,
    so that runs of different ROMs never share a name (04_compare.py takes this label as --env-id)."""
    label = env_id.replace("/", "-")
    profile = env_kwargs.get("profile")
    if env_id == "GBC-v0" and profile:
        name = Path(str(profile)).name.removesuffix(".profile.json")  # a name, or a path to a profile file
        label += "-" + re.sub(r"[^A-Za-z0-9_.-]", "-", name)
    return label


def run_dir_for(args: PPOArgs, agent_name: str) -> Path:
    suffix = args.run_name or time.strftime("%Y%m%d-%H%M%S")
    label = run_env_label(args.env_id, json.loads(args.env_kwargs or "{}"))
    return Path(args.runs_dir) / f"{label}__{agent_name}__s{args.seed}__{suffix}"


def record_video(agent: torch.nn.Module, env_id: str, env_kwargs: dict[str, Any], path: Path, seed: int,
                 max_steps: int, fps: int, device: torch.device) -> tuple[float, int]:
    """Play one episode (policy samples actions) in a single rgb_array env and write an H.264 mp4 at `path`.

    The actions are sampled from a copy of torch's RNG, so training continues as if no video had been made: a seeded
    run's weights do not depend on --video-interval or on how long the recorded episode lasted."""
    import imageio.v2 as imageio

    env = gym.make(env_id, render_mode="rgb_array", **env_kwargs)
    frames, episode_return, steps = [], 0.0, 0
    try:
        with torch.random.fork_rng(devices=[torch.cuda.current_device()] if device.type == "cuda" else []):
            obs, _ = env.reset(seed=seed)
            frames.append(env.render())
            for steps in range(1, max_steps + 1):
                with torch.no_grad():
                    action, _, _, _ = agent.get_action_and_value(torch.as_tensor(obs, device=device).unsqueeze(0))
                obs, reward, terminated, truncated, _ = env.step(int(action.item()))
                episode_return += float(reward)
                frames.append(env.render())
                if terminated or truncated:
                    break
    finally:
        env.close()
    # libx264 with yuv420p needs even width and height: pad by edge replication when odd
    height, width = frames[0].shape[:2]
    pad = ((0, height % 2), (0, width % 2), (0, 0))
    with atomic_path(path) as tmp, imageio.get_writer(tmp, fps=fps, codec="libx264", pixelformat="yuv420p",
                                                        macro_block_size=1) as writer:
        for frame in frames:
            writer.append_data(np.pad(frame, pad, mode="edge") if any(p[1] for p in pad) else frame)
    return episode_return, steps


class TrainingStopped(UserError):
    """Training ended early (Ctrl-C, SIGTERM, an env worker that died) after checkpointing: the same command resumes."""


class StopRequested(Exception):
    """Raised inside train() at a safe point after SIGINT or SIGTERM; carries the signal's name."""


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextlib.contextmanager
def stop_on_signals() -> Iterator[list[str]]:
    """Yield a list that SIGINT (Ctrl-C) and SIGTERM append their name to instead of ending the process, so that
    train() stops at its next env step or iteration end and checkpoints first; a second signal raises
    KeyboardInterrupt at once. The previous handlers come back on exit. Off the main thread, where Python cannot
    handle signals, it installs nothing."""
    received: list[str] = []

    def request_stop(signum: int, _frame: Any) -> None:
        if received:
            raise KeyboardInterrupt
        received.append(signal.Signals(signum).name)

    if threading.current_thread() is not threading.main_thread():
        yield received
        return
    previous = {signum: signal.signal(signum, request_stop) for signum in STOP_SIGNALS}
    try:
        yield received
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def env_failure_types() -> tuple[type[BaseException], ...]:
    """Errors of a vector env that died under training (a GBC worker process killed): train() checkpoints, then
    stops with a TrainingStopped. Empty without gbc installed."""
    try:
        from gbc.vector import WorkerDiedError
    except ModuleNotFoundError as err:
        if err.name != "gbc":
            raise
        return ()
    return (WorkerDiedError,)


def stopped_message(cause: BaseException, signals: list[str], checkpoint: Path | None, step: int) -> str:
    """TrainingStopped's message: what stopped training, what was saved, and that rerunning resumes. A signal
    received counts as the cause even when an env failed first: Ctrl-C in a terminal reaches the env's worker
    processes too, and they end on it."""
    what = (f"training stopped by {signals[0]}" if signals
            else f"training stopped because its env failed: {cause}")
    if checkpoint is None:
        return f"{what}; nothing was trained yet, so nothing was saved: run the same command again to start"
    return (f"{what}; the checkpoint {checkpoint} holds env step {step}: run the same command again to resume "
            "from it")


def check_rollout_fits(rollout: dict[str, Any] | None, saved_args: dict[str, Any], args: PPOArgs,
                       checkpoint_path: Path) -> None:
    """Raise CheckpointError when the rollout a checkpoint saved (with its envs' states) cannot go on under `args`."""
    if rollout is None:
        return
    if rollout["envs"]["num_envs"] != args.num_envs:
        raise CheckpointError(f"checkpoint {checkpoint_path} holds the states of {rollout['envs']['num_envs']} envs, "
                              f"not {args.num_envs}; resume with --num-envs {rollout['envs']['num_envs']}, or pick a "
                              "new --run-name")
    if rollout["steps_done"] > 0 and saved_args["num_steps"] != args.num_steps:
        raise CheckpointError(f"checkpoint {checkpoint_path} stopped after {rollout['steps_done']} of the "
                              f"{saved_args['num_steps']} steps of a rollout; resume with --num-steps "
                              f"{saved_args['num_steps']}, or pick a new --run-name")


def train(args: PPOArgs, agent_name: str, network: dict[str, Any],
          callback: Callable[[dict[str, Any]], bool] | None = None) -> dict[str, Any]:
    """Train (or resume) a PPO agent; `network` is the config of agents.networks (its obs/action sizes filled in).

    `callback`, when given, is called after every iteration with the progress so far (iteration, global_step,
    train_seconds, cpu_seconds of this process, mean_return of the last RETURN_WINDOW episodes or nan, episodes);
    returning True stops training there (the final model is still written). scripts/tune.py prunes trials with it.
    """
    env_kwargs = validate_args(args)
    if network.get("type") != "cnn" and args.trunk_precision != "float32":
        raise UserError(f"--trunk-precision {args.trunk_precision} applies to a CNN's conv trunk; this "
                        f"{network.get('type')} network trains in float32: drop the flag")
    from torch.utils.tensorboard import SummaryWriter

    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    torch.backends.cudnn.deterministic = args.torch_deterministic
    torch_threads = use_torch_threads(args.torch_threads, training_cnn=network.get("type") == "cnn")
    device = torch.device("cuda" if torch.cuda.is_available() and args.cuda else "cpu")
    rng = np.random.default_rng(args.seed)

    envs = make_vec_env(args.env_id, args.num_envs, env_kwargs)
    autoreset_mode = autoreset_mode_of(envs)
    obs_space = envs.single_observation_space
    network = with_grid_layouts(network, args.env_id, env_kwargs)
    agent = build_network(network_for_space(network, obs_space, envs.single_action_space)).to(device)
    if network.get("type") == "cnn":
        agent.trunk_dtype = trunk_dtype_for(args.trunk_precision, device)
    trunk_dtype = trunk_dtype_name(agent)
    optimizer = optim.Adam(agent.parameters(), lr=args.learning_rate, eps=1e-5)

    # run folder, resuming from its checkpoint when there is one
    run_dir = run_dir_for(args, agent_name)
    checkpoint_path = run_dir / "checkpoints" / CHECKPOINT_NAME
    global_step, start_iteration, resumed_seconds = 0, 1, 0.0
    saved_rollout = None  # where the checkpoint's rollout stopped, with the envs' states (rollout_state below)
    if checkpoint_path.exists():
        payload = read_checkpoint(checkpoint_path)
        if payload.get("agent_name") != agent_name:
            raise CheckpointError(f"checkpoint {checkpoint_path} belongs to agent {payload.get('agent_name')!r}, "
                                  f"not {agent_name!r}; pick another --run-name")
        load_into(checkpoint_path, agent, optimizer, payload=payload)
        if (payload["env_id"], payload["env_kwargs"]) != (args.env_id, env_kwargs):
            raise CheckpointError(
                f"checkpoint {checkpoint_path} was trained on {payload['env_id']} with env kwargs "
                f"{payload['env_kwargs']}, not {args.env_id} with {env_kwargs}; resume with the same --env-id and "
                "--env-kwargs, or pick a new --run-name"
            )
        check_state_spec(payload.get("state_spec"), envs.metadata.get("state_spec"), checkpoint_path)
        global_step, start_iteration = payload["global_step"], payload["iteration"] + 1
        resumed_seconds = payload["train_seconds"]
        if start_iteration > args.num_iterations and (run_dir / FINAL_MODEL_NAME).exists():  # say so, log nothing
            envs.close()
            print(f"{run_dir} is already complete: {global_step} env steps of --total-timesteps "
                  f"{args.total_timesteps}. Pass a larger --total-timesteps to train it further, or a new --run-name")
            return {"run_dir": str(run_dir), "final_model": str(run_dir / FINAL_MODEL_NAME),
                    "global_step": global_step, "iterations": payload["iteration"],
                    "train_seconds": resumed_seconds, "already_complete": True}
        torch.set_rng_state(payload["rng"]["torch"])
        rng.bit_generator.state = payload["rng"]["numpy"]
        saved_rollout = decode(payload["rollout"]) if payload.get("rollout") is not None else None
        check_rollout_fits(saved_rollout, payload["args"], args, checkpoint_path)
        print(f"resuming {run_dir} from iteration {payload['iteration']} (step {global_step})")
        if saved_rollout is None:
            print("this checkpoint holds no state of its envs (written by older code, after an env failed, or for an "
                  "env that cannot save its state): the envs start afresh, so the run departs from an unbroken one")
    run_dir.mkdir(parents=True, exist_ok=True)
    commit = code_version()
    write_json(run_dir / CONFIG_NAME, {
        "agent_name": agent_name, "args": dataclasses.asdict(args), "network": agent.config,
        "autoreset_mode": autoreset_mode.value, "device": str(device), "commit": commit,
        "torch_threads_used": torch_threads, "trunk_dtype_used": trunk_dtype,
    })
    # purge what an interrupted session logged after the checkpoint (steps > global_step), keep the rest
    writer = SummaryWriter(str(run_dir), purge_step=global_step + 1 if global_step > 0 else None)
    if global_step == 0:
        writer.add_text("hyperparameters", "|param|value|\n|-|-|\n" + "\n".join(
            f"|{key}|{value}|" for key, value in dataclasses.asdict(args).items()))

    def train_seconds() -> float:
        """Wall-clock seconds of training so far, over all sessions of this run (videos and checkpoints included)."""
        return resumed_seconds + time.perf_counter() - session_start

    def checkpoint_state(iteration: int, step: int | None = None, torch_rng: torch.Tensor | None = None,
                         rollout: dict[str, Any] | None = None) -> dict[str, Any]:
        """What a checkpoint holds besides the weights: by default the state now, else that of an earlier
        iteration end (`step` and the torch RNG then; the weights and the numpy RNG change only in updates);
        `rollout` (rollout_state) lets a resumed run go on exactly where this one is."""
        rng_state = {"torch": torch.get_rng_state() if torch_rng is None else torch_rng,
                     "numpy": rng.bit_generator.state}
        return {"agent_name": agent_name, "env_id": args.env_id, "env_kwargs": env_kwargs,
                "global_step": global_step if step is None else step, "iteration": iteration,
                "train_seconds": train_seconds(),
                "args": dataclasses.asdict(args), "rng": rng_state,
                "obs_shape": list(obs_space.shape), "obs_dtype": str(obs_space.dtype),
                "n_actions": int(envs.single_action_space.n), "commit": commit, "device": str(device),
                "state_spec": envs.metadata.get("state_spec"), "rollout": rollout}

    # rollout storage; observations keep the env's dtype (uint8 frames stay 1 byte each)
    shape = (args.num_steps, args.num_envs)
    obs = torch.zeros(shape + obs_space.shape, dtype=torch.from_numpy(np.zeros(0, obs_space.dtype)).dtype,
                      device=device)
    actions = torch.zeros(shape, dtype=torch.long, device=device)
    logprobs, rewards, values, terminations, dones = (torch.zeros(shape, device=device) for _ in range(5))
    valid = np.zeros(shape, dtype=bool)
    buffers = {"obs": obs, "actions": actions, "logprobs": logprobs, "rewards": rewards, "values": values,
               "terminations": terminations, "dones": dones}

    # per sub-env episode bookkeeping, independent of any wrapper
    episode_returns, episode_lengths = np.zeros(args.num_envs), np.zeros(args.num_envs, dtype=np.int64)
    recent_returns: deque[float] = deque(maxlen=RETURN_WINDOW)
    episodes_finished = 0

    timers = {"env": 0.0, "inference": 0.0, "update": 0.0}
    session_start, session_start_step = time.perf_counter(), global_step
    cpu_start = time.process_time()

    progress, progress_step = None, global_step  # the bar, and the env step it shows
    if args.progress_bar:
        from tqdm import tqdm

        progress = tqdm(total=args.num_iterations * args.batch_size, initial=global_step, unit="step",
                        desc=f"{agent_name} {args.env_id} s{args.seed}", dynamic_ncols=True)

    def rollout_state(steps_done: int) -> dict[str, Any] | None:
        """Everything the rollout needs to go on from here, `steps_done` steps into the current iteration: the envs'
        states, the last observations, the episode bookkeeping and the rollout so far (encoded for a checkpoint).
        None when the envs cannot save their state (agents.rollout_state)."""
        env_state = capture_envs(envs)
        if env_state is None:
            return None
        return encode({
            "steps_done": steps_done, "envs": env_state, "next_obs": next_obs.cpu().numpy(),
            "prev_done": prev_done.copy(), "prev_lives": None if prev_lives is None else np.array(prev_lives),
            "episode_returns": episode_returns.copy(), "episode_lengths": episode_lengths.copy(),
            "recent_returns": list(recent_returns), "episodes_finished": episodes_finished,
            "buffers": {name: buffer[:steps_done].cpu().clone() for name, buffer in buffers.items()},
            "valid": valid[:steps_done].copy(),
        })

    def stopped_rollout_state(steps_done: int) -> dict[str, Any] | None:
        """rollout_state after a signal, or None when the envs died on it too (a GBC worker killed meanwhile)."""
        try:
            return rollout_state(steps_done)
        except env_failure_types():
            return None

    # the end of the last whole iteration: what a stop saves when the envs cannot save their state
    iteration = last_whole = start_iteration - 1
    last_whole_step, last_whole_rng = global_step, torch.get_rng_state()
    saved_iteration = last_whole if global_step > 0 else None
    saved_step = global_step
    steps_done = 0  # env steps of the current iteration's rollout done (per sub-env)
    with stop_on_signals() as signals:
        try:
            if saved_rollout is None:
                next_obs_np, _ = envs.reset(seed=args.seed + (start_iteration - 1) * args.num_envs)
                next_obs = torch.as_tensor(next_obs_np, device=device)
                prev_done = np.zeros(args.num_envs, dtype=bool)
                prev_lives = None  # lives after the previous step, for episodic_life
            else:  # go on exactly where the checkpoint stopped
                restore_envs(envs, saved_rollout["envs"])
                next_obs = torch.as_tensor(saved_rollout["next_obs"], device=device)
                prev_done, prev_lives = saved_rollout["prev_done"], saved_rollout["prev_lives"]
                episode_returns, episode_lengths = saved_rollout["episode_returns"], saved_rollout["episode_lengths"]
                recent_returns.extend(saved_rollout["recent_returns"])
                episodes_finished = saved_rollout["episodes_finished"]
                steps_done = saved_rollout["steps_done"]
                for name, buffer in buffers.items():
                    buffer[:steps_done] = saved_rollout["buffers"][name].to(device)
                valid[:steps_done] = saved_rollout["valid"]

            for iteration in range(start_iteration, args.num_iterations + 1):
                if args.anneal_lr:
                    frac = 1.0 - (iteration - 1.0) / args.num_iterations
                    optimizer.param_groups[0]["lr"] = frac * args.learning_rate

                for step in range(steps_done, args.num_steps):
                    global_step += args.num_envs
                    obs[step] = next_obs
                    valid[step] = ~prev_done

                    tick = time.perf_counter()
                    with torch.inference_mode():
                        action, logprob, _, value = agent.get_action_and_value(next_obs)
                    values[step] = value.flatten()
                    actions[step], logprobs[step] = action, logprob
                    action_np = action.cpu().numpy()
                    timers["inference"] += time.perf_counter() - tick

                    tick = time.perf_counter()
                    next_obs_np, reward, terminated, truncated, infos = envs.step(action_np)
                    timers["env"] += time.perf_counter() - tick

                    reward = np.asarray(reward, dtype=np.float64)
                    done = np.logical_or(terminated, truncated)
                    learn_reward, learn_terminated = reward.copy(), np.asarray(terminated, dtype=bool)
                    if autoreset_mode is AutoresetMode.SAME_STEP and done.any():
                        tick = time.perf_counter()
                        for env_index in np.flatnonzero(truncated & ~np.asarray(terminated)):
                            final_obs = torch.as_tensor(infos["final_obs"][env_index], device=device).unsqueeze(0)
                            with torch.inference_mode():
                                learn_reward[env_index] += args.gamma * agent.get_value(final_obs).item()
                        learn_terminated = done  # the next obs belongs to a new episode: never bootstrap from it
                        timers["inference"] += time.perf_counter() - tick
                    learn_done = done
                    if args.episodic_life and "lives" in infos:
                        lives = np.asarray(infos["lives"])
                        if prev_lives is not None:
                            life_lost = (lives < prev_lives) & valid[step] & ~done
                            learn_terminated, learn_done = learn_terminated | life_lost, done | life_lost
                        prev_lives = lives
                    rewards[step] = torch.as_tensor(learn_reward, dtype=torch.float32, device=device)
                    terminations[step] = torch.as_tensor(learn_terminated, dtype=torch.float32, device=device)
                    dones[step] = torch.as_tensor(learn_done, dtype=torch.float32, device=device)
                    next_obs = torch.as_tensor(next_obs_np, device=device)

                    live = valid[step]
                    episode_returns[live] += reward[live]
                    episode_lengths[live] += 1
                    for env_index in np.flatnonzero(done & live):
                        episodes_finished += 1
                        recent_returns.append(float(episode_returns[env_index]))
                        writer.add_scalar("charts/episodic_return", episode_returns[env_index], global_step)
                        writer.add_scalar("charts/episodic_length", episode_lengths[env_index], global_step)
                        episode_returns[env_index], episode_lengths[env_index] = 0.0, 0
                    prev_done = done if autoreset_mode is AutoresetMode.NEXT_STEP else np.zeros_like(done)
                    steps_done = step + 1
                    if signals:
                        raise StopRequested(signals[0])

                tick = time.perf_counter()
                with torch.inference_mode():
                    next_value = agent.get_value(next_obs).reshape(1, -1)[0]
                timers["inference"] += time.perf_counter() - tick

                tick = time.perf_counter()
                with torch.no_grad():
                    advantages, returns = compute_gae(rewards, values, next_value, terminations, dones,
                                                      args.gamma, args.gae_lambda)
                batch = Rollout(
                    obs=obs.reshape((-1,) + obs_space.shape), actions=actions.reshape(-1), logprobs=logprobs.reshape(-1),
                    values=values.reshape(-1), advantages=advantages.reshape(-1), returns=returns.reshape(-1),
                    valid=valid.reshape(-1),
                )
                stats = ppo_update(agent, optimizer, batch, rng, args.update_epochs, args.num_minibatches, args.clip_coef,
                                   args.clip_vloss, args.ent_coef, args.vf_coef, args.max_grad_norm, args.norm_adv,
                                   args.target_kl)
                timers["update"] += time.perf_counter() - tick
                steps_done = 0

                session_seconds = time.perf_counter() - session_start
                sps = (global_step - session_start_step) / session_seconds
                writer.add_scalar("charts/learning_rate", optimizer.param_groups[0]["lr"], global_step)
                for key, value in stats.items():
                    writer.add_scalar(key, value, global_step)
                writer.add_scalar("charts/SPS", sps, global_step)
                writer.add_scalar("charts/train_seconds", train_seconds(), global_step)
                for name, seconds in timers.items():
                    writer.add_scalar(f"perf/{name}_fraction", seconds / session_seconds, global_step)

                if args.checkpoint_interval and iteration % args.checkpoint_interval == 0:
                    save_checkpoint(checkpoint_path, agent, optimizer,
                                    checkpoint_state(iteration, rollout=rollout_state(0)))
                    saved_iteration, saved_step = iteration, global_step
                if args.video_interval and (iteration % args.video_interval == 0 or iteration == args.num_iterations):
                    video_path = run_dir / "videos" / f"iter{iteration:06d}_step{global_step:09d}.mp4"
                    video_return, _ = record_video(agent, args.env_id, env_kwargs, video_path, args.seed + iteration,
                                                   args.video_max_steps, args.video_fps, device)
                    writer.add_scalar("charts/video_episode_return", video_return, global_step)
                if progress is not None:
                    progress.update(global_step - progress_step)  # a batch, less what a resumed rollout had done
                    progress_step = global_step
                    mean_return = np.mean(recent_returns) if recent_returns else float("nan")
                    progress.set_postfix(ret=f"{mean_return:.1f}", sps=f"{sps:.0f}")
                last_whole, last_whole_step, last_whole_rng = iteration, global_step, torch.get_rng_state()
                if signals:
                    raise StopRequested(signals[0])
                if callback is not None and callback({
                    "iteration": iteration, "global_step": global_step, "train_seconds": train_seconds(),
                    "cpu_seconds": time.process_time() - cpu_start, "episodes": episodes_finished,
                    "mean_return": float(np.mean(recent_returns)) if recent_returns else float("nan"),
                }):
                    break

            save_checkpoint(checkpoint_path, agent, optimizer, checkpoint_state(iteration, rollout=rollout_state(0)))
            final_model = save_checkpoint(run_dir / FINAL_MODEL_NAME, agent, None, checkpoint_state(iteration))
        except (StopRequested, *env_failure_types()) as err:
            # save where the rollout stopped, with the envs' states, so that the same command goes on exactly from
            # there; when the envs cannot save theirs (or have died), the last whole iteration (unless saved already)
            rollout = stopped_rollout_state(steps_done) if isinstance(err, StopRequested) and last_whole > 0 else None
            if rollout is not None:
                save_checkpoint(checkpoint_path, agent, optimizer, checkpoint_state(last_whole, rollout=rollout))
                saved_iteration, saved_step = last_whole, global_step
            elif last_whole > 0 and last_whole != saved_iteration:
                save_checkpoint(checkpoint_path, agent, optimizer,
                                checkpoint_state(last_whole, last_whole_step, last_whole_rng))
                saved_iteration, saved_step = last_whole, last_whole_step
            checkpoint = checkpoint_path if saved_iteration is not None else None
            raise TrainingStopped(stopped_message(err, signals, checkpoint, saved_step)) from None
        finally:
            if progress is not None:
                progress.close()
            writer.close()
            envs.close()

    session_seconds = time.perf_counter() - session_start
    summary = {
        "run_dir": str(run_dir), "final_model": str(final_model), "global_step": global_step,
        "iterations": iteration, "train_seconds": train_seconds(), "episodes": episodes_finished,
        "mean_return_last_episodes": float(np.mean(recent_returns)) if recent_returns else float("nan"),
        "sps": (global_step - session_start_step) / session_seconds if session_seconds > 0 else float("nan"),
        "session_seconds": session_seconds, "torch_threads": torch_threads, "trunk_dtype": trunk_dtype,
        **{f"{name}_fraction": seconds / session_seconds for name, seconds in timers.items()},
    }
    print(f"wrote run to {run_dir} (final model {final_model}, TensorBoard: tensorboard --logdir {args.runs_dir})")
    return summary
