"""A training run stopped and resumed by the same command is the same run as an unbroken one: on the CPU both end
with bit-identical weights, because the checkpoint holds the envs' states and the rollout so far
(agents/rollout_state.py), for Python Breakout's native vector env, a SyncVectorEnv (CartPole) and the batched GBC
env."""

import dataclasses
import json
import signal
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch

from agents.checkpoint import CheckpointError, read_checkpoint
from agents.presets import MemoryArgs, train_memory
from agents.rollout_state import capture_envs, decode, encode, restore_envs
from agents.trainer import TrainingStopped, make_vec_env

REPO = Path(__file__).resolve().parents[1]
ITERATIONS = 6

# short time limits, so that episodes end and restart (drawing new seeds from the envs' generators) after the resume
ENVS = [
    pytest.param("BreakoutPy-v0", {"max_episode_steps": 10}, id="breakout_py"),
    pytest.param("CartPole-v1", {}, id="cartpole"),  # Gymnasium's native CartPoleVectorEnv
    pytest.param("Acrobot-v1", {"max_episode_steps": 12}, id="acrobot_sync"),  # a SyncVectorEnv of wrapped envs
    pytest.param("GBCBreakout-v0", {"obs_type": "ram", "max_episode_steps": 12}, id="gbc_breakout",
                 marks=pytest.mark.skipif(not (REPO / "roms" / "breakout" / "breakout.gb").is_file(),
                                          reason="ROM not built: make -C roms")),
]


def run_args(tmp_path: Path, env_id: str, env_kwargs: dict, name: str) -> MemoryArgs:
    return MemoryArgs(env_id=env_id, env_kwargs=json.dumps(env_kwargs), total_timesteps=ITERATIONS * 2 * 16,
                      num_envs=2, num_steps=16, num_minibatches=2, update_epochs=2, hidden_sizes=(16,), seed=3,
                      torch_threads=1, runs_dir=str(tmp_path), run_name=name, checkpoint_interval=0,
                      video_interval=0, progress_bar=False)


def final_weights(summary: dict) -> dict[str, torch.Tensor]:
    return torch.load(summary["final_model"], weights_only=True)["model"]


def ctrl_c_after_iteration(stop_at: int):
    """A callback that sends this process SIGINT after iteration `stop_at`: training stops at its next env step,
    one step into the next iteration's rollout."""
    def callback(progress: dict) -> bool:
        if progress["iteration"] == stop_at:
            signal.raise_signal(signal.SIGINT)
        return False
    return callback


@pytest.mark.parametrize("env_id, env_kwargs", ENVS)
def test_a_stopped_and_resumed_run_ends_with_the_unbroken_runs_weights(tmp_path, capsys, env_id, env_kwargs):
    unbroken = final_weights(train_memory(run_args(tmp_path, env_id, env_kwargs, "unbroken")))

    args = run_args(tmp_path, env_id, env_kwargs, "stopped")
    with pytest.raises(TrainingStopped, match="training stopped by SIGINT"):
        train_memory(args, callback=ctrl_c_after_iteration(2))
    checkpoint = Path(args.runs_dir) / f"{env_id}__memory__s3__stopped" / "checkpoints" / "checkpoint.pt"
    saved = read_checkpoint(checkpoint)
    assert (saved["iteration"], saved["global_step"]) == (2, 2 * 32 + 2)  # one step into iteration 3
    # resumed, then stopped at the end of iteration 4 (a callback that asks to stop), then resumed to the end
    train_memory(args, callback=lambda progress: progress["iteration"] == 4)
    assert read_checkpoint(checkpoint)["iteration"] == 4
    resumed = final_weights(train_memory(args))

    assert "envs start afresh" not in capsys.readouterr().out
    assert unbroken.keys() == resumed.keys()
    for name, weight in unbroken.items():
        assert torch.equal(weight, resumed[name]), name


@pytest.mark.parametrize("env_id, env_kwargs", [
    pytest.param("BreakoutPy-v0", {"obs_type": "pixels", "max_episode_steps": 15}, id="breakout_py_pixels"),
    pytest.param("Acrobot-v1", {"max_episode_steps": 15}, id="acrobot_sync"),
    # Runner draws a window bar, whose line counter PyBoy's saved state leaves out (gbc.emulator.Emulator._boot_to_play)
    pytest.param("GBCRunner-v0", {"obs_type": "pixels", "max_episode_steps": 15}, id="gbc_runner_pixels",
                 marks=pytest.mark.skipif(not (REPO / "roms" / "runner" / "runner.gb").is_file(),
                                          reason="ROM not built: make -C roms")),
])
def test_new_envs_given_a_saved_state_step_as_the_saved_ones_do(env_id, env_kwargs):
    actions = np.random.default_rng(0).integers(0, 3, size=(60, 2))
    saved_envs = make_vec_env(env_id, 2, env_kwargs)
    saved_envs.reset(seed=4)
    done, step = np.zeros(2, dtype=bool), 0
    while not done.any():  # saved just as an episode ended: its env restarts on the next step
        _, _, terminated, truncated, _ = saved_envs.step(actions[step])
        done, step = terminated | truncated, step + 1
    state = decode(encode(capture_envs(saved_envs)))  # as stored in a checkpoint and read back
    expected = [saved_envs.step(action) for action in actions[step:]]
    saved_envs.close()

    new_envs = make_vec_env(env_id, 2, env_kwargs)  # never reset: its state is the saved one
    restore_envs(new_envs, state)
    for step, (action, wanted) in enumerate(zip(actions[step:], expected)):
        got = new_envs.step(action)
        for name, a, b in zip(("obs", "reward", "terminated", "truncated"), got[:4], wanted[:4]):
            assert np.array_equal(a, b), (step, name)
    new_envs.close()
    assert any(wanted[2].any() or wanted[3].any() for wanted in expected)  # episodes ended after the restore


def test_a_vector_env_in_other_processes_is_not_captured():
    envs = gym.make_vec("CartPole-v1", num_envs=2, vectorization_mode="async")
    try:
        assert capture_envs(envs) is None  # the trainer then reseeds on resume and says so
    finally:
        envs.close()


def test_resuming_with_other_num_envs_or_mid_rollout_num_steps_is_refused(tmp_path):
    args = run_args(tmp_path, "BreakoutPy-v0", {}, "other")
    with pytest.raises(TrainingStopped):
        train_memory(args, callback=ctrl_c_after_iteration(1))  # stops 1 step into iteration 2
    with pytest.raises(CheckpointError, match="holds the states of 2 envs, not 4; resume with --num-envs 2"):
        train_memory(dataclasses.replace(args, num_envs=4))
    with pytest.raises(CheckpointError, match="after 1 of the 16 steps of a rollout; resume with --num-steps 16"):
        train_memory(dataclasses.replace(args, num_steps=8))
