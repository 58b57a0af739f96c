"""The extractor pipeline (gbc.extract.pipeline, what scripts/01_extract_state.py runs) on our Breakout ROM, scored
against its symbols file; on ALE; where it writes (never over the committed spec unless asked); its errors."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gbc.extract.core import extract
from gbc.extract.pipeline import ExtractionJob, picture_path, run_extraction, spec_output
from gbc.extract.record import PolicySource, RecordingError, record_ram
from gbc.extract.score import bars_met, format_score, load_json, score_spec
from gbc.extract.spec import StateSpec, default_spec_path
from gbc.profiles import BREAKOUT_ROM, BREAKOUT_SYMBOLS, get_profile

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "scripts" / "01_extract_state.py"
COMMITTED_SPEC = default_spec_path(BREAKOUT_ROM)

needs_rom = pytest.mark.skipif(not BREAKOUT_ROM.is_file(), reason="roms/breakout/breakout.gb absent: make -C roms")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """The pipeline on 12,000 frames of random, scripted and a third policy's play, written to a temp dir."""
    import gymnasium as gym

    from gbc.baselines import RandomAgent

    out = tmp_path_factory.mktemp("extract")
    third = PolicySource("model", lambda seed: RandomAgent(gym.spaces.Discrete(3), seed + 1000), {"obs_type": "ram"})
    job = ExtractionJob(frames=12_000, extra_sources=[third], out=out / "breakout.state_spec.json")
    result = run_extraction(job, log=lambda line: None)
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
    result = score_spec(spec, symbols)
    assert [r["name"] for r in result["variables"]] == [v["name"] for v in symbols["variables"]]
    assert "game_won" in result["state_variables_never_changed"]  # nobody wins in 12,000 frames
    assert result["state_variables_missed"] == []
    text = format_score(result)
    assert "recall 100.0%" in text and "screen bytes kept: 0 of" in text
    # A spec that keeps a screen byte fails the bars.
    shadow = spec["dropped"][0]
    broken = dict(spec, kept=spec["kept"] + [{**shadow, "address": "0xC000"}],
                  dropped=[e for e in spec["dropped"] if e["address"].lower() != "0xc000"])
    assert not bars_met(score_spec(broken, symbols))


@needs_rom
def test_committed_spec_is_current_and_meets_the_bars():
    spec = load_json(COMMITTED_SPEC)
    symbols = load_json(BREAKOUT_SYMBOLS)
    assert spec["rom"]["sha1"] == symbols["sha1"]
    assert spec["recording"]["frames"] >= 100_000
    assert bars_met(score_spec(spec, symbols))
    StateSpec(spec).check_game_boy("breakout", symbols["sha1"], spec["observation_size"])


def test_ale_ram_env_gets_the_parts_without_a_game_boy():
    import ale_py  # noqa: F401
    import gymnasium as gym

    from gbc.baselines import RandomAgent

    gym.register_envs(ale_py)
    space = gym.spaces.Discrete(4)
    recording = record_ram("ALE/Breakout-v5", {"obs_type": "ram", "frameskip": 1, "repeat_action_probability": 0.0},
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


def committed_bytes() -> dict[Path, bytes]:
    return {path: path.read_bytes() for path in (COMMITTED_SPEC, picture_path(COMMITTED_SPEC)) if path.is_file()}


@needs_rom
def test_script_defaults_leave_the_committed_spec_alone(tmp_path):
    """With its defaults (a trained agent's play added), the script writes under artifacts/extract/breakout/ of
    the working directory; the spec obs_type="state" reads stays byte for byte as committed."""
    import torch

    from agents.checkpoint import save_checkpoint
    from agents.networks import MLPAgent
    from gbc.hardware import RAM_OBS_SIZE

    before = committed_bytes()
    assert COMMITTED_SPEC in before
    torch.manual_seed(0)
    model = save_checkpoint(tmp_path / "model.pt", MLPAgent((RAM_OBS_SIZE,), 3, (16,), input_scale=1 / 255), None,
                            {"env_id": "GBCBreakout-v0", "env_kwargs": {"obs_type": "ram", "frame_skip": 4}})
    done = subprocess.run([sys.executable, str(SCRIPT), "--frames", "1200", "--model", str(model)], cwd=tmp_path,
                          env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    written = tmp_path / "artifacts" / "extract" / "breakout" / "breakout.state_spec.json"
    assert json.loads(done.stdout.strip().splitlines()[-1])["spec"] == str(written.relative_to(tmp_path))
    spec = load_json(written)
    assert spec["recording"]["frames"] == 1200
    assert [s["policy"] for s in spec["recording"]["sources"]] == ["random", "follow_ball", "model"]
    assert picture_path(written).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert committed_bytes() == before


def test_spec_goes_over_the_committed_one_only_when_asked():
    profile = get_profile("breakout")
    assert spec_output(ExtractionJob(), profile) == Path("artifacts/extract/breakout/breakout.state_spec.json")
    assert spec_output(ExtractionJob(update_committed=True), profile) == COMMITTED_SPEC
    assert spec_output(ExtractionJob(out=Path("x.json")), profile) == Path("x.json")
    assert spec_output(ExtractionJob(env_id="ALE/Breakout-v5"), None) == Path(
        "artifacts/extract/ALE-Breakout-v5/ALE-Breakout-v5.state_spec.json")
    with pytest.raises(RecordingError, match="not both"):
        spec_output(ExtractionJob(out=Path("x.json"), update_committed=True), profile)
    with pytest.raises(RecordingError, match="has no ROM"):
        spec_output(ExtractionJob(env_id="ALE/Breakout-v5", update_committed=True), None)


def test_score_script_errors_are_one_line_with_exit_code_2(tmp_path):
    def run(*arguments):
        return subprocess.run([sys.executable, str(REPO / "scripts" / "score_extractor.py"), *arguments],
                              capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(REPO)})

    missing = run("--spec", str(tmp_path / "none.json"))
    assert missing.returncode == 2 and missing.stderr.startswith(f"error: no file at {tmp_path / 'none.json'}")
    (tmp_path / "bad.json").write_text("{not json")
    bad = run("--spec", str(tmp_path / "bad.json"))
    assert bad.returncode == 2 and bad.stderr.startswith("error: cannot read") and "Traceback" not in bad.stderr
    (tmp_path / "empty.json").write_text("{}")
    empty = run("--spec", str(tmp_path / "empty.json"), "--symbols", str(BREAKOUT_SYMBOLS))
    assert empty.returncode == 2 and "spec['kept'], spec['dropped'] missing" in empty.stderr
