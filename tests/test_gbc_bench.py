"""gbc.bench and scripts/bench_envs.py print one JSON line per measurement, ALE beside ours (figures are not asserted:
see agents/trained/results/env_speed.md and games.md)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from breakout_py.errors import UserError
from gbc.bench import Args, main
from gbc.profiles import BREAKOUT_ROM

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "bench_envs.py"


@pytest.mark.skipif(not BREAKOUT_ROM.is_file(), reason="roms/breakout/breakout.gb absent: make -C roms")
def test_bench_prints_a_line_per_measurement(capsys):
    main(Args(seconds=0.2, obs_types=["ram"], batched_envs=2, batched_workers=[1, 2]))
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert [(r["env"], r["impl"], r["processes"]) for r in lines] == [
        ("ALE/Breakout-v5", "single", 1), ("GBCBreakout-v0", "single", 1),
        ("GBCBreakout-v0", "batched", 1), ("GBCBreakout-v0", "batched", 2),
    ]
    assert all(r["steps_per_s"] > 0 and r["frame_skip"] == 4 for r in lines)


def test_bench_rejects_bad_arguments():
    with pytest.raises(UserError, match="obs-types"):
        main(Args(obs_types=["rgb"]))
    with pytest.raises(UserError, match="positive"):
        main(Args(seconds=0))


@pytest.mark.skipif(not BREAKOUT_ROM.is_file(), reason="roms/breakout/breakout.gb absent: make -C roms")
def test_bench_envs_script_has_the_gbc_section():
    def run(*arguments):
        return subprocess.run([sys.executable, str(SCRIPT), *arguments], capture_output=True, text=True, timeout=300,
                              env={**os.environ, "PYTHONPATH": str(SCRIPT.parents[1])})

    refused = run("--gbc-batched-envs", "1")
    assert refused.returncode == 2 and refused.stderr.startswith("error: --gbc-batched-envs must be at least 2")
    done = run("--num-envs", "2", "--seconds", "0.1", "--gbc-batched-envs", "2")
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    gbc_lines = [(r["impl"], r["obs_type"], r["processes"]) for r in lines if r.get("env") == "GBCBreakout-v0"]
    assert gbc_lines == [("single", "ram", 1), ("batched", "ram", 1), ("batched", "ram", 2),
                         ("single", "pixels", 1), ("batched", "pixels", 1), ("batched", "pixels", 2)]
    ratio = [r for r in lines if r.get("metric") == "gbc_single_vs_ale_ram"]
    assert len(ratio) == 1 and ratio[0]["ratio"] > 0
