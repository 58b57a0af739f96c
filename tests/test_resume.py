"""A training run stopped and resumed by the same command is the same run as an unbroken one: on the CPU both end
with bit-identical weights, because the checkpoint holds the envs' states and the rollout so far
(agents/rollout_state.py), for Python Breakout's native vector env, a SyncVectorEnv (CartPole) and the batched GBC
env."""

import json
import signal
from pathlib import Path

import pytest
import torch

from agents.checkpoint import read_checkpoint
from agents.presets import MemoryArgs, train_memory
from agents.trainer import TrainingStopped

REPO = Path(__file__).resolve().parents[1]
ITERATIONS = 6

# short time limits, so that episodes end and restart (drawing new seeds from the envs' generators) after the resume
ENVS = [
    pytest.param("BreakoutPy-v0", {"max_episode_steps": 10}, id="breakout_py"),
    pytest.param("CartPole-v1", {}, id="cartpole"),
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
