"""The torch thread rules of agents/cpu_threads.py: passive OpenMP waiting set before torch loads, 1 thread for MLPs
and inference, 2 for CNN training, explicit counts kept."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from agents import cpu_threads
from breakout_py.errors import UserError

REPO = Path(__file__).resolve().parents[1]


def policy_after(code: str) -> str:
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    env["PYTHONPATH"] = str(REPO)
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return result.stdout.strip()


def test_importing_agents_first_makes_openmp_threads_sleep_and_cnn_training_use_two():
    out = policy_after("import agents, os, torch; from agents.cpu_threads import threads_for;"
                       "print(os.environ['OMP_WAIT_POLICY'], threads_for(0, True))")
    assert out == "PASSIVE 2"


def test_torch_loaded_first_keeps_spinning_threads_so_automatic_is_one_thread():
    out = policy_after("import torch, os, agents; from agents.cpu_threads import threads_for;"
                       "print(os.environ.get('OMP_WAIT_POLICY'), threads_for(0, True))")
    assert out == "None 1"


def test_automatic_threads(monkeypatch):
    monkeypatch.setattr(cpu_threads, "threads_wait_passively", lambda: True)
    assert cpu_threads.threads_for(0, training_cnn=True) == 2
    assert cpu_threads.threads_for(0, training_cnn=False) == 1  # MLPs and inference
    assert cpu_threads.threads_for(3, training_cnn=False) == 3  # an explicit count is kept
    monkeypatch.setattr(cpu_threads, "threads_wait_passively", lambda: False)
    assert cpu_threads.threads_for(0, training_cnn=True) == 1
    with pytest.raises(UserError, match="--torch-threads must be 0"):
        cpu_threads.threads_for(-1)


def test_use_torch_threads_sets_torch():
    import torch

    before = torch.get_num_threads()
    try:
        assert cpu_threads.use_torch_threads(2) == 2 and torch.get_num_threads() == 2
        assert cpu_threads.use_torch_threads(0) == 1 and torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
