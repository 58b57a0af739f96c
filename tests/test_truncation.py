"""What the trainer learns at a time limit: a truncated step must bootstrap from V(final obs), never end the return.

The env never ends by itself: every step pays REWARD and looks the same, and a time limit truncates it every
LIMIT steps. The true value of its one state is the infinite-horizon value REWARD / (1 - GAMMA). A trainer that
treats truncation as termination learns instead the mean discounted return to the time limit over the positions
in the episode, which is far below it; the two are kept apart by a wide margin so the test cannot pass by chance.
"""

import json
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium.vector import AutoresetMode, SyncVectorEnv

from agents.checkpoint import load_agent
from agents.trainer import PPOArgs, train

REWARD, GAMMA, LIMIT = 1.0, 0.8, 3
INFINITE_HORIZON_VALUE = REWARD / (1 - GAMMA)  # 5.0
# mean over the positions 0..LIMIT-1 of the discounted reward left before the limit: (2.44 + 1.8 + 1) / 3 = 1.75
TRUNCATED_VALUE = float(np.mean([sum(REWARD * GAMMA**k for k in range(LIMIT - t)) for t in range(LIMIT)]))


class EndlessEnv(gym.Env):
    """One state, reward REWARD per step, never terminates (only a TimeLimit wrapper ends its episodes)."""

    def __init__(self):
        self.observation_space = gym.spaces.Box(0.0, 1.0, (2,), np.float32)
        self.action_space = gym.spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return np.ones(2, np.float32), {}

    def step(self, action):
        return np.ones(2, np.float32), REWARD, False, False, {}


def same_step_endless(num_envs, **kwargs):
    return SyncVectorEnv([lambda: gym.wrappers.TimeLimit(EndlessEnv(), LIMIT) for _ in range(num_envs)],
                         autoreset_mode=AutoresetMode.SAME_STEP)


gym.register("TestEndlessNextStep-v0", entry_point=EndlessEnv, max_episode_steps=LIMIT)
gym.register("TestEndlessSameStep-v0", entry_point=EndlessEnv, vector_entry_point=same_step_endless)


@pytest.mark.parametrize("env_id, autoreset_mode", [
    ("TestEndlessNextStep-v0", "NextStep"),  # V(final obs) is the value stored for the dummy step after the limit
    ("TestEndlessSameStep-v0", "SameStep"),  # V(infos["final_obs"]) is added to the truncated step's reward
])
def test_truncated_steps_learn_the_infinite_horizon_value(tmp_path, env_id, autoreset_mode):
    args = PPOArgs(env_id=env_id, total_timesteps=8192, num_envs=8, num_steps=32, gamma=GAMMA, gae_lambda=1.0,
                   learning_rate=1e-2, clip_vloss=False, runs_dir=str(tmp_path), run_name="t", checkpoint_interval=0,
                   video_interval=0, progress_bar=False)
    summary = train(args, "memory", {"type": "mlp", "hidden_sizes": [8]})
    run_dir = Path(summary["run_dir"])
    assert json.loads((run_dir / "config.json").read_text())["autoreset_mode"] == autoreset_mode
    agent, _ = load_agent(run_dir / "model.pt")
    value = agent.get_value(torch.ones(1, 2)).item()
    assert TRUNCATED_VALUE < 2.0 < 4.5 < INFINITE_HORIZON_VALUE
    assert value == pytest.approx(INFINITE_HORIZON_VALUE, abs=0.25), (
        f"V(start) = {value:.2f}: the infinite-horizon value is {INFINITE_HORIZON_VALUE}, "
        f"treating the time limit as the end of the game gives {TRUNCATED_VALUE:.2f}"
    )
