"""agents.imitation (scripts/clone_scripted.py): a planted rule is cloned and scored on held-out games never trained
on; the recorded games are the scripted player's own games, each state recorded before the script acts on it."""

import json
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch

from agents.imitation import Demonstrations, fit_policy, scripted_demonstrations
from agents.networks import MLPAgent
from breakout_py.errors import UserError
from gbc.baselines import play_episodes

REPO = Path(__file__).resolve().parents[1]


def planted_demonstrations(labels_follow_input: bool, games: int = 20, per_game: int = 100) -> Demonstrations:
    rng = np.random.default_rng(0)
    obs = rng.random((games * per_game, 4), dtype=np.float32)
    # the rule a script might follow: act 0 when the first input is low, else 1 or 2 by the second
    rule = np.where(obs[:, 0] < 0.5, 0, np.where(obs[:, 1] < 0.5, 1, 2))
    actions = rule if labels_follow_input else rng.integers(0, 3, len(rule))
    return Demonstrations(obs, actions.astype(np.int64), np.repeat(np.arange(games), per_game), np.zeros(games))


def fitted(demos: Demonstrations) -> dict:
    torch.manual_seed(0)
    return fit_policy(MLPAgent((4,), 3), demos, epochs=60, batch_size=128, learning_rate=3e-3)


def test_a_planted_rule_is_cloned_and_held_out_games_measure_it():
    fit = fitted(planted_demonstrations(True))
    assert fit["held_out_games"] == 2 and fit["held_out_states"] == 200 and fit["train_states"] == 1_800
    assert fit["held_out_accuracy"] >= 0.95


def test_the_last_games_are_held_out_and_never_trained_on():
    """The last two games follow another rule, marked by an input of their own: a fit that trained on them would
    learn it (the marker tells them apart) and score them well; held out, they score near 0 while the games trained
    on score high."""
    demos = planted_demonstrations(True)
    last = demos.game >= 18
    demos.obs[:, 2] = last
    demos.actions[last] = (demos.actions[last] + 1) % 3
    fit = fitted(demos)
    assert fit["train_accuracy"] >= 0.95 and fit["held_out_accuracy"] < 0.1


def test_the_recorded_games_are_the_scripted_players_games():
    demos = scripted_demonstrations("GBCRunner-v0", {"obs_type": "state", "state_scaling": "arrays"}, games=2,
                                    noise=0.0, seed=5, max_steps=150)
    scripted = [r["return"] for r in play_episodes("jump_duck", 2, 4, 5, max_episode_steps=150, game="runner")]
    assert np.array_equal(demos.returns, scripted)
    env = gym.make("GBCRunner-v0", obs_type="state", state_scaling="arrays")
    first, _ = env.reset(seed=6)
    env.close()
    assert np.array_equal(demos.obs[demos.game == 1][0], first)  # each state recorded before the script acted on it
    assert demos.obs.shape == (len(demos.actions), 51) and demos.obs.dtype == np.float32
    assert set(np.unique(demos.game)) == {0, 1} and set(np.unique(demos.actions)) <= {0, 1, 2}
    assert (demos.actions != 0).any()  # the script jumps or ducks at the obstacles it meets


def test_a_game_without_a_scripted_player_is_a_clear_error():
    with pytest.raises(UserError, match="no scripted player"):
        scripted_demonstrations("BreakoutPy-v0", {}, games=2)
    with pytest.raises(UserError, match="--noise"):
        scripted_demonstrations("GBCRunner-v0", {}, games=2, noise=1.0)


def test_the_script_writes_its_measurements_and_refuses_an_unknown_agent(tmp_path):
    done = subprocess.run([sys.executable, "scripts/clone_scripted.py", "--env-id", "GBCRunner-v0", "--games", "2",
                           "--max-steps", "60", "--epochs", "2", "--eval-episodes", "1", "--out-dir", str(tmp_path)],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    path = tmp_path / "GBCRunner-v0__memory.json"
    assert f"wrote {path}" in done.stdout
    result = json.loads(path.read_text())
    assert result["network"]["type"] == "mlp" and result["scripted_player"] == "jump_duck"
    assert result["recorded_states"] == result["train_states"] + result["held_out_states"]
    assert result["held_out_games"] == 1
    assert result["clone"]["episodes"] == result["scripted"]["episodes"] == 1
    done = subprocess.run([sys.executable, "scripts/clone_scripted.py", "--agent", "ram"], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "--agent must be one of" in done.stderr
