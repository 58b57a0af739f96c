"""gbc.bench prints one JSON line per measurement, ALE beside ours (figures are not asserted: see README)."""

import json

import pytest

from gbc.bench import Args, main
from gbc.profiles import BREAKOUT_ROM


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
