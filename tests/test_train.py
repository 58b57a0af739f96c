"""Whole training runs on small problems: learning, autoreset bookkeeping, checkpoints, resume, videos, errors."""

import dataclasses
import json
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium.vector import AutoresetMode, SyncVectorEnv
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from agents.checkpoint import CheckpointError, load_agent, read_checkpoint
from agents.presets import MemoryArgs, PixelArgs, train_memory, train_pixel
from agents.trainer import train
from breakout_py.errors import UserError


class CountdownEnv(gym.Env):
    """Reward 1 per step; the game ends (terminated) after `length` steps unless a TimeLimit truncates it first."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 30}

    def __init__(self, length: int = 5, render_mode=None):
        self.length, self.render_mode = length, render_mode
        self.observation_space = gym.spaces.Box(0.0, 1.0, (2,), np.float32)
        self.action_space = gym.spaces.Discrete(2)

    def _obs(self):
        return np.array([self.t / self.length, 1.0], dtype=np.float32)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return self._obs(), {}

    def step(self, action):
        self.t += 1
        return self._obs(), 1.0, self.t >= self.length, False, {}

    def render(self):
        return np.full((9, 13, 3), 40 * self.t % 256, dtype=np.uint8)  # odd sizes: the writer must pad


class DotSideEnv(gym.Env):
    """A tiny pixel game: a dot appears on the left or right of a 2x16x16 frame; action 0/1 naming its side scores
    1. Ten rounds per episode, so a random policy averages 5 and a learned one 10."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 30}

    def __init__(self, render_mode=None):
        self.render_mode = render_mode
        self.observation_space = gym.spaces.Box(0, 255, (2, 16, 16), np.uint8)
        self.action_space = gym.spaces.Discrete(2)

    def _obs(self):
        frame = np.zeros((2, 16, 16), dtype=np.uint8)
        column = 2 if self.side == 0 else 12
        frame[:, 6:10, column:column + 2] = 255
        return frame

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t, self.side = 0, int(self.np_random.integers(2))
        return self._obs(), {}

    def step(self, action):
        reward = float(action == self.side)
        self.t += 1
        self.side = int(self.np_random.integers(2))
        return self._obs(), reward, self.t >= 10, False, {}

    def render(self):
        return np.repeat(self._obs()[0][:, :, None], 3, axis=2)


class LivesEnv(gym.Env):
    """Constant observation, reward 1 per step, a life lost every 3 steps, game over after 2 lives (6 steps)."""

    def __init__(self):
        self.observation_space = gym.spaces.Box(0.0, 1.0, (2,), np.float32)
        self.action_space = gym.spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.ones(2, np.float32), {"lives": 2}

    def step(self, action):
        self.t += 1
        return np.ones(2, np.float32), 1.0, self.t >= 6, False, {"lives": 2 - self.t // 3}


def same_step_countdown(num_envs, **kwargs):
    return SyncVectorEnv([lambda: gym.wrappers.TimeLimit(CountdownEnv(**kwargs), 3) for _ in range(num_envs)],
                         autoreset_mode=AutoresetMode.SAME_STEP)


def disabled_countdown(num_envs, **kwargs):
    return SyncVectorEnv([lambda: CountdownEnv(**kwargs) for _ in range(num_envs)],
                         autoreset_mode=AutoresetMode.DISABLED)


gym.register("TestCountdown-v0", entry_point=CountdownEnv)
gym.register("TestCountdownTruncated-v0", entry_point=CountdownEnv, max_episode_steps=3)
gym.register("TestCountdownSameStep-v0", entry_point=CountdownEnv, vector_entry_point=same_step_countdown)
gym.register("TestCountdownDisabled-v0", entry_point=CountdownEnv, vector_entry_point=disabled_countdown)
gym.register("TestDotSide-v0", entry_point=DotSideEnv)
gym.register("TestLives-v0", entry_point=LivesEnv)


def scalars(run_dir: Path, tag: str) -> list[tuple[int, float]]:
    acc = EventAccumulator(str(run_dir), size_guidance={"scalars": 0})
    acc.Reload()
    return [(e.step, e.value) for e in acc.Scalars(tag)] if tag in acc.Tags()["scalars"] else []


def quick_args(tmp_path, **overrides):
    defaults = dict(env_id="TestCountdown-v0", env_kwargs="{}", total_timesteps=256, num_envs=4, num_steps=16,
                    runs_dir=str(tmp_path / "runs"), run_name="t", video_interval=0, progress_bar=False,
                    checkpoint_interval=1)
    defaults.update(overrides)
    return MemoryArgs(**defaults)


# the CartPole settings agents/README.md's Commands use for the 475-in-150k bar (RL Baselines3 Zoo's tuned PPO values)
CARTPOLE = dict(env_id="CartPole-v1", num_envs=8, num_steps=32, gamma=0.98, gae_lambda=0.8, update_epochs=20,
                num_minibatches=1, ent_coef=0.0, learning_rate=1e-3, hidden_sizes=(64, 64))


def test_cartpole_memory_agent_learns(tmp_path):
    args = MemoryArgs(**CARTPOLE, total_timesteps=20_480, seed=1, video_interval=0, progress_bar=False,
                              runs_dir=str(tmp_path), checkpoint_interval=0)
    summary = train_memory(args)
    returns = [v for _, v in scalars(Path(summary["run_dir"]), "charts/episodic_return")]
    assert np.mean(returns[:20]) < 40  # a random policy averages about 22
    assert summary["mean_return_last_episodes"] > 150


@pytest.mark.parametrize("env_id, length, expected_length", [
    ("TestCountdown-v0", 5, 5),           # NEXT_STEP, terminated
    ("TestCountdownTruncated-v0", 5, 3),  # NEXT_STEP, truncated by the TimeLimit
    ("TestCountdownSameStep-v0", 5, 3),   # SAME_STEP, truncated
])
def test_episode_bookkeeping_skips_the_autoreset_step(tmp_path, env_id, length, expected_length):
    summary = train(quick_args(tmp_path, env_id=env_id, env_kwargs=json.dumps({"length": length})),
                    "memory", {"type": "mlp", "hidden_sizes": [8]})
    run_dir = Path(summary["run_dir"])
    lengths = [v for _, v in scalars(run_dir, "charts/episodic_length")]
    returns = [v for _, v in scalars(run_dir, "charts/episodic_return")]
    assert lengths and set(lengths) == {expected_length} and set(returns) == {float(expected_length)}
    # NEXT_STEP spends one env step per episode on the reset; SAME_STEP does not
    per_episode = expected_length + (0 if "SameStep" in env_id else 1)
    assert summary["episodes"] == pytest.approx(summary["global_step"] / per_episode, abs=4)
    config = json.loads((run_dir / "config.json").read_text())
    assert config["autoreset_mode"] == ("SameStep" if "SameStep" in env_id else "NextStep")


@pytest.mark.parametrize("episodic_life, expected_value", [
    # mean discounted return-to-go over the visits: within a life (1 + g + g^2, 1 + g, 1) / 3, or over the game
    (True, (3 + 2 * 0.9 + 0.81) / 3),
    (False, sum(sum(0.9 ** k for k in range(n)) for n in range(1, 7)) / 6),
])
def test_episodic_life_ends_the_value_horizon_at_a_lost_life(tmp_path, episodic_life, expected_value):
    args = quick_args(tmp_path, env_id="TestLives-v0", total_timesteps=12_288, num_envs=8, num_steps=32,
                      gamma=0.9, gae_lambda=1.0, learning_rate=1e-2, episodic_life=episodic_life)
    summary = train(args, "memory", {"type": "mlp", "hidden_sizes": [8]})
    run_dir = Path(summary["run_dir"])
    assert {v for _, v in scalars(run_dir, "charts/episodic_return")} == {6.0}  # whole games, either way
    agent, _ = load_agent(run_dir / "model.pt")
    value = agent.get_value(torch.ones(1, 2)).item()
    assert value == pytest.approx(expected_value, abs=0.25)


def test_disabled_autoreset_is_rejected(tmp_path):
    with pytest.raises(UserError, match="autoreset mode"):
        train(quick_args(tmp_path, env_id="TestCountdownDisabled-v0"), "memory", {"type": "mlp"})


def test_checkpoint_round_trip_and_resume(tmp_path):
    args = quick_args(tmp_path, total_timesteps=128)  # 2 iterations of 64 steps
    first = train_memory(args)
    run_dir = Path(first["run_dir"])
    assert run_dir.name == "TestCountdown-v0__memory__s1__t"
    assert first["global_step"] == 128 and first["iterations"] == 2

    agent, payload = load_agent(run_dir / "model.pt")
    assert payload["global_step"] == 128 and payload["obs_shape"] == [2] and payload["n_actions"] == 2
    assert payload["args"]["total_timesteps"] == 128
    obs = torch.rand(7, 2)
    # the final model and the last checkpoint hold the same weights as the trained network
    checkpoint_agent, _ = load_agent(run_dir / "checkpoints" / "checkpoint.pt")
    torch.testing.assert_close(agent.get_value(obs), checkpoint_agent.get_value(obs))
    assert agent.config["hidden_sizes"] == list(MemoryArgs().hidden_sizes)
    assert not list(run_dir.rglob("*.tmp"))

    second = train_memory(dataclasses.replace(args, total_timesteps=256))
    assert second["run_dir"] == first["run_dir"]
    assert second["global_step"] == 256 and second["iterations"] == 4
    assert read_checkpoint(run_dir / "checkpoints" / "checkpoint.pt")["iteration"] == 4
    # TensorBoard continues the same step axis: one value_loss point per iteration, steps 64..256
    assert [s for s, _ in scalars(run_dir, "losses/value_loss")] == [64, 128, 192, 256]
    seconds = [v for _, v in scalars(run_dir, "charts/train_seconds")]
    assert seconds == sorted(seconds)


def test_corrupt_checkpoint_gives_clear_error(tmp_path):
    args = quick_args(tmp_path, total_timesteps=64)
    run_dir = Path(train_memory(args)["run_dir"])
    checkpoint = run_dir / "checkpoints" / "checkpoint.pt"
    checkpoint.write_bytes(checkpoint.read_bytes()[:100])
    with pytest.raises(CheckpointError, match=r"cannot read checkpoint .*checkpoint\.pt.*corrupt"):
        train_memory(args)
    (run_dir / "notes.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="notes.pt"):
        load_agent(run_dir / "notes.pt")


def test_mismatched_checkpoint_gives_clear_error(tmp_path):
    args = quick_args(tmp_path, total_timesteps=64)
    train_memory(args)
    train_memory(dataclasses.replace(args, run_name="u"))
    with pytest.raises(CheckpointError, match=r"checkpoint\.pt does not match.*hidden_sizes.*--run-name"):
        train_memory(dataclasses.replace(args, total_timesteps=128, hidden_sizes=(32,)))
    # a run folder resumed with another env: move the folder to where a CartPole run would look for it
    source = tmp_path / "runs" / "TestCountdown-v0__memory__s1__t"
    source.rename(tmp_path / "runs" / "CartPole-v1__memory__s1__t")
    with pytest.raises(CheckpointError, match=r"obs_shape: checkpoint \[2\] vs now \[4\]"):
        train_memory(dataclasses.replace(args, total_timesteps=128, env_id="CartPole-v1"))
    wrong_env = r"env kwargs \{\}, not TestCountdown-v0 with \{'length': 5\}.*same --env-id and --env-kwargs"
    with pytest.raises(CheckpointError, match=wrong_env):
        train_memory(dataclasses.replace(args, total_timesteps=128, env_kwargs='{"length": 5}',
                                               run_name="u"))


def test_bad_arguments_are_explained(tmp_path):
    with pytest.raises(UserError, match="JSON object"):
        train_memory(quick_args(tmp_path, env_kwargs="obs_type=pixels"))
    with pytest.raises(UserError, match="less than one rollout"):
        train_memory(quick_args(tmp_path, total_timesteps=10))
    with pytest.raises(UserError, match="unknown env id"):
        train_memory(quick_args(tmp_path, env_id="NoSuchEnv-v0"))
    with pytest.raises(UserError, match="Discrete"):
        train_memory(quick_args(tmp_path, env_id="Pendulum-v1"))
    with pytest.raises(UserError, match="--trunk-precision must be one of auto, float32, bfloat16, got 'fp16'"):
        train_memory(quick_args(tmp_path, trunk_precision="fp16"))
    with pytest.raises(UserError, match="--trunk-precision bfloat16 applies to a CNN's conv trunk; this mlp network"):
        train_memory(quick_args(tmp_path, trunk_precision="bfloat16"))


@pytest.mark.parametrize("trunk_precision", ["float32", "bfloat16"])
def test_pixel_agent_learns_tiny_game_and_records_video(tmp_path, trunk_precision):
    import imageio.v2 as imageio

    args = PixelArgs(env_id="TestDotSide-v0", env_kwargs="{}", total_timesteps=8192, num_envs=8,
                             num_steps=32, seed=3, channels=(8, 16), kernels=(4, 3), strides=(2, 2), hidden_size=32,
                             learning_rate=2.5e-3, torch_threads=1, runs_dir=str(tmp_path / "runs"), run_name="px",
                             video_interval=16, checkpoint_interval=0, progress_bar=False,
                             trunk_precision=trunk_precision)
    summary = train_pixel(args)
    run_dir = Path(summary["run_dir"])
    assert summary["trunk_dtype"] == trunk_precision
    assert json.loads((run_dir / "config.json").read_text())["trunk_dtype_used"] == trunk_precision
    returns = [v for _, v in scalars(run_dir, "charts/episodic_return")]
    assert np.mean(returns[:16]) < 7.5
    assert summary["mean_return_last_episodes"] > 9.0

    videos = sorted((run_dir / "videos").glob("*.mp4"))
    assert [v.name for v in videos] == ["iter000016_step000004096.mp4", "iter000032_step000008192.mp4"]
    with imageio.get_reader(videos[-1]) as reader:
        assert reader.get_meta_data()["codec"] == "h264"
        frames = [frame for frame in reader]
    assert len(frames) == 11 and frames[0].shape == (16, 16, 3)  # reset frame + 10 steps
    agent, payload = load_agent(run_dir / "model.pt")
    assert payload["agent_name"] == "pixel" and payload["obs_dtype"] == "uint8"


def test_save_and_load_round_trip_restores_weights_and_optimizer(tmp_path):
    from agents.checkpoint import load_into, save_checkpoint
    from agents.networks import CNNAgent

    torch.manual_seed(0)
    agent = CNNAgent((2, 16, 16), 3, channels=(4,), kernels=(4,), strides=(2,), hidden_size=8)
    optimizer = torch.optim.Adam(agent.parameters(), lr=1e-3, eps=1e-5)
    frames = torch.randint(0, 256, (5, 2, 16, 16), dtype=torch.uint8)
    agent.get_value(frames).sum().backward()
    optimizer.step()
    path = save_checkpoint(tmp_path / "c.pt", agent, optimizer, {"global_step": 7})

    loaded, payload = load_agent(path)
    torch.testing.assert_close(loaded.get_value(frames), agent.get_value(frames))
    assert payload["global_step"] == 7

    other = CNNAgent((2, 16, 16), 3, channels=(4,), kernels=(4,), strides=(2,), hidden_size=8)
    other_optimizer = torch.optim.Adam(other.parameters(), lr=1e-3, eps=1e-5)
    load_into(path, other, other_optimizer)
    saved_state, loaded_state = optimizer.state_dict()["state"], other_optimizer.state_dict()["state"]
    for key in saved_state:
        torch.testing.assert_close(saved_state[key]["exp_avg"], loaded_state[key]["exp_avg"])


def test_video_of_odd_sized_frames_is_padded_to_even_h264(tmp_path):
    import imageio.v2 as imageio

    from agents.networks import MLPAgent
    from agents.trainer import record_video

    path = tmp_path / "videos" / "episode.mp4"
    episode_return, steps = record_video(MLPAgent((2,), 2), "TestCountdown-v0", {"length": 7}, path, seed=0,
                                         max_steps=100, fps=10, device=torch.device("cpu"))
    assert (episode_return, steps) == (7.0, 7)
    with imageio.get_reader(path) as reader:
        assert reader.get_meta_data()["codec"] == "h264"
        frames = [frame for frame in reader]
    assert len(frames) == 8 and frames[0].shape == (10, 14, 3)
    assert [p.name for p in path.parent.iterdir()] == ["episode.mp4"]  # no temp file left behind


def test_an_agent_names_its_state_spec_and_refuses_another(tmp_path):
    """A memory agent trained on a GBC state spec records the spec's path and digest; evaluation, 06's play and a
    resume refuse an env whose spec makes another observation, naming the one to restore (issue 18, item 5)."""
    from agents.evaluation import evaluate_agent
    from agents.probing.key_variable_games import record_play_states
    import gbc

    committed = gbc.extract.spec.default_spec_path(gbc.get_profile("breakout").rom_path)
    args = MemoryArgs(env_id="GBCBreakout-v0", env_kwargs='{"obs_type": "state"}', total_timesteps=256,
                      num_envs=2, num_steps=128, runs_dir=str(tmp_path), run_name="spec", progress_bar=False,
                      video_interval=0)
    summary = train_memory(args)
    agent, payload = load_agent(summary["final_model"])
    trained = payload["state_spec"]
    assert trained["path"] == "roms/breakout/breakout.state_spec.json" and len(trained["sha256"]) == 64
    assert agent.trained_state_spec == trained
    # the same spec passes; a spec with one feature's range changed (same shape) is refused
    evaluate_agent(agent, "GBCBreakout-v0", {"obs_type": "state"}, episodes=1, seed=0)
    spec = json.loads(committed.read_text())
    spec["features"][1]["max"] += 1
    other = tmp_path / "other.state_spec.json"
    other.write_text(json.dumps(spec))
    moved = {"obs_type": "state", "state_spec": str(other)}
    with pytest.raises(CheckpointError, match=r"trained on the state spec roms/breakout/breakout.state_spec.json "
                                              r".*git checkout -- roms/breakout/breakout.state_spec.json"):
        evaluate_agent(agent, "GBCBreakout-v0", moved, episodes=1, seed=0)
    with pytest.raises(CheckpointError, match="another observation"):
        record_play_states(agent, "GBCBreakout-v0", moved, states=2, keep_every=1, num_envs=1, seed=0)
    # an evidence-only change (what a re-extraction with the same decisions writes) keeps the digest
    spec["features"][1]["max"] -= 1
    spec["summary"] = {"note": "evidence changed"}
    other.write_text(json.dumps(spec))
    evaluate_agent(agent, "GBCBreakout-v0", moved, episodes=1, seed=0)
    # a resumed run whose spec file changed under the same env kwargs
    copy = tmp_path / "copy.state_spec.json"
    copy.write_text(committed.read_text())
    kwargs = json.dumps({"obs_type": "state", "state_spec": str(copy)})
    train_memory(dataclasses.replace(args, env_kwargs=kwargs, run_name="resume", checkpoint_interval=1))
    spec["features"][1]["max"] += 1
    copy.write_text(json.dumps(spec))
    with pytest.raises(CheckpointError, match="another observation"):
        train_memory(dataclasses.replace(args, env_kwargs=kwargs, run_name="resume", total_timesteps=512))
