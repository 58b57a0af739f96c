"""Seeded training on the CPU is bitwise reproducible: the same command gives the same weights, with or without
videos (which sample their actions from a copy of torch's RNG)."""

import torch

from agents.presets import MemoryArgs, train_memory


def trained_weights(tmp_path, name: str, video_interval: int) -> dict[str, torch.Tensor]:
    args = MemoryArgs(env_id="BreakoutPy-v0", total_timesteps=1024, num_envs=8, num_steps=32, num_minibatches=4,
                      seed=5, runs_dir=str(tmp_path), run_name=name, video_interval=video_interval,
                      video_max_steps=40, checkpoint_interval=0, progress_bar=False)
    summary = train_memory(args)
    return torch.load(summary["final_model"], weights_only=False)["model"]


def test_same_seed_same_weights_with_or_without_videos(tmp_path):
    plain = trained_weights(tmp_path, "a", video_interval=0)
    again = trained_weights(tmp_path, "b", video_interval=0)
    filmed = trained_weights(tmp_path, "c", video_interval=1)  # a video after each of the 4 iterations
    assert list((tmp_path / "BreakoutPy-v0__memory__s5__c" / "videos").glob("*.mp4"))
    for name, weight in plain.items():
        assert torch.equal(weight, again[name]), name
        assert torch.equal(weight, filmed[name]), name
