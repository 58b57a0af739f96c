"""Step 01 on a ROM a user brings (a profile, no symbols file): our Pong with its symbols file hidden gets the
same decisions as with it, and its spec names bytes by address and decision, never by a variable name."""

import hashlib
import json
import shutil

import pytest

from gbc.extract.core import ExtractSettings
from gbc.extract.pipeline import ExtractionJob, run_extraction
from gbc.profiles import ROMS_DIR, read_symbols

PONG = ROMS_DIR / "pong"


def user_profile(rom_name: str, sha1: str) -> dict:
    """What a user writes for a ROM: the few variables the env needs, by address."""
    variables = {v["name"]: v for v in read_symbols(PONG / "pong.symbols.json")["variables"]}
    return {
        "name": "mypong", "rom": rom_name, "sha1": sha1,
        "variables": {n: {"address": hex(variables[n]["address"])} for n in ("game_state", "player_score")},
        "score": "player_score", "start_sequence": [{"frames": 120}, {"frames": 2, "buttons": ["start"]}],
        "in_play": {"variable": "game_state", "op": "==", "value": 1},
        "game_over": {"variable": "game_state", "op": "==", "value": 2},
        "actions": [[], ["up"], ["down"]],
    }


@pytest.mark.skipif(not (PONG / "pong.gb").is_file(), reason="roms/pong/pong.gb absent: make -C roms")
def test_a_rom_without_symbols_gets_the_same_decisions_named_by_address(tmp_path):
    rom = tmp_path / "mypong.gb"
    shutil.copyfile(PONG / "pong.gb", rom)
    profile = tmp_path / "mypong.profile.json"
    profile.write_text(json.dumps(user_profile(rom.name, hashlib.sha1(rom.read_bytes()).hexdigest())))
    job = dict(env_id="GBC-v0", env_kwargs={"profile": str(profile)}, frames=4000, picture=False)
    hidden = run_extraction(ExtractionJob(**job, out=tmp_path / "hidden.json"), log=lambda line: None)
    shutil.copyfile(PONG / "pong.symbols.json", tmp_path / "mypong.symbols.json")
    shown = run_extraction(ExtractionJob(**job, out=tmp_path / "shown.json"), log=lambda line: None)
    assert "state_recall" not in hidden and "state_recall" in shown  # the symbols file only scores
    specs = [json.loads((tmp_path / name).read_text()) for name in ("hidden.json", "shown.json")]
    for key in ("features", "kept", "dropped", "groups", "oam_dma_pages", "stack"):
        assert specs[0][key] == specs[1][key], key
    names = {v["name"] for v in read_symbols(PONG / "pong.symbols.json")["variables"]}
    text = json.dumps(specs[0])
    assert not [n for n in names if f'"{n}"' in text]
    assert all(f["name"].startswith("0x") for f in specs[0]["features"])
    reasons = {d["reason"] for d in specs[0]["dropped"]}
    assert {"constant", "oam_dma_source", "frame_counter", "stack"} <= reasons


RUNNER = ROMS_DIR / "runner"


@pytest.mark.skipif(not (RUNNER / "runner.gb").is_file(), reason="roms/runner/runner.gb absent: make -C roms")
def test_banked_bytes_and_the_perturbation_test_decide_the_same_without_symbols(tmp_path):
    # Our Runner keeps column_ring in CGB WRAM bank 2: with its symbols file hidden, the same banked bytes are kept
    # (named bank:address) and the perturbation test tries the same bytes with the same outcome.
    rom = tmp_path / "myrunner.gb"
    shutil.copyfile(RUNNER / "runner.gb", rom)
    variables = {v["name"]: v for v in read_symbols(RUNNER / "runner.symbols.json")["variables"]}
    profile = tmp_path / "myrunner.profile.json"
    profile.write_text(json.dumps({
        "name": "myrunner", "rom": rom.name, "sha1": hashlib.sha1(rom.read_bytes()).hexdigest(),
        "variables": {"game_state": {"address": hex(variables["game_state"]["address"])},
                      "distance": {"address": hex(variables["distance"]["address"]), "size": 2},
                      "rng_state": {"address": hex(variables["rng_state"]["address"]), "size": 2}},
        "score": "distance", "seed_variable": "rng_state",
        "start_sequence": [{"frames": 120}, {"frames": 2, "buttons": ["start"]}],
        "in_play": {"variable": "game_state", "op": "==", "value": 1},
        "game_over": {"variable": "game_state", "op": "==", "value": 2},
        "actions": [[], ["a"], ["down"]],
    }))
    # A short recording: bytes changing up to once per 50 frames are tried (8 at most), the banked ones included.
    settings = ExtractSettings(overwrite_max_change_rate=0.02, overwrite_max_bytes=8)
    job = dict(env_id="GBC-v0", env_kwargs={"profile": str(profile)}, frames=3000, picture=False, settings=settings)
    hidden = run_extraction(ExtractionJob(**job, out=tmp_path / "hidden.json"), log=lambda line: None)
    shutil.copyfile(RUNNER / "runner.symbols.json", tmp_path / "myrunner.symbols.json")
    shown = run_extraction(ExtractionJob(**job, out=tmp_path / "shown.json"), log=lambda line: None)
    assert "state_recall" not in hidden and shown["state_recall"] == 1.0
    specs = [json.loads((tmp_path / name).read_text()) for name in ("hidden.json", "shown.json")]
    for key in ("features", "kept", "dropped", "groups", "wram_banks", "overwrite_test"):
        assert specs[0][key] == specs[1][key], key
    banked = [f for f in specs[0]["features"] if f.get("bank") == 2]
    assert banked and all(f["name"].startswith("2:0xd0") for f in banked)
    assert specs[0]["overwrite_test"]["bytes_tried"] > 0
