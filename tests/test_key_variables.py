"""Step 06 (key variables) on a tiny network with planted dependences: the planted input ranks first, an ignored one
scores 0 with an interval holding 0, the files' columns; symbol naming and scoring; each scripted player's `reads`;
the script's error line for an agent that is not shipped."""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from agents.networks import MLPAgent
from agents.probing.key_variable_games import SymbolTable, obs_index_address
from agents.probing.key_variables import (
    CSV_HEADER,
    Feature,
    KeyVariableError,
    permutation_importance,
    score_top,
    write_key_variables,
)
from gbc.baselines import SCRIPTED_PLAYERS
from gbc.hardware import ram_obs_index
from gbc.profiles import get_profile

REPO = Path(__file__).resolve().parents[1]
WIDTH = 6


def planted_agent() -> MLPAgent:
    """Policy logits depend strongly on input 3 and weakly on input 0; the value only on input 1."""
    torch.manual_seed(0)
    agent = MLPAgent((WIDTH,), 3, hidden_sizes=(8,))
    with torch.no_grad():
        for head, used in ((agent.actor, {3: 4.0, 0: 0.4}), (agent.critic, {1: 3.0})):
            head[0].weight.zero_()
            for column, scale in used.items():
                head[0].weight[:, column] = scale * torch.linspace(-1, 1, 8)
            head[-1].weight.normal_()
    return agent.eval()


def features(width: int = WIDTH) -> list[Feature]:
    return [Feature(f"x{i}", f"state[{i}]", f"x{i}", "scalar", "state") for i in range(width)]


@pytest.fixture(scope="module")
def result():
    obs = np.random.default_rng(1).uniform(0, 1, (300, WIDTH)).astype(np.float32)
    return permutation_importance(planted_agent(), obs, features(), repeats=3, bootstrap=300, seed=2)


def test_planted_dependences_are_ranked_in_order(result):
    assert list(result.order()[:2]) == [3, 0]
    assert result.rank[3] == 1 and result.policy[3] > 10 * result.policy[0] > 0
    assert int(np.argmax(result.value)) == 1 and int(np.argmax(result.grad_x_input)) == 3


def test_ignored_inputs_score_zero_with_an_interval_holding_zero(result):
    for ignored in (1, 2, 4, 5):
        assert result.policy[ignored] == pytest.approx(0, abs=1e-9)
        assert result.ci_low[ignored] <= 0 <= result.ci_high[ignored] + 1e-12
        assert result.grad_x_input[ignored] == pytest.approx(0, abs=1e-9)
    assert [result.value[k] for k in (0, 2, 3, 4, 5)] == pytest.approx([0] * 5, abs=1e-6)


def test_intervals_are_ordered_and_hold_the_mean(result):
    assert np.all(result.ci_low <= result.policy + 1e-12) and np.all(result.policy <= result.ci_high + 1e-12)
    assert result.ci_low[3] > 0 and result.ci_high[3] > result.ci_low[3]


def test_a_constant_column_scores_exactly_zero():
    """Also by gradient x input when the constant is 0, however steep the gradient (it is input times gradient)."""
    obs = np.random.default_rng(3).uniform(0, 1, (50, WIDTH)).astype(np.float32)
    obs[:, 3] = 0.0
    constant = permutation_importance(planted_agent(), obs, features(), repeats=2, bootstrap=50)
    assert constant.policy[3] == 0 and constant.rank[0] == 1
    assert constant.grad_x_input[3] == 0 and constant.grad_x_input[0] > 0


def test_a_feature_read_through_several_columns_is_shuffled_as_one():
    """Columns 3 and 4 as one feature (thermometer inputs of one value; column 4 given the opposite weights, so that
    the order of sum and magnitude in gradient x input matters): it takes the planted column's rank, and its
    importance is that of shuffling both columns with one permutation, computed here through the whole network."""
    agent = planted_agent()
    with torch.no_grad():
        agent.actor[0].weight[:, 4] = -2.0 * torch.linspace(-1, 1, 8)
    obs = np.random.default_rng(1).uniform(0, 1, (300, WIDTH)).astype(np.float32)
    columns = [np.array([0]), np.array([1]), np.array([2]), np.array([3, 4]), np.array([5])]
    grouped = permutation_importance(agent, obs, features(5), repeats=1, bootstrap=10, seed=2, columns=columns)
    assert grouped.rank[3] == 1 and grouped.rank[0] == 2 and grouped.policy[2] == 0
    perm = np.random.default_rng(2).permutation(300)  # the first draw of the importance's own generator
    shuffled = obs.copy()
    shuffled[:, [3, 4]] = obs[perm][:, [3, 4]]
    with torch.no_grad():
        log_p = torch.log_softmax(agent.policy_logits(torch.as_tensor(obs)), -1)
        log_q = torch.log_softmax(agent.policy_logits(torch.as_tensor(shuffled)), -1)
    expected = (log_p.exp() * (log_p - log_q)).sum(-1).mean().item()
    assert grouped.policy[3] == pytest.approx(expected, rel=1e-4)
    x = torch.as_tensor(obs).requires_grad_(True)  # gradient x input: the group's terms added before |.|
    log_probs = torch.log_softmax(agent.policy_logits(x), -1)
    (grad,) = torch.autograd.grad(log_probs.gather(-1, log_probs.argmax(-1, keepdim=True)).sum(), x)
    assert grouped.grad_x_input[3] == pytest.approx((grad * x)[:, [3, 4]].sum(1).abs().mean().item(), rel=1e-4)
    with pytest.raises(KeyVariableError, match="every input belongs to exactly one"):
        permutation_importance(agent, obs, features(5), columns=[np.array([k]) for k in range(5)])


def test_files_have_their_columns_in_rank_order(result, tmp_path):
    written = write_key_variables(tmp_path, result, {"note": "test"}, top=3, title="planted")
    with open(written["csv"]) as handle:
        rows = list(csv.DictReader(handle))
    assert tuple(rows[0]) == CSV_HEADER
    assert [row["feature"] for row in rows[:2]] == ["x3", "x0"] and [int(row["rank"]) for row in rows] == [1, 2, 3,
                                                                                                            4, 5, 6]
    assert float(rows[0]["ci_low"]) <= float(rows[0]["policy_importance"]) <= float(rows[0]["ci_high"])
    assert json.loads(written["json"].read_text()) == {"note": "test"}
    assert written["png"].read_bytes()[:4] == b"\x89PNG"


def test_score_counts_state_and_screen_variables_and_the_scripted_reads(result):
    named = [Feature("x0", "0xC000", "a", "byte", "state"), Feature("x1", "0xC001", "", "byte", ""),
             Feature("x2", "0xC002", "b", "byte", "screen"), Feature("bricks[1]", "0xC003", "bricks", "array", "state"),
             Feature("x4", "0xC004", "c", "byte", "runtime"), Feature("x5", "0xC005", "d", "byte", "state")]
    result = dataclasses.replace(result, features=named)
    score = score_top(result, 2, ("bricks", "a"), has_symbols=True)
    assert score["state_in_top"] == 2 and score["screen_in_top"] == 0 and score["scripted_reads_all_in_top"]
    score = score_top(result, 4, ("bricks", "a"), has_symbols=True)  # ties at 0 keep column order: 3, 0, 1, 2
    assert score["state_in_top"] == 2 and score["screen_in_top"] == 1
    score = score_top(result, 2, ("bricks", "d"), has_symbols=True)
    assert score["scripted_reads_missing"] == ["d"] and not score["scripted_reads_all_in_top"]
    assert "state_in_top" not in score_top(result, 2, None, has_symbols=False)


def test_wrong_shapes_and_a_pixel_agent_are_refused():
    agent = planted_agent()
    with pytest.raises(KeyVariableError, match="takes 6 inputs"):
        permutation_importance(agent, np.zeros((5, 4), np.float32), features(4))
    with pytest.raises(KeyVariableError, match="5 features named for 6 inputs"):
        permutation_importance(agent, np.zeros((5, 6), np.float32), features(5))
    with pytest.raises(KeyVariableError, match="need a memory agent"):
        permutation_importance(torch.nn.Linear(6, 3), np.zeros((5, 6), np.float32), features())


def test_symbol_table_names_words_array_members_and_unknown_bytes():
    table = SymbolTable([{"name": "ball_dx", "address": 0xC0AA, "size": 2, "kind": "state"},
                         {"name": "bricks", "address": 0xC0B6, "size": 108, "kind": "state"}])
    assert table.name([0xC0AA, 0xC0AB]) == ("ball_dx", "ball_dx", "state")
    assert table.name([0xC0AB]) == ("ball_dx[1]", "ball_dx", "state")
    assert table.name([0xC0BB]) == ("bricks[5]", "bricks", "state")
    assert table.name([0xC0A0]) == ("", "", "")
    # a symbol in CGB WRAM bank 2 shares its address with bank 1's bytes: only bank 2's byte takes its name
    banked = SymbolTable([{"name": "ring", "address": 0xD000, "size": 32, "kind": "state", "cgb_wram_bank": 2}])
    assert banked.name([0xD018], 2) == ("ring[24]", "ring", "state")
    assert banked.name([0xD018]) == ("", "", "")
    assert [obs_index_address(ram_obs_index(a)) for a in (0xC000, 0xDFFF, 0xFF80, 0xFFFE)] == [0xC000, 0xDFFF,
                                                                                             0xFF80, 0xFFFE]


class _Recorder:
    """A profile that notes each variable a player looks up: by address() or through `variables`."""

    def __init__(self, profile):
        self._profile, self.looked_up = profile, set()
        self.variables = {name: _Noted(self.looked_up, name, v) for name, v in profile.variables.items()}

    def address(self, name: str) -> int:
        self.looked_up.add(name)
        return self._profile.address(name)

    def __getattr__(self, name):
        return getattr(self._profile, name)


class _Noted:
    """A profile variable that notes its name when any of its attributes is read."""

    def __init__(self, looked_up: set, name: str, variable):
        self._looked_up, self._name, self._variable = looked_up, name, variable

    def __getattr__(self, attribute):
        self._looked_up.add(self._name)
        return getattr(self._variable, attribute)


@pytest.mark.parametrize("game", sorted(SCRIPTED_PLAYERS))
def test_each_scripted_player_reads_what_it_says(game):
    recorder = _Recorder(get_profile(game))
    SCRIPTED_PLAYERS[game](recorder, 0)
    assert recorder.looked_up == set(SCRIPTED_PLAYERS[game].reads)


def test_script_names_an_agent_that_is_not_shipped():
    result = subprocess.run([sys.executable, "scripts/06_key_variables.py", "--agent", "nosuch"], cwd=REPO,
                            capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=120)
    assert result.returncode == 2
    assert result.stderr.startswith("error: no shipped nosuch agent for BreakoutPy-v0")
    assert len(result.stderr.strip().splitlines()) == 1
