"""scripts/01_extract_state.py on our Breakout ROM (scored against its symbols file), on ALE, and its errors."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from gbc.extract import extract
from gbc.extract_record import PolicySource, record
from gbc.extract_score import bars_met, format_score, load_json, score
from gbc.extract_spec import StateSpec, default_spec_path
from gbc.profiles import BREAKOUT_ROM, BREAKOUT_SYMBOLS
from training_scripts import load_script

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "scripts" / "01_extract_state.py"
COMMITTED_SPEC = default_spec_path(BREAKOUT_ROM)

needs_rom = pytest.mark.skipif(not BREAKOUT_ROM.is_file(), reason="roms/breakout/breakout.gb absent: make -C roms")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """The script on 12,000 frames of random, scripted and (an untrained) model play, written to a temp dir."""
    import torch

    from agents.checkpoint import save_checkpoint
    from agents.networks import MLPAgent
    from gbc.hardware import RAM_OBS_SIZE

    out = tmp_path_factory.mktemp("extract")
    torch.manual_seed(0)
    model = save_checkpoint(out / "model.pt", MLPAgent((RAM_OBS_SIZE,), 3, (16,), input_scale=1 / 255), None,
                            {"env_id": "GBCBreakout-v0", "env_kwargs": {"obs_type": "ram", "frame_skip": 4}})
    script = load_script("01_extract_state.py")
    result = script.main(script.Args(frames=12_000, out=str(out / "breakout.state_spec.json"), model=str(model)))
    return result, json.loads((out / "breakout.state_spec.json").read_text()), out


def kept_addresses(spec):
    return {int(e["address"], 16) for e in spec["kept"]}


@needs_rom
def test_breakout_keeps_game_variables_and_drops_screen_copies(run):
    result, spec, out = run
    symbols = {v["name"]: v for v in load_json(BREAKOUT_SYMBOLS)["variables"]}
    kept = kept_addresses(spec)
    for name in ("ball_x", "paddle_x", "lives", "score"):
        assert symbols[name]["address"] in kept, name
    for name in ("shadow_oam", "bg_queue_offset", "bg_queue_tile", "bg_queue_length"):
        variable = symbols[name]
        assert not kept & set(range(variable["address"], variable["address"] + variable["size"])), name
    reasons = {e["reason"] for e in spec["dropped"]}
    assert {"oam_dma_source", "vram_buffer", "stack", "frame_counter", "input"} <= reasons
    assert [s["policy"] for s in spec["recording"]["sources"]] == ["random", "follow_ball", "model"]
    assert spec["recording"]["frames"] == 12_000 and spec["rom"]["sha1"] == load_json(BREAKOUT_SYMBOLS)["sha1"]
    assert result["state_recall"] == 1.0 and result["screen_bytes_kept"] == 0 and result["bars_met"]
    picture = out / "breakout.state_spec.png"
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@needs_rom
def test_score_lists_every_variable_and_the_state_bytes_that_never_changed(run):
    _, spec, _ = run
    symbols = load_json(BREAKOUT_SYMBOLS)
    result = score(spec, symbols)
    assert [r["name"] for r in result["variables"]] == [v["name"] for v in symbols["variables"]]
    assert "game_won" in result["state_variables_never_changed"]  # nobody wins in 12,000 frames
    assert result["state_variables_missed"] == []
    text = format_score(result)
    assert "recall 100.0%" in text and "screen bytes kept: 0 of" in text
    # A spec that keeps a screen byte fails the bars.
    shadow = spec["dropped"][0]
    broken = dict(spec, kept=spec["kept"] + [{**shadow, "address": "0xC000"}],
                  dropped=[e for e in spec["dropped"] if e["address"].lower() != "0xc000"])
    assert not bars_met(score(broken, symbols))


@needs_rom
def test_committed_spec_is_current_and_meets_the_bars():
    spec = load_json(COMMITTED_SPEC)
    symbols = load_json(BREAKOUT_SYMBOLS)
    assert spec["rom"]["sha1"] == symbols["sha1"]
    assert spec["recording"]["frames"] >= 100_000
    assert bars_met(score(spec, symbols))
    StateSpec(spec).check_game_boy("breakout", symbols["sha1"], spec["observation_size"])


def test_ale_ram_env_gets_the_parts_without_a_game_boy():
    import ale_py  # noqa: F401
    import gymnasium as gym

    from gbc.baselines import RandomAgent

    gym.register_envs(ale_py)
    space = gym.spaces.Discrete(4)
    recording = record("ALE/Breakout-v5", {"obs_type": "ram", "frameskip": 1, "repeat_action_probability": 0.0},
                       [PolicySource("random", lambda s: RandomAgent(space, s))], frames=3000)
    assert recording.game_boy is None and recording.size == 128
    extraction = extract(recording)
    decisions = {extraction.decision(i) for i in range(128)}
    assert "kept" in decisions and "constant" in decisions
    assert decisions <= {"kept", "constant", "frame_counter", "input"}


def test_script_errors_are_one_line_with_exit_code_2():
    result = subprocess.run([sys.executable, str(SCRIPT), "--env-id", "CartPole-v1", "--frames", "500"],
                            capture_output=True, text=True, cwd=REPO, timeout=120)
    assert result.returncode == 2
    assert result.stderr.startswith("error: CartPole-v1's observation space") and "Traceback" not in result.stderr
    result = subprocess.run([sys.executable, str(SCRIPT), "--env-kwargs", "[1]"], capture_output=True, text=True,
                            cwd=REPO, timeout=120)
    assert result.returncode == 2 and "must be a JSON object" in result.stderr
