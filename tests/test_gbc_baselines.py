"""The ball-following script scores much more than a random agent on GBCBreakout-v0."""

import json

import gymnasium as gym
import pytest

from gbc.baselines import Args, FollowBallAgent, RandomAgent, main, run_episode
from gbc.profiles import BREAKOUT_ROM

pytestmark = pytest.mark.skipif(not BREAKOUT_ROM.is_file(), reason="roms/breakout/breakout.gb absent: make -C roms")


def test_scripted_agent_beats_random_on_a_short_budget():
    env = gym.make("GBCBreakout-v0", obs_type="ram", max_episode_steps=1500)
    scores = {"random": [], "follow_ball": []}
    for seed in (0, 1, 2):
        scores["random"].append(run_episode(env, RandomAgent(env.action_space, seed), seed)["score"])
        scores["follow_ball"].append(run_episode(env, FollowBallAgent(env.unwrapped.profile, seed), seed)["score"])
    env.close()
    assert sum(scores["follow_ball"]) > 5 * sum(scores["random"]) + 30, scores


def test_baselines_script_prints_json_lines(capsys):
    main(Args(episodes=1, seed=0, max_episode_steps=300))
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["agent"] for line in lines] == ["random", "random", "follow_ball", "follow_ball"]
    assert lines[0]["steps"] <= 300 and "score" in lines[0] and "mean_score" in lines[1]
