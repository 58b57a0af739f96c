"""scripts/gpu_train_all.sh --dry-run: every game gets every agent (memory on state and on RAM, pixel) without a GPU."""

import os
import subprocess
from pathlib import Path

import gymnasium as gym

import gbc  # noqa: F401  (registers the GBC*-v0 ids)

REPO = Path(__file__).resolve().parents[1]


def test_dry_run_covers_every_game_and_agent_and_runs_nothing(tmp_path):
    out = tmp_path / "gpu"
    done = subprocess.run(["scripts/gpu_train_all.sh", "--dry-run", "--seeds", "1 2"], cwd=REPO, capture_output=True,
                          text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(REPO), "OUT": str(out)})
    assert done.returncode == 0, done.stderr
    games = [env_id for env_id in gym.registry if env_id.startswith("GBC") and env_id != "GBC-v0"]
    assert {"GBCBreakout-v0", "GBCSnake-v0", "GBCPong-v0", "GBCRunner-v0"} <= set(games)
    lines = done.stdout.splitlines()
    for env_id in ["BreakoutPy-v0", *games]:
        runs = [line for line in lines if f"--env-id {env_id} " in line]
        for seed in ("1", "2"):
            memory = [r for r in runs if "02_train_memory.py" in r and f"--seed {seed} " in r]
            pixel = [r for r in runs if "03_train_pixel.py" in r and f"--seed {seed} " in r]
            assert len(pixel) == 1, (env_id, runs)
            if env_id.startswith("GBC"):  # on the extracted state (the default) and on raw RAM
                assert len(memory) == 2 and sum("ram" in r for r in memory) == 1, (env_id, runs)
            else:
                assert len(memory) == 1, (env_id, runs)
        compare = [line for line in runs if "04_compare.py" in line]
        assert compare, env_id
        # the 108/54 bars are the Breakouts' (fractions of 216); other games are read against their scripted player
        assert all(("--targets 195 108 54" in line) == (env_id in ("BreakoutPy-v0", "GBCBreakout-v0"))
                   for line in compare), (env_id, compare)
    assert not out.exists()  # nothing ran, nothing was written
