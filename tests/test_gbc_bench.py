"""gbc.bench prints one JSON line per measurement, ALE beside ours (figures are not asserted: see README)."""

import importlib.util
import json
import sys
from pathlib import Path

import pytest

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
    with pytest.raises(ValueError, match="obs_types"):
        main(Args(obs_types=["rgb"]))
    with pytest.raises(ValueError, match="positive"):
        main(Args(seconds=0))


@pytest.mark.skipif(not BREAKOUT_ROM.is_file(), reason="roms/breakout/breakout.gb absent: make -C roms")
def test_bench_envs_script_has_the_gbc_section(capsys):
    spec = importlib.util.spec_from_file_location("bench_envs_gbc", SCRIPT)
    script = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = script  # dataclasses resolve the Args annotations through sys.modules
    try:
        spec.loader.exec_module(script)
        script.main(script.Args(num_envs=[2], seconds=0.1, gbc_batched_envs=2))
        with pytest.raises(ValueError, match="gbc-batched-envs"):
            script.main(script.Args(gbc_batched_envs=1))
    finally:
        del sys.modules[spec.name]
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    for env_id in script.Args().gbc_env_ids:
        gbc_lines = [(r["impl"], r["obs_type"], r["processes"]) for r in lines if r.get("env") == env_id and "impl" in r]
        assert gbc_lines == [("single", "ram", 1), ("batched", "ram", 1), ("batched", "ram", 2),
                             ("single", "pixels", 1), ("batched", "pixels", 1), ("batched", "pixels", 2)], env_id
    ratio = [r for r in lines if r.get("metric") == "gbc_single_vs_ale_ram"]
    assert [r["env"] for r in ratio] == ["GBCBreakout-v0", "GBCShooter-v0"] and all(r["ratio"] > 0 for r in ratio)
