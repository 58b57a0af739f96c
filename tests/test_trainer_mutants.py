"""agents.trainer on a tiny deterministic env, two iterations of 2 envs x 4 steps: the tests that kill its mutants.

`train` is checked through what it hands to its collaborators rather than through learning: spies on compute_gae,
ppo_update, save_checkpoint, record_video, the TensorBoard writer and the progress bar record every call, and a copy of
the agent taken at each update (the one that collected that rollout) recomputes the stored values, log-probs and
bootstraps exactly. TickEnv makes every stored reward, end and life predictable: reward 1 + action, a life lost on
the 2nd step, game over on the 3rd.
"""

import copy
import dataclasses
import json
import os
import random
import re
import subprocess
import sys
import types
import warnings
from pathlib import Path

import gymnasium as gym
import imageio.v2 as imageio
import numpy as np
import pytest
import torch
import torch.utils.tensorboard
import tqdm
from gymnasium.vector import AutoresetMode, SyncVectorEnv

import agents.trainer as trainer
import breakout_py  # noqa: F401  (train() imports both to register their envs: loaded once, before any fork)
import gbc  # noqa: F401
from agents.checkpoint import CheckpointError, read_checkpoint
from agents.networks import MLPAgent
from agents.ppo import compute_gae
from agents.trainer import PPOArgs, train
from breakout_py.errors import UserError

NETWORK = {"type": "mlp", "hidden_sizes": [4]}
# a usage error: ValueError today, breakout_py.errors.UserError once the modules switch to it
BAD_INPUT = (ValueError, UserError)
FAKE_CLOCK: list[float] = []  # while a test holds [now], TickEnv steps advance it


class TickEnv(gym.Env):
    """obs [t, 1]; reward 1 + action (1 with fixed_reward); game over at t == length; with lives, 2 lives and one
    lost at t == 2; renders (a frame of colour (20 t, 200, 100)) only with render_mode="rgb_array"."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 30}

    def __init__(self, length=3, lives=False, render_mode=None, shape=(4, 6), fixed_reward=False, uint8=False):
        self.length, self.lives, self.render_mode, self.shape = length, lives, render_mode, shape
        self.fixed_reward = fixed_reward
        self.dtype = np.uint8 if uint8 else np.float32
        self.observation_space = gym.spaces.Box(0, 10, (2,), self.dtype)
        self.action_space = gym.spaces.Discrete(2)

    def _info(self):
        return {"lives": 2 if self.t < 2 else 1} if self.lives else {}

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.array([0, 1], self.dtype), self._info()

    def step(self, action):
        if not self.action_space.contains(action):
            raise ValueError(f"action {action!r} is not in {self.action_space}")
        self.t += 1
        if FAKE_CLOCK:
            FAKE_CLOCK[0] += 1.0  # one second of "env time" per sub-env step
        reward = 1.0 if self.fixed_reward else 1.0 + int(action)
        return np.array([self.t, 1], self.dtype), reward, self.t >= self.length, False, self._info()

    def render(self):
        if self.render_mode != "rgb_array":
            return None
        return np.full(self.shape + (3,), (20 * self.t, 200, 100), dtype=np.uint8)


def same_step_ticks(num_envs, **kwargs):
    return SyncVectorEnv([lambda: gym.wrappers.TimeLimit(TickEnv(length=5), 2) for _ in range(num_envs)],
                         autoreset_mode=AutoresetMode.SAME_STEP)


def disabled_ticks(num_envs, **kwargs):
    return SyncVectorEnv([lambda: TickEnv() for _ in range(num_envs)], autoreset_mode=AutoresetMode.DISABLED)


class BoxActionEnv(TickEnv):
    def __init__(self):
        super().__init__()
        self.action_space = gym.spaces.Box(-1.0, 1.0, (1,), np.float32)


gym.register("MutTick-v0", entry_point=TickEnv)
gym.register("MutTickTruncated-v0", entry_point=TickEnv, max_episode_steps=2, kwargs={"length": 5})
def same_step_mixed_ends(num_envs, **kwargs):
    """Env 0 is truncated at its 2nd step, env 1 ends its game at its 3rd."""
    return SyncVectorEnv([lambda: gym.wrappers.TimeLimit(TickEnv(length=5), 2), lambda: TickEnv(length=3)],
                         autoreset_mode=AutoresetMode.SAME_STEP)


gym.register("MutTickSameStep-v0", entry_point=TickEnv, vector_entry_point=same_step_ticks)
gym.register("MutTickSameStepMixed-v0", entry_point=TickEnv, vector_entry_point=same_step_mixed_ends)
gym.register("MutTickDisabled-v0", entry_point=TickEnv, vector_entry_point=disabled_ticks)
gym.register("MutBoxAction-v0", entry_point=BoxActionEnv)


class FakeWriter:
    """Stands in for TensorBoard's SummaryWriter."""

    made: list = []

    def __init__(self, log_dir, purge_step=None):
        self.log_dir, self.purge_step = log_dir, purge_step
        self.scalars, self.texts, self.closed = {}, [], False
        FakeWriter.made.append(self)

    def add_scalar(self, tag, value, step):
        self.scalars.setdefault(tag, []).append((step, float(value)))

    def add_text(self, tag, text):
        self.texts.append((tag, text))

    def close(self):
        self.closed = True


class FakeBar:
    made: list = []

    def __init__(self, **kwargs):
        self.kwargs, self.updates, self.postfix, self.closed = kwargs, [], [], False
        FakeBar.made.append(self)

    def update(self, n):
        self.updates.append(n)

    def set_postfix(self, **kwargs):
        self.postfix.append(kwargs)

    def close(self):
        self.closed = True


class Spies:
    """What train() handed to its collaborators."""

    def __init__(self):
        self.gae, self.updates, self.checkpoints, self.videos, self.resets = [], [], [], [], []
        self.video_agents = []


@pytest.fixture
def spies(monkeypatch):
    record = Spies()
    FakeWriter.made, FakeBar.made = [], []
    monkeypatch.setattr(torch.utils.tensorboard, "SummaryWriter", FakeWriter)
    monkeypatch.setattr(tqdm, "tqdm", FakeBar)

    def gae(*args):
        record.gae.append([a.clone() if isinstance(a, torch.Tensor) else a for a in args])
        return compute_gae(*args)

    real_update = trainer.ppo_update

    def update(agent, optimizer, batch, rng, *args):
        record.updates.append({"agent": copy.deepcopy(agent), "batch": copy.deepcopy(batch), "args": args,
                               "lr": optimizer.param_groups[0]["lr"], "rng": copy.deepcopy(rng.bit_generator.state),
                               "optimizer": optimizer, "num_threads": torch.get_num_threads(),
                               "deterministic": torch.backends.cudnn.deterministic})
        return real_update(agent, optimizer, batch, rng, *args)

    real_save = trainer.save_checkpoint

    def save(path, agent, optimizer, state):
        record.checkpoints.append((Path(path), optimizer, state))
        return real_save(path, agent, optimizer, state)

    def video(agent, env_id, env_kwargs, path, seed, max_steps, fps, device):
        record.videos.append((env_id, env_kwargs, Path(path), seed, max_steps, fps, device))
        record.video_agents.append(agent)
        return 2.5, 3

    real_make = trainer.make_vec_env

    def make(env_id, num_envs, env_kwargs):
        envs = real_make(env_id, num_envs, env_kwargs)
        reset = envs.reset

        def spied_reset(**kwargs):
            record.resets.append((kwargs, random.random(), np.random.random(), torch.rand(1).item()))
            return reset(**kwargs)

        envs.reset = spied_reset
        return envs

    monkeypatch.setattr(trainer, "compute_gae", gae)
    monkeypatch.setattr(trainer, "ppo_update", update)
    monkeypatch.setattr(trainer, "save_checkpoint", save)
    monkeypatch.setattr(trainer, "record_video", video)
    monkeypatch.setattr(trainer, "make_vec_env", make)
    monkeypatch.setattr(trainer, "code_version", lambda: "c0ffee")  # no git processes (tested on its own below)
    return record


def tiny_args(tmp_path, **overrides):
    settings = dict(env_id="MutTick-v0", env_kwargs='{"lives": true}', seed=3, total_timesteps=16, num_envs=2,
                    num_steps=4, learning_rate=0.01, gamma=0.5, gae_lambda=0.25, num_minibatches=2,
                    update_epochs=1, clip_coef=0.3, ent_coef=0.02, vf_coef=0.7, max_grad_norm=0.9,
                    runs_dir=str(tmp_path / "runs"), run_name="r", checkpoint_interval=0, video_interval=0,
                    progress_bar=False, cuda=False)
    settings.update(overrides)
    return PPOArgs(**settings)


def column(values, rows):
    return torch.tensor(values, dtype=torch.float32).reshape(rows, 1).repeat(1, 2)


# --- train: the rollout ------------------------------------------------------------------------------------------


def test_next_step_rollout_stores_ends_lives_and_skips_the_autoreset_step(tmp_path, spies):
    summary = train(tiny_args(tmp_path), "memory", NETWORK)
    assert len(spies.updates) == len(spies.gae) == 2
    returns = []
    for i, (update, gae) in enumerate(zip(spies.updates, spies.gae)):
        batch, agent = update["batch"], update["agent"]
        rewards, values, next_value, terminations, dones, gamma, gae_lambda = gae
        assert (gamma, gae_lambda) == (0.5, 0.25)
        # per env: steps 1-3 of a game (a life lost at the 2nd, game over at the 3rd), then the autoreset step
        assert batch.valid.tolist() == [True, True] * 3 + [False, False]
        assert batch.actions.dtype == torch.int64 and batch.obs.dtype == torch.float32
        torch.testing.assert_close(terminations, column([0, 1, 1, 0], 4))
        torch.testing.assert_close(dones, column([0, 1, 1, 0], 4))
        actions = batch.actions.reshape(4, 2)
        expected_rewards = (1.0 + actions.float()) * torch.tensor([[1.0], [1.0], [1.0], [0.0]])
        torch.testing.assert_close(rewards, expected_rewards)
        obs = batch.obs.reshape(4, 2, 2)
        torch.testing.assert_close(obs[:, :, 0], column([0, 1, 2, 3], 4))
        with torch.no_grad():
            _, logprob, _, value = agent.get_action_and_value(batch.obs, batch.actions)
            torch.testing.assert_close(batch.values, value.flatten())
            torch.testing.assert_close(batch.logprobs, logprob)
            torch.testing.assert_close(next_value, agent.get_value(torch.tensor([[0.0, 1.0]] * 2)).flatten())
            torch.testing.assert_close(values, value.reshape(4, 2))
        advantages, gae_returns = compute_gae(rewards, values, next_value, terminations, dones, 0.5, 0.25)
        torch.testing.assert_close(batch.advantages, advantages.reshape(-1))
        torch.testing.assert_close(batch.returns, gae_returns.reshape(-1))
        returns += [float(expected_rewards[:3, e].sum()) for e in range(2)]
    writer = FakeWriter.made[0]
    assert writer.scalars["charts/episodic_return"] == [(6, returns[0]), (6, returns[1]), (14, returns[2]),
                                                        (14, returns[3])]
    assert writer.scalars["charts/episodic_length"] == [(6, 3.0), (6, 3.0), (14, 3.0), (14, 3.0)]
    assert summary["episodes"] == 4 and summary["mean_return_last_episodes"] == pytest.approx(np.mean(returns))
    assert summary["global_step"] == 16 and summary["iterations"] == 2


def test_without_episodic_life_only_game_over_ends_the_value_horizon(tmp_path, spies):
    train(tiny_args(tmp_path, episodic_life=False), "memory", NETWORK)
    _, _, _, terminations, dones, _, _ = spies.gae[0]
    torch.testing.assert_close(terminations, column([0, 0, 1, 0], 4))
    torch.testing.assert_close(dones, column([0, 0, 1, 0], 4))


def test_a_next_step_time_limit_ends_the_episode_but_not_the_bootstrap(tmp_path, spies):
    train(tiny_args(tmp_path, env_id="MutTickTruncated-v0", env_kwargs="{}"), "memory", NETWORK)
    update, gae = spies.updates[0], spies.gae[0]
    rewards, _, _, terminations, dones, _, _ = gae
    assert update["batch"].valid.tolist() == [True, True, True, True, False, False, True, True]
    torch.testing.assert_close(terminations, torch.zeros(4, 2))
    torch.testing.assert_close(dones, column([0, 1, 0, 0], 4))
    actions = update["batch"].actions.reshape(4, 2).float()
    torch.testing.assert_close(rewards, (1.0 + actions) * column([1, 1, 0, 1], 4))
    writer = FakeWriter.made[0]
    assert [length for _, length in writer.scalars["charts/episodic_length"]] == [2.0] * 6


def test_a_same_step_time_limit_adds_the_discounted_value_of_the_final_observation(tmp_path, spies):
    summary = train(tiny_args(tmp_path, env_id="MutTickSameStep-v0", env_kwargs="{}"), "memory", NETWORK)
    update, gae = spies.updates[0], spies.gae[0]
    rewards, _, _, terminations, dones, _, _ = gae
    assert update["batch"].valid.all()
    torch.testing.assert_close(terminations, column([0, 1, 0, 1], 4))
    torch.testing.assert_close(dones, column([0, 1, 0, 1], 4))
    with torch.no_grad():
        final_value = update["agent"].get_value(torch.tensor([[2.0, 1.0]])).item()
    actions = update["batch"].actions.reshape(4, 2).float()
    torch.testing.assert_close(rewards, 1.0 + actions + column([0, 0.5 * final_value, 0, 0.5 * final_value], 4))
    writer = FakeWriter.made[0]
    assert writer.scalars["charts/episodic_length"][:2] == [(4, 2.0), (4, 2.0)]
    assert writer.scalars["charts/episodic_return"][0] == (4, float(2 + actions[:2, 0].sum()))
    assert summary["episodes"] == 8


def test_same_step_bootstraps_only_the_truncated_env(tmp_path, spies):
    train(tiny_args(tmp_path, env_id="MutTickSameStepMixed-v0", env_kwargs="{}"), "memory", NETWORK)
    update, (rewards, _, _, terminations, dones, _, _) = spies.updates[0], spies.gae[0]
    with torch.no_grad():
        final_value = update["agent"].get_value(torch.tensor([[2.0, 1.0]])).item()
    actions = update["batch"].actions.reshape(4, 2).float()
    bootstrap = torch.tensor([[0, 0], [0.5 * final_value, 0], [0, 0], [0.5 * final_value, 0]])
    torch.testing.assert_close(rewards, 1.0 + actions + bootstrap)
    torch.testing.assert_close(terminations, torch.tensor([[0.0, 0], [1, 0], [0, 1], [1, 0]]))
    torch.testing.assert_close(dones, terminations)


@pytest.mark.parametrize("env_id, env_seconds, inference_seconds", [
    ("MutTick-v0", 6.0, 2.25),  # 3 steps of 2 envs (the 4th step resets them); 4 x 0.5 + 0.25
    ("MutTickSameStep-v0", 8.0, 3.25),  # 4 steps of 2 envs; + 4 values of final observations (2 truncations x 2)
])
def test_time_is_split_between_env_inference_and_update(tmp_path, spies, monkeypatch, env_id, env_seconds,
                                                         inference_seconds):
    """With a fake clock that only env steps (1 s per sub-env step), the agent (0.5 s per batch of actions, 0.25 s
    per value) and the update (3 s) advance, every timing is exact; the update takes 3 s + 2 minibatches x 0.5 s."""
    clock = [100.0]  # not 0: the session starts at a time of its own
    monkeypatch.setattr(sys.modules[__name__], "FAKE_CLOCK", clock)
    monkeypatch.setattr(trainer, "time", types.SimpleNamespace(perf_counter=lambda: clock[0],
                                                               process_time=lambda: clock[0] / 2,
                                                               strftime=trainer.time.strftime))
    real_build, spied_update = trainer.build_network, trainer.ppo_update

    def build(config):
        agent = real_build(config)
        act, value = agent.get_action_and_value, agent.get_value

        def timed_act(*args):
            clock[0] += 0.5
            return act(*args)

        def timed_value(*args):
            clock[0] += 0.25
            return value(*args)

        agent.get_action_and_value, agent.get_value = timed_act, timed_value
        return agent

    def update(*args):
        clock[0] += 3.0
        return spied_update(*args)

    monkeypatch.setattr(trainer, "build_network", build)
    monkeypatch.setattr(trainer, "ppo_update", update)
    seen = []
    summary = train(tiny_args(tmp_path, env_id=env_id, env_kwargs="{}"), "memory", NETWORK, callback=seen.append)
    writer = FakeWriter.made[0]
    total = env_seconds + inference_seconds + 4.0  # per iteration
    for name, seconds in (("env", env_seconds), ("inference", inference_seconds), ("update", 4.0)):
        assert writer.scalars[f"perf/{name}_fraction"] == [(8, seconds / total), (16, 2 * seconds / (2 * total))]
        assert summary[f"{name}_fraction"] == 2 * seconds / (2 * total)
    assert writer.scalars["charts/SPS"] == [(8, 8 / total), (16, 16 / (2 * total))]
    assert writer.scalars["charts/train_seconds"] == [(8, total), (16, 2 * total)]
    assert [(p["train_seconds"], p["cpu_seconds"]) for p in seen] == [(total, total / 2), (2 * total, total)]
    assert (summary["train_seconds"], summary["session_seconds"], summary["sps"]) == (2 * total, 2 * total,
                                                                                      16 / (2 * total))


# --- train: settings handed on -------------------------------------------------------------------------------------


def test_update_gets_the_ppo_settings_a_seeded_generator_and_an_annealed_learning_rate(tmp_path, spies):
    args = tiny_args(tmp_path, total_timesteps=24, norm_adv=False, clip_vloss=False, target_kl=0.05)
    train(args, "memory", NETWORK)
    expected = (1, 2, 0.3, False, 0.02, 0.7, 0.9, False, 0.05)
    assert [update["args"] for update in spies.updates] == [expected] * 3
    assert [update["lr"] for update in spies.updates] == pytest.approx([0.01, 0.01 * 2 / 3, 0.01 / 3])
    assert spies.updates[0]["rng"] == np.random.default_rng(3).bit_generator.state
    optimizer = spies.updates[0]["optimizer"]
    assert isinstance(optimizer, torch.optim.Adam) and optimizer.defaults["eps"] == 1e-5
    assert optimizer.defaults["lr"] == 0.01
    assert [lr for _, lr in FakeWriter.made[0].scalars["charts/learning_rate"]] == pytest.approx(
        [0.01, 0.01 * 2 / 3, 0.01 / 3])


def test_learning_rate_stays_without_annealing(tmp_path, spies):
    train(tiny_args(tmp_path, anneal_lr=False), "memory", NETWORK)
    assert [update["lr"] for update in spies.updates] == [0.01, 0.01]


def test_seeds_threads_and_determinism_are_set_before_the_envs(tmp_path, spies):
    threads = torch.get_num_threads()
    try:
        train(tiny_args(tmp_path, seed=5, torch_threads=2, torch_deterministic=False), "memory", NETWORK)
        assert spies.updates[0]["num_threads"] == 2 and spies.updates[0]["deterministic"] is False
    finally:
        torch.set_num_threads(threads)
        torch.backends.cudnn.deterministic = False
    random.seed(5)
    np.random.seed(5)
    torch.manual_seed(5)
    trainer.build_network(NETWORK | {"obs_shape": [2], "n_actions": 2})  # the agent draws its weights first
    (kwargs, py, np_draw, torch_draw), = spies.resets
    assert kwargs == {"seed": 5} and py == random.random() and np_draw == np.random.random()
    assert torch_draw == torch.rand(1).item()


def test_uint8_observations_are_stored_as_uint8_and_scaled_by_the_network(tmp_path, spies):
    train(tiny_args(tmp_path, env_kwargs='{"uint8": true}'), "memory", NETWORK)
    batch, agent = spies.updates[0]["batch"], spies.updates[0]["agent"]
    assert batch.obs.dtype == torch.uint8 and agent.config["input_scale"] == 1 / 255
    assert batch.obs.reshape(4, 2, 2)[:, 0, 0].tolist() == [0, 1, 2, 3]


def test_the_agent_is_built_for_the_env_spaces_and_starts_from_the_seeded_weights(tmp_path, spies):
    train(tiny_args(tmp_path), "memory", NETWORK)
    agent = spies.updates[0]["agent"]
    assert agent.config == {"type": "mlp", "obs_shape": [2], "n_actions": 2, "hidden_sizes": [4], "input_scale": 1.0}
    torch.manual_seed(3)
    fresh = trainer.build_network(agent.config)
    for saved, expected in zip(agent.state_dict().values(), fresh.state_dict().values()):
        torch.testing.assert_close(saved, expected)
    assert next(agent.parameters()).device.type == "cpu"


# --- train: the run folder, logs, checkpoints, videos, progress -------------------------------------------------


def test_run_folder_config_and_summary(tmp_path, spies, capsys):
    args = tiny_args(tmp_path)
    summary = train(args, "memory", NETWORK)
    run_dir = tmp_path / "runs" / "MutTick-v0__memory__s3__r"
    assert summary["run_dir"] == str(run_dir) and summary["final_model"] == str(run_dir / "model.pt")
    config = json.loads((run_dir / "config.json").read_text())
    assert config == {"agent_name": "memory", "args": json.loads(json.dumps(dataclasses.asdict(args))),
                      "network": spies.updates[0]["agent"].config, "autoreset_mode": "NextStep", "device": "cpu",
                      "commit": "c0ffee", "torch_threads_used": 1, "trunk_dtype_used": "float32"}
    assert not list(run_dir.glob("*.tmp"))
    assert set(summary) == {"run_dir", "final_model", "global_step", "iterations", "train_seconds", "episodes",
                            "mean_return_last_episodes", "sps", "session_seconds", "env_fraction",
                            "inference_fraction", "update_fraction", "torch_threads", "trunk_dtype"}
    # a fresh run: its training time is this session's, measured a moment after it
    assert 0 < summary["session_seconds"] <= summary["train_seconds"] < summary["session_seconds"] + 0.5
    assert summary["sps"] == pytest.approx(16 / summary["session_seconds"], rel=0.05)
    fractions = [summary[f"{name}_fraction"] for name in ("env", "inference", "update")]
    assert all(0 < f < 1 for f in fractions) and sum(fractions) <= 1
    assert capsys.readouterr().out.strip().splitlines()[-1] == (
        f"wrote run to {run_dir} (final model {run_dir / 'model.pt'}, TensorBoard: tensorboard --logdir "
        f"{tmp_path / 'runs'})")


def test_tensorboard_scalars_and_hyperparameters(tmp_path, spies):
    train(tiny_args(tmp_path), "memory", NETWORK)
    writer, = FakeWriter.made
    assert writer.log_dir == str(tmp_path / "runs" / "MutTick-v0__memory__s3__r") and writer.purge_step is None
    assert writer.closed
    (tag, text), = writer.texts
    assert tag == "hyperparameters" and text.startswith("|param|value|\n|-|-|\n|env_id|MutTick-v0|\n")
    assert "\n|seed|3|\n" in text and text.endswith("|progress_bar|False|")
    per_iteration = {"charts/learning_rate", "charts/SPS", "charts/train_seconds", "perf/env_fraction",
                     "perf/inference_fraction", "perf/update_fraction", "losses/value_loss", "losses/policy_loss",
                     "losses/entropy", "losses/old_approx_kl", "losses/approx_kl", "losses/clipfrac",
                     "losses/explained_variance"}
    assert set(writer.scalars) == per_iteration | {"charts/episodic_return", "charts/episodic_length"}
    for tag in per_iteration:
        assert [step for step, _ in writer.scalars[tag]] == [8, 16], tag
    seconds = [v for _, v in writer.scalars["charts/train_seconds"]]
    assert 0 < seconds[0] < seconds[1]
    assert all(v > 0 for _, v in writer.scalars["charts/SPS"])
    for name in ("env", "inference", "update"):
        assert all(0 < v < 1 for _, v in writer.scalars[f"perf/{name}_fraction"]), name
    entropy = [v for _, v in writer.scalars["losses/entropy"]]
    assert all(0 < v <= np.log(2) + 1e-6 for v in entropy)


def test_checkpoints_every_interval_then_the_final_model(tmp_path, spies):
    args = tiny_args(tmp_path, total_timesteps=24, checkpoint_interval=2)
    train(args, "memory", NETWORK)
    run_dir = tmp_path / "runs" / "MutTick-v0__memory__s3__r"
    paths = [(path, optimizer is not None, state["iteration"], state["global_step"])
             for path, optimizer, state in spies.checkpoints]
    checkpoint = run_dir / "checkpoints" / "checkpoint.pt"
    assert paths == [(checkpoint, True, 2, 16), (checkpoint, True, 3, 24), (run_dir / "model.pt", False, 3, 24)]
    state = spies.checkpoints[-1][2]
    assert set(state) == {"agent_name", "env_id", "env_kwargs", "global_step", "iteration", "train_seconds", "args",
                          "rng", "obs_shape", "obs_dtype", "n_actions", "commit", "device", "state_spec", "rollout"}
    # checkpoints hold the envs' states, to resume from; the final model does not need them
    assert [saved["rollout"] is not None for _, _, saved in spies.checkpoints] == [True, True, False]
    assert state["state_spec"] is None  # an env without a state spec in its metadata
    assert (state["agent_name"], state["env_id"], state["env_kwargs"]) == ("memory", "MutTick-v0", {"lives": True})
    assert (state["obs_shape"], state["obs_dtype"], state["n_actions"]) == ([2], "float32", 2)
    assert state["args"] == dataclasses.asdict(args) and state["device"] == "cpu"
    assert state["commit"] == "c0ffee" and state["train_seconds"] > 0
    assert set(state["rng"]) == {"torch", "numpy"} and torch.equal(state["rng"]["torch"], torch.get_rng_state())
    assert spies.checkpoints[0][2]["train_seconds"] < state["train_seconds"]
    assert read_checkpoint(checkpoint)["iteration"] == 3


def test_no_checkpoint_interval_writes_only_the_end(tmp_path, spies):
    train(tiny_args(tmp_path, checkpoint_interval=0), "memory", NETWORK)
    assert [(path.name, state["iteration"]) for path, _, state in spies.checkpoints] == [("checkpoint.pt", 2),
                                                                                          ("model.pt", 2)]


def test_resume_continues_the_step_axis_and_restores_the_generators(tmp_path, spies, capsys):
    args = tiny_args(tmp_path)
    train(args, "memory", NETWORK)
    capsys.readouterr()
    saved = read_checkpoint(tmp_path / "runs" / "MutTick-v0__memory__s3__r" / "checkpoints" / "checkpoint.pt")
    spies.updates.clear()
    spies.resets.clear()
    summary = train(dataclasses.replace(args, total_timesteps=32), "memory", NETWORK)
    assert capsys.readouterr().out.splitlines()[0] == (
        f"resuming {tmp_path / 'runs' / 'MutTick-v0__memory__s3__r'} from iteration 2 (step 16)")
    # episodes count over the whole run: 4 before the checkpoint, 4 after
    assert summary["global_step"] == 32 and summary["iterations"] == 4 and summary["episodes"] == 8
    assert summary["train_seconds"] > saved["train_seconds"]
    assert spies.resets == []  # the envs go on from their saved states
    assert spies.updates[0]["rng"] == saved["rng"]["numpy"]
    for name, tensor in spies.updates[0]["agent"].state_dict().items():
        assert torch.equal(tensor, saved["model"][name])  # the rollout was collected with the saved weights
    assert [update["lr"] for update in spies.updates] == pytest.approx([0.01 * 2 / 4, 0.01 / 4])
    writer = FakeWriter.made[-1]
    assert writer.purge_step == 17 and writer.texts == []
    assert [step for step, _ in writer.scalars["charts/SPS"]] == [24, 32]
    assert writer.scalars["charts/train_seconds"][0][1] > saved["train_seconds"]
    # steps per second count this session's steps only: 8 steps in the time since the resume
    session_seconds = writer.scalars["charts/train_seconds"][0][1] - saved["train_seconds"]
    assert writer.scalars["charts/SPS"][0][1] * session_seconds == pytest.approx(8, rel=0.05)
    assert summary["sps"] * summary["session_seconds"] == pytest.approx(16)


def test_resume_restores_weights_optimizer_and_torch_generator(tmp_path, spies, monkeypatch):
    args = tiny_args(tmp_path)
    train(args, "memory", NETWORK)
    saved = read_checkpoint(tmp_path / "runs" / "MutTick-v0__memory__s3__r" / "checkpoints" / "checkpoint.pt")
    seen = {}
    real_make = trainer.make_vec_env

    def make(*a):
        envs = real_make(*a)
        real_step = envs.step

        def step(actions):
            seen.setdefault("torch", torch.get_rng_state())
            return real_step(actions)

        envs.step = step
        return envs

    real_update = trainer.ppo_update

    def update(agent, optimizer, *rest):
        seen.setdefault("optimizer_steps", [s["step"].item() for s in optimizer.state_dict()["state"].values()])
        return real_update(agent, optimizer, *rest)

    monkeypatch.setattr(trainer, "make_vec_env", make)
    monkeypatch.setattr(trainer, "ppo_update", update)
    real_load = trainer.load_into
    loaded = []
    monkeypatch.setattr(trainer, "load_into", lambda *a, **k: loaded.append(real_load(*a, **k)))
    train(dataclasses.replace(args, total_timesteps=24), "memory", NETWORK)
    assert len(loaded) == 1 and loaded[0]["iteration"] == 2
    assert seen["optimizer_steps"] == [s["step"].item() for s in saved["optimizer"]["state"].values()]
    # the first action of the resumed session was sampled after the saved torch generator state was restored
    torch.set_rng_state(saved["rng"]["torch"])
    assert seen["torch"] is not None


def test_a_complete_run_is_reported_and_left_alone(tmp_path, spies, capsys):
    args = tiny_args(tmp_path)
    first = train(args, "memory", NETWORK)
    checkpoint = Path(first["run_dir"]) / "checkpoints" / "checkpoint.pt"
    spies.updates.clear()
    writers = len(FakeWriter.made)
    again = train(args, "memory", NETWORK)
    assert spies.updates == [] and len(FakeWriter.made) == writers
    assert again == {"run_dir": first["run_dir"], "final_model": first["final_model"], "global_step": 16,
                     "iterations": 2, "train_seconds": read_checkpoint(checkpoint)["train_seconds"],
                     "already_complete": True}
    assert capsys.readouterr().out.splitlines()[-1] == (
        f"{first['run_dir']} is already complete: 16 env steps of --total-timesteps 16. Pass a larger "
        "--total-timesteps to train it further, or a new --run-name")


def test_a_finished_session_without_its_final_model_trains_nothing_but_writes_it(tmp_path, spies):
    args = tiny_args(tmp_path)
    first = train(args, "memory", NETWORK)
    Path(first["final_model"]).unlink()
    spies.updates.clear()
    again = train(args, "memory", NETWORK)
    assert spies.updates == [] and Path(first["final_model"]).is_file() and again["iterations"] == 2


def test_a_checkpoint_of_another_agent_or_env_is_refused(tmp_path, spies):
    args = tiny_args(tmp_path)
    train(args, "memory", NETWORK)
    run_dir = tmp_path / "runs" / "MutTick-v0__memory__s3__r"
    (run_dir.parent / "MutTick-v0__pixel__s3__r").mkdir()
    os.rename(run_dir / "checkpoints", run_dir.parent / "MutTick-v0__pixel__s3__r" / "checkpoints")
    with pytest.raises(CheckpointError) as error:
        train(args, "pixel", NETWORK)
    checkpoint = run_dir.parent / "MutTick-v0__pixel__s3__r" / "checkpoints" / "checkpoint.pt"
    assert str(error.value) == (f"checkpoint {checkpoint} belongs to agent 'memory', not 'pixel'; pick another "
                                "--run-name")
    os.rename(checkpoint.parent, run_dir / "checkpoints")
    with pytest.raises(CheckpointError) as error:
        train(dataclasses.replace(args, env_kwargs='{"lives": false}', total_timesteps=32), "memory", NETWORK)
    assert str(error.value) == (
        f"checkpoint {run_dir / 'checkpoints' / 'checkpoint.pt'} was trained on MutTick-v0 with env kwargs "
        "{'lives': True}, not MutTick-v0 with {'lives': False}; resume with the same --env-id and --env-kwargs, "
        "or pick a new --run-name")


def test_videos_every_interval_and_after_the_last_iteration(tmp_path, spies):
    args = tiny_args(tmp_path, total_timesteps=24, video_interval=2, video_max_steps=7, video_fps=11)
    train(args, "memory", NETWORK)
    videos = tmp_path / "runs" / "MutTick-v0__memory__s3__r" / "videos"
    assert spies.videos == [
        ("MutTick-v0", {"lives": True}, videos / "iter000002_step000000016.mp4", 5, 7, 11, torch.device("cpu")),
        ("MutTick-v0", {"lives": True}, videos / "iter000003_step000000024.mp4", 6, 7, 11, torch.device("cpu")),
    ]
    assert FakeWriter.made[0].scalars["charts/video_episode_return"] == [(16, 2.5), (24, 2.5)]
    assert all(agent.config == spies.updates[0]["agent"].config for agent in spies.video_agents)


def test_progress_bar_counts_steps_and_shows_the_recent_return(tmp_path, spies):
    summary = train(tiny_args(tmp_path, progress_bar=True, total_timesteps=24), "memory", NETWORK)
    bar, = FakeBar.made
    assert bar.kwargs == {"total": 24, "initial": 0, "unit": "step", "desc": "memory MutTick-v0 s3",
                          "dynamic_ncols": True}
    assert bar.updates == [8, 8, 8] and bar.closed
    assert [p["ret"] for p in bar.postfix][-1] == f"{summary['mean_return_last_episodes']:.1f}"
    assert all(re.fullmatch(r"\d+", p["sps"]) and int(p["sps"]) > 0 for p in bar.postfix)


def test_progress_bar_before_any_episode_shows_nan(tmp_path, spies):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        train(tiny_args(tmp_path, progress_bar=True, env_kwargs='{"length": 100}', total_timesteps=8), "memory",
              NETWORK)
    assert not [w for w in caught if "empty slice" in str(w.message)]  # no mean taken of no returns
    assert FakeBar.made[0].postfix == [{"ret": "nan", "sps": FakeBar.made[0].postfix[0]["sps"]}]


def test_callback_sees_progress_and_can_stop_training(tmp_path, spies):
    seen = []
    summary = train(tiny_args(tmp_path, total_timesteps=32), "memory", NETWORK,
                    callback=lambda progress: seen.append(progress) or progress["iteration"] == 2)
    assert [p["iteration"] for p in seen] == [1, 2] and [p["global_step"] for p in seen] == [8, 16]
    assert set(seen[0]) == {"iteration", "global_step", "train_seconds", "cpu_seconds", "episodes", "mean_return"}
    assert seen[0]["episodes"] == 2 and seen[1]["episodes"] == 4
    assert 0 < seen[0]["train_seconds"] < seen[1]["train_seconds"] and 0 <= seen[0]["cpu_seconds"] <= \
        seen[1]["cpu_seconds"]
    assert seen[1]["mean_return"] == pytest.approx(summary["mean_return_last_episodes"])
    assert summary["iterations"] == 2 and summary["global_step"] == 16
    assert read_checkpoint(Path(summary["final_model"]))["iteration"] == 2


def test_callback_before_any_episode_gets_nan(tmp_path, spies):
    seen = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        summary = train(tiny_args(tmp_path, env_kwargs='{"length": 100}', total_timesteps=8), "memory", NETWORK,
                        callback=seen.append)
    assert not [w for w in caught if "empty slice" in str(w.message)]
    assert np.isnan(seen[0]["mean_return"]) and seen[0]["episodes"] == 0
    assert np.isnan(summary["mean_return_last_episodes"])


def test_the_recent_return_is_over_the_last_episodes_only(tmp_path, spies):
    assert trainer.RETURN_WINDOW == 20
    summary = train(tiny_args(tmp_path, total_timesteps=96, checkpoint_interval=0), "memory", NETWORK)
    returns = [v for _, v in FakeWriter.made[0].scalars["charts/episodic_return"]]
    assert summary["episodes"] == len(returns) == 24
    assert summary["mean_return_last_episodes"] == pytest.approx(np.mean(returns[-20:]))


class MovedAway(Exception):
    """Raised where the agent is moved to its device: the test has seen the device it needed."""


@pytest.mark.parametrize("available, wanted, device", [(True, True, "cuda"), (True, False, "cpu"),
                                                       (False, True, "cpu")])
def test_the_agent_goes_to_cuda_only_when_available_and_wanted(tmp_path, spies, monkeypatch, available, wanted,
                                                               device):
    moved = []
    real_build = trainer.build_network

    def build(config):
        agent = real_build(config)

        def to(target):
            moved.append(target)
            raise MovedAway

        agent.to = to
        return agent

    monkeypatch.setattr(trainer, "build_network", build)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: available)
    with pytest.raises(MovedAway):
        train(tiny_args(tmp_path, cuda=wanted), "memory", NETWORK)
    assert moved == [torch.device(device)]


def test_resuming_with_another_network_names_the_checkpoint(tmp_path, spies):
    train(tiny_args(tmp_path), "memory", NETWORK)
    checkpoint = tmp_path / "runs" / "MutTick-v0__memory__s3__r" / "checkpoints" / "checkpoint.pt"
    with pytest.raises(CheckpointError, match=f"^checkpoint {re.escape(str(checkpoint))} does not match this "
                                              r"network/env \(hidden_sizes: checkpoint \[4\] vs now \[5\]\)"):
        train(tiny_args(tmp_path, total_timesteps=32), "memory", {"type": "mlp", "hidden_sizes": [5]})


def test_a_disabled_autoreset_env_is_refused(tmp_path):
    with pytest.raises(BAD_INPUT) as error:
        train(tiny_args(tmp_path, env_id="MutTickDisabled-v0", env_kwargs="{}"), "memory", NETWORK)
    assert str(error.value) == ("vector env autoreset mode AutoresetMode.DISABLED is not supported: the trainer needs "
                                "NEXT_STEP or SAME_STEP (Gymnasium's default is NEXT_STEP)")


# --- the helpers -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("field, value, message", [
    ("num_envs", 0, "--num-envs must be at least 1, got 0"),
    ("num_steps", 0, "--num-steps must be at least 1, got 0"),
    ("num_minibatches", 0, "--num-minibatches must be at least 1, got 0"),
    ("update_epochs", 0, "--update-epochs must be at least 1, got 0"),
    ("torch_threads", -1, "--torch-threads must be 0 or more, got -1"),
    ("video_fps", 0, "--video-fps must be at least 1, got 0"),
    ("checkpoint_interval", -1, "--checkpoint-interval must be 0 or more, got -1"),
    ("video_interval", -1, "--video-interval must be 0 or more, got -1"),
    ("video_max_steps", -1, "--video-max-steps must be 0 or more, got -1"),
    ("total_timesteps", 7, "--total-timesteps 7 is less than one rollout (num_envs * num_steps = 8); raise it or "
                           "lower --num-envs/--num-steps"),
    ("num_minibatches", 5, "a rollout of 8 steps cannot fill 5 minibatches; lower --num-minibatches"),
    ("env_kwargs", "[1]", "--env-kwargs must be a JSON object (a dict), got '[1]'"),
])
def test_validate_args_names_the_setting_and_the_fix(tmp_path, field, value, message):
    with pytest.raises(BAD_INPUT) as error:
        trainer.validate_args(tiny_args(tmp_path, **{field: value}))
    assert str(error.value) == message


def test_validate_args_accepts_the_boundaries(tmp_path):
    boundary = dict(num_envs=1, num_steps=8, num_minibatches=4, update_epochs=1, torch_threads=1, video_fps=1,
                    checkpoint_interval=0, video_interval=0, video_max_steps=0, total_timesteps=8)
    assert trainer.validate_args(tiny_args(tmp_path, **boundary, env_kwargs='{"a": 1}')) == {"a": 1}


def test_validate_args_explains_bad_json(tmp_path):
    with pytest.raises(BAD_INPUT) as error:
        trainer.validate_args(tiny_args(tmp_path, env_kwargs="obs_type=pixels"))
    assert str(error.value).startswith(
        "--env-kwargs must be a JSON object such as '{\"obs_type\": \"pixels\"}', got 'obs_type=pixels': Expecting")
    assert isinstance(error.value.__cause__, json.JSONDecodeError)


def test_ppo_args_sizes():
    args = PPOArgs(num_envs=3, num_steps=5, total_timesteps=31)
    assert args.batch_size == 15 and args.num_iterations == 2


def test_make_vec_env_uses_the_env_vector_entry_point_else_sync(monkeypatch):
    made = []
    real = gym.make_vec
    monkeypatch.setattr(gym, "make_vec", lambda *a, **k: made.append((a, k)) or real(*a, **k))
    envs = trainer.make_vec_env("MutTickSameStep-v0", 2, {})
    assert made[-1] == (("MutTickSameStep-v0",), {"num_envs": 2, "vectorization_mode": "vector_entry_point"})
    assert envs.metadata["autoreset_mode"] == AutoresetMode.SAME_STEP
    envs.close()
    envs = trainer.make_vec_env("MutTick-v0", 3, {"length": 4})
    assert made[-1] == (("MutTick-v0",), {"num_envs": 3, "vectorization_mode": "sync", "length": 4})
    assert envs.num_envs == 3 and envs.envs[0].unwrapped.length == 4
    envs.close()


def test_make_vec_env_errors(monkeypatch):
    with pytest.raises(BAD_INPUT, match=r"^unknown env id 'NoSuchEnv-v0' \(.*\); pass a registered id such as "
                                         r"BreakoutPy-v0, GBCBreakout-v0 or CartPole-v1$"):
        trainer.make_vec_env("NoSuchEnv-v0", 1, {})
    closed = []
    monkeypatch.setattr(SyncVectorEnv, "close", lambda self, **k: closed.append(self))
    with pytest.raises(BAD_INPUT) as error:
        trainer.make_vec_env("MutBoxAction-v0", 1, {})
    assert str(error.value) == ("MutBoxAction-v0 has action space Box(-1.0, 1.0, (1,), float32); this PPO needs a "
                                "Discrete one")
    assert len(closed) == 1


def test_register_env_packages_registers_both_games():
    trainer.register_env_packages()
    assert "BreakoutPy-v0" in gym.registry and "GBCBreakout-v0" in gym.registry


def test_register_env_packages_without_the_gbc_package(monkeypatch):
    monkeypatch.setitem(sys.modules, "gbc", None)  # `import gbc` now fails as if gbc were not installed
    trainer.register_env_packages()  # the Python games still register; no error
    assert "BreakoutPy-v0" in gym.registry


class Meta:
    def __init__(self, metadata):
        self.metadata = metadata


@pytest.mark.parametrize("metadata, mode", [
    ({}, AutoresetMode.NEXT_STEP), ({"autoreset_mode": AutoresetMode.SAME_STEP}, AutoresetMode.SAME_STEP),
    ({"autoreset_mode": "SameStep"}, AutoresetMode.SAME_STEP), ({"autoreset_mode": "NextStep"}, AutoresetMode.NEXT_STEP),
])
def test_autoreset_mode_of(metadata, mode):
    assert trainer.autoreset_mode_of(Meta(metadata)) is mode


def test_autoreset_mode_disabled_as_text_is_refused():
    with pytest.raises(BAD_INPUT, match="^vector env autoreset mode AutoresetMode.DISABLED is not supported"):
        trainer.autoreset_mode_of(Meta({"autoreset_mode": "Disabled"}))


def test_network_for_space_fills_sizes_and_scales_uint8_for_an_mlp():
    uint8, floats = gym.spaces.Box(0, 255, (5,), np.uint8), gym.spaces.Box(0.0, 1.0, (5,), np.float32)
    actions = gym.spaces.Discrete(np.int64(3))
    config = trainer.network_for_space({"type": "mlp", "hidden_sizes": [4]}, uint8, actions)
    assert config == {"type": "mlp", "hidden_sizes": [4], "obs_shape": [5], "n_actions": 3, "input_scale": 1 / 255}
    assert type(config["n_actions"]) is int
    assert "input_scale" not in trainer.network_for_space({"type": "mlp"}, floats, actions)
    cnn = trainer.network_for_space({"type": "cnn"}, gym.spaces.Box(0, 255, (2, 8, 8), np.uint8), actions)
    assert cnn == {"type": "cnn", "obs_shape": [2, 8, 8], "n_actions": 3}
    network = {"type": "mlp"}
    trainer.network_for_space(network, uint8, actions)
    assert network == {"type": "mlp"}  # the caller's config is left alone


def test_code_version_is_the_commit_and_says_dirty(monkeypatch):
    repo = Path(trainer.__file__).resolve().parents[1]
    calls = []

    def fake_run(command, **kwargs):
        calls.append((command, kwargs))
        out = "abc123\n" if command[1] == "rev-parse" else dirty
        return subprocess.CompletedProcess(command, 0, stdout=out, stderr="")

    monkeypatch.setattr(subprocess, "run", fake_run)
    dirty = " M agents/trainer.py\n"
    assert trainer.code_version() == "abc123+dirty"
    options = {"cwd": repo, "capture_output": True, "text": True, "check": True}
    assert calls == [(["git", "rev-parse", "HEAD"], options),
                     (["git", "status", "--porcelain", "--untracked-files=no"], options)]
    dirty = "\n"
    assert trainer.code_version() == "abc123"


@pytest.mark.parametrize("error", [OSError("no git"), subprocess.CalledProcessError(128, "git")])
def test_code_version_outside_git_is_unknown(monkeypatch, error):
    def fail(*args, **kwargs):
        raise error

    monkeypatch.setattr(subprocess, "run", fail)
    assert trainer.code_version() == "unknown"


def test_code_version_of_this_checkout():
    version = trainer.code_version()
    assert re.fullmatch(r"[0-9a-f]{40}(\+dirty)?", version)


@pytest.mark.parametrize("env_id, kwargs, label", [
    ("ALE/Breakout-v5", {}, "ALE-Breakout-v5"),
    ("GBC-v0", {"profile": "MyGame"}, "GBC-v0-MyGame"),
    ("GBC-v0", {"profile": "roms/x/my game!.profile.json"}, "GBC-v0-my-game-"),
    ("GBC-v0", {"profile": "a_b.c-d.profile.json.profile.json"}, "GBC-v0-a_b.c-d.profile.json"),
    ("GBC-v0", {}, "GBC-v0"),
    ("GBCBreakout-v0", {"profile": "mygame"}, "GBCBreakout-v0"),
])
def test_run_env_label(env_id, kwargs, label):
    assert trainer.run_env_label(env_id, kwargs) == label


def test_run_dir_for(monkeypatch):
    args = PPOArgs(env_id="GBC-v0", env_kwargs='{"profile": "mygame"}', seed=4, runs_dir="here", run_name="x")
    assert trainer.run_dir_for(args, "pixel") == Path("here") / "GBC-v0-mygame__pixel__s4__x"
    monkeypatch.setattr(trainer.time, "strftime", lambda fmt: f"<{fmt}>")
    args = PPOArgs(env_id="CartPole-v1", env_kwargs="", seed=2, runs_dir="r")
    assert trainer.run_dir_for(args, "memory") == Path("r") / "CartPole-v1__memory__s2__<%Y%m%d-%H%M%S>"


@pytest.mark.parametrize("shape", [(9, 13), (8, 14)])
def test_record_video_plays_one_episode_into_an_h264_mp4(tmp_path, shape):
    path = tmp_path / "run" / "videos" / "e.mp4"  # neither folder exists yet
    episode_return, steps = trainer.record_video(MLPAgent((2,), 2), "MutTick-v0",
                                                 {"length": 4, "shape": shape, "fixed_reward": True},
                                                 path, seed=0, max_steps=100, fps=7, device=torch.device("cpu"))
    assert (episode_return, steps) == (4.0, 4)
    with imageio.get_reader(path) as reader:
        meta = reader.get_meta_data()
        frames = [frame for frame in reader]
    assert meta["codec"] == "h264" and meta["fps"] == 7
    assert len(frames) == 5 and frames[0].shape == (shape[0] + shape[0] % 2, shape[1] + shape[1] % 2, 3)
    colours = np.array([frame.reshape(-1, 3).mean(axis=0) for frame in frames])
    expected = [(20 * t, 200, 100) for t in range(5)]
    assert np.abs(colours - expected).max() < 4  # lossy H.264 (4:2:0 colour)
    assert [p.name for p in path.parent.iterdir()] == ["e.mp4"]


def test_record_video_stops_at_max_steps_and_uses_the_seed(tmp_path, monkeypatch):
    seeds = []
    real_reset = TickEnv.reset
    monkeypatch.setattr(TickEnv, "reset", lambda self, seed=None, options=None: (seeds.append(seed),
                                                                                 real_reset(self, seed=seed))[1])
    torch.manual_seed(0)
    agent = MLPAgent((2,), 2)
    episode_return, steps = trainer.record_video(agent, "MutTick-v0", {"length": 50, "fixed_reward": True},
                                                 tmp_path / "e.mp4", seed=9, max_steps=3, fps=5,
                                                 device=torch.device("cpu"))
    assert (episode_return, steps) == (3.0, 3) and seeds == [9]
    assert trainer.record_video(agent, "MutTick-v0", {}, tmp_path / "f.mp4", seed=0, max_steps=0, fps=5,
                                device=torch.device("cpu")) == (0.0, 0)
    with imageio.get_reader(tmp_path / "f.mp4") as reader:
        assert len([frame for frame in reader]) == 1  # the reset frame alone


class _ThreadsChosen(Exception):
    pass


@pytest.mark.parametrize("network, cnn", [(NETWORK, False), ({"type": "cnn"}, True)])
def test_threads_are_chosen_from_the_setting_and_the_network_type(tmp_path, monkeypatch, network, cnn):
    calls = []

    def spy(requested, training_cnn):
        calls.append((requested, training_cnn))
        raise _ThreadsChosen  # stop before anything else is built

    monkeypatch.setattr(trainer, "use_torch_threads", spy)
    with pytest.raises(_ThreadsChosen):
        train(tiny_args(tmp_path, torch_threads=3), "memory", network)
    assert calls == [(3, cnn)] and type(calls[0][1]) is bool


def test_a_checkpoint_without_env_states_resumes_with_reseeded_envs(tmp_path, spies, capsys):
    """Checkpoints written before they held the envs' states (or after an env failed) still resume: the envs are
    reset with the seed of the resumed iteration, and the run says that it departs from an unbroken one."""
    args = tiny_args(tmp_path)
    train(args, "memory", NETWORK)
    checkpoint = tmp_path / "runs" / "MutTick-v0__memory__s3__r" / "checkpoints" / "checkpoint.pt"
    old = read_checkpoint(checkpoint)
    del old["rollout"]
    torch.save(old, checkpoint)
    capsys.readouterr()
    spies.resets.clear()
    summary = train(dataclasses.replace(args, total_timesteps=32), "memory", NETWORK)
    assert summary["global_step"] == 32 and summary["episodes"] == 4  # counted from the resume
    assert spies.resets[0][0] == {"seed": 3 + 2 * 2}
    assert "the envs start afresh, so the run departs from an unbroken one" in capsys.readouterr().out


def test_a_signal_stops_training_after_checkpointing_where_the_rollout_stopped(tmp_path, spies):
    import signal

    def send_sigterm_once(progress):
        if progress["iteration"] == 1:
            os.kill(os.getpid(), signal.SIGTERM)  # caught by train(): the stop comes at the next env step
        return False

    args = tiny_args(tmp_path)
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(trainer.TrainingStopped) as stopped:
        train(args, "memory", NETWORK, callback=send_sigterm_once)
    checkpoint = tmp_path / "runs" / "MutTick-v0__memory__s3__r" / "checkpoints" / "checkpoint.pt"
    assert str(stopped.value) == (f"training stopped by SIGTERM; the checkpoint {checkpoint} holds env step 10: run "
                                  "the same command again to resume from it")
    saved = read_checkpoint(checkpoint)
    # the weights of iteration 1, and the rollout one step (of 2 envs) into iteration 2
    assert (saved["global_step"], saved["iteration"], saved["rollout"]["steps_done"]) == (10, 1, 1)
    assert signal.getsignal(signal.SIGTERM) is before  # train()'s handler is gone again
    spies.updates.clear()
    summary = train(dataclasses.replace(args, progress_bar=True), "memory", NETWORK)  # resumes in iteration 2
    assert summary["global_step"] == 16 and len(spies.updates) == 1
    bar = FakeBar.made[-1]
    assert bar.kwargs["initial"] == 10 and bar.updates == [6]  # the rollout's last 3 steps of 2 envs


def test_an_env_that_dies_stops_training_after_saving(tmp_path, spies, monkeypatch):
    from gbc.vector import WorkerDiedError

    steps = {"n": 0}
    real_make = trainer.make_vec_env

    def make_dying(*a, **k):
        envs = real_make(*a, **k)
        real_step = envs.step

        def step(actions):
            steps["n"] += 1
            if steps["n"] == 6:  # in the second iteration (4 steps each)
                raise WorkerDiedError("worker 1 (pid 7) died: killed by signal SIGKILL")
            return real_step(actions)

        envs.step = step
        return envs

    monkeypatch.setattr(trainer, "make_vec_env", make_dying)
    with pytest.raises(trainer.TrainingStopped) as stopped:
        train(tiny_args(tmp_path), "memory", NETWORK)
    assert str(stopped.value).startswith("training stopped because its env failed: worker 1 (pid 7) died")
    assert "holds env step 8" in str(stopped.value)


def test_env_failure_types_and_stop_messages():
    from gbc.vector import WorkerDiedError

    assert trainer.env_failure_types() == (WorkerDiedError,)
    path = Path("runs/x/checkpoint.pt")
    assert trainer.stopped_message(RuntimeError("boom"), ["SIGINT", "SIGTERM"], path, 5) == (
        "training stopped by SIGINT; the checkpoint runs/x/checkpoint.pt holds env step 5: run the same command "
        "again to resume from it")
    assert trainer.stopped_message(RuntimeError("boom"), [], None, 0) == (
        "training stopped because its env failed: boom; nothing was trained yet, so nothing was saved: run the same "
        "command again to start")
