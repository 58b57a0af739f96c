"""The GBC RAM-to-screen map puts each variable where the game's constants say it is drawn."""

import json

import numpy as np
import pytest

from gbc.profiles import BREAKOUT_SYMBOLS, get_profile

ROM = get_profile("breakout").rom_path
SPEC = ROM.with_suffix(".state_spec.json")
pytestmark = pytest.mark.skipif(not ROM.is_file() or not SPEC.is_file(),
                                reason=f"needs {ROM} and its state spec {SPEC}")


def test_ram_regions_of_ball_paddle_score_lives_and_bricks():
    from agents.probing.gbc_ram_map import _Layout, check_regions, load_features, play_states, ram_regions

    symbols = json.loads(BREAKOUT_SYMBOLS.read_text())
    layout = _Layout(symbols)
    wanted = {"ball_x", "ball_y", "paddle_x", "score", "lives", "bricks[0]", "bricks[19]", "bricks[107]",
              "hit_count"}
    features = [f for f in load_features(SPEC, symbols)
                if f.symbol in wanted or f"{f.symbol}[{f.offset}]" in wanted]
    assert {f.symbol for f in features} >= {"ball_x", "ball_y", "paddle_x", "score", "lives", "bricks"}
    maps, counts, background, balls = ram_regions(features, play_states(1, seed=3), layout, values_per_state=1)
    rows = {r["label"].split(" ", 1)[1]: r for r in check_regions(features, maps, layout, balls)}
    assert {"ball_x", "ball_y", "paddle_x", "score", "lives"} <= set(rows)
    assert sum(name in rows for name in ("bricks[0]", "bricks[19]", "bricks[107]")) >= 2
    for name in ("ball_x", "ball_y", "paddle_x", "score", "lives", "bricks[0]", "bricks[19]", "bricks[107]"):
        if name in rows:
            assert rows[name]["inside_expected"] is True, rows[name]
            assert rows[name]["changed_pixels"] > 0
    for name in ("bricks[0]", "bricks[19]", "bricks[107]"):
        if name in rows:  # the whole brick (8x4 less the 1-px gap) and nothing else
            assert rows[name]["changed_pixels"] == (layout.c["BRICK_WIDTH"] - 1) * (layout.c["BRICK_HEIGHT"] - 1)
    if "hit_count" in rows:  # a counter the game never draws
        assert rows["hit_count"]["changed_pixels"] == 0
    assert background.shape == (144, 160, 3) and np.all(counts > 0)
