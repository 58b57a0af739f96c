"""The pipeline on one of our games with its symbols file hidden (run_pipeline.sh --hide-symbols): the ROM copied
beside a user profile and no symbols file (gbc.user_rom), step 06 on it naming features by address without ever
reading a symbols file, and the comparison with the symbols run by address (agents.probing.game_runs)."""

import builtins
import json
import os
import pathlib
import subprocess
from pathlib import Path

import pytest

from agents.probing.game_runs import SYMBOLS_RUN_DIR, USER_ROM_DIR, compare_hidden, plan
from agents.probing.games_report import games_rows
from agents.probing.key_variable_games import features_for_env, load_memory_agent, run_key_variables
from gbc.extract.spec import StateSpec
from gbc.profiles import ROMS_DIR

ROOT = Path(__file__).resolve().parents[1]
TINY = dict(states=24, keep_every=1, num_envs=2, repeats=1, bootstrap=10, top=5, log=lambda line: None)


def _refuse_symbols_files(monkeypatch) -> None:
    """Any read of a *.symbols.json from here on fails the test."""
    def guarded(read):
        def reader(path, *args, **kwargs):
            assert not str(path).endswith(".symbols.json"), f"read the symbols file {path}"
            return read(path, *args, **kwargs)
        return reader
    for owner, name in ((pathlib.Path, "read_text"), (pathlib.Path, "read_bytes"), (pathlib.Path, "open"),
                        (builtins, "open")):
        monkeypatch.setattr(owner, name, guarded(getattr(owner, name)))


@pytest.mark.skipif(not (ROMS_DIR / "pong" / "pong.gb").is_file(), reason="roms/pong/pong.gb absent: make -C roms")
def test_hidden_symbols_run_names_features_by_address_and_never_reads_the_symbols_file(tmp_path, monkeypatch):
    target, out = plan("pong", tmp_path, hide_symbols_file=True)
    rom_dir = out / USER_ROM_DIR
    assert sorted(p.name for p in rom_dir.iterdir()) == ["pong.gb", "pong.state_spec.json", "user_pong.profile.json"]
    profile = json.loads((rom_dir / "user_pong.profile.json").read_text())
    assert sorted(profile["variables"]) == ["game_state", "player_score"] and "seed_variable" not in profile
    assert (target.env_id, target.symbols_hidden_of, target.steps["key_variables"]) == ("GBC-v0", "GBCPong-v0", "run")
    assert target.steps["scripted"].startswith("skipped: a user's ROM has no scripted player")
    # Pong ships a raw-RAM agent too: a hidden-symbols run ranks only the state agent, and evaluates none
    assert all(target.steps[step].startswith("skipped: symbols hidden")
               for step in ("evaluate_memory", "evaluate_memory_ram", "evaluate_pixel", "key_variables_ram"))

    _refuse_symbols_files(monkeypatch)
    agent, env_id, env_kwargs, _, _ = load_memory_agent("memory", "", "GBCPong-v0", target.profile)
    assert (env_id, env_kwargs["profile"]) == ("GBC-v0", target.profile)
    features = features_for_env(env_id, env_kwargs)
    assert features.symbols_path is None and features.scripted_player is None
    assert all(f.name == f.addresses and f.name.startswith("0xC") and not f.symbol for f in features.features)
    run_key_variables(agent, env_id, env_kwargs, out / "key_variables", "hidden", **TINY)
    monkeypatch.undo()

    shown, _, _, _, _ = load_memory_agent("memory", "", "GBCPong-v0")
    run_key_variables(shown, "GBCPong-v0", {"obs_type": "state"}, out / SYMBOLS_RUN_DIR, "symbols", **TINY)
    comparison = compare_hidden("pong", tmp_path)
    assert comparison["named_by_address"] and comparison["features"] == [16, 16]
    symbols = {v["address"]: v["name"] for v in json.loads((ROMS_DIR / "pong/pong.symbols.json").read_text())[
        "variables"]}
    for row in comparison["hidden_top"]:  # named afterwards from the symbols run's table, by address
        assert row["symbol"] == symbols[int(row["addresses"], 16)] and row["symbols_run_rank"] is not None
    assert json.loads((out / "hidden_vs_symbols.json").read_text())["overlap"] == comparison["overlap"]
    row = games_rows(tmp_path)[0]  # the cross-game table tells it from the game's own run
    assert row["game"] == "pong (symbols hidden)" and row["memory agent return"].startswith("symbols hidden")


def test_hide_symbols_needs_one_of_our_gbc_games(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONWARNINGS": "ignore"}
    for args, message in [(("--game", "breakout-py", "--hide-symbols"), "error: --hide-symbols needs one of our GBC "
                                                                         "games"),
                          (("--all-games", "--hide-symbols"), "error: run_pipeline.sh: --hide-symbols takes --game")]:
        result = subprocess.run(["bash", "scripts/run_pipeline.sh", *args, "--out-dir", str(tmp_path)], cwd=ROOT,
                                env=env, capture_output=True, text=True, timeout=60)
        assert result.returncode == 2 and result.stderr.startswith(message), (args, result.stderr)
    assert not any(tmp_path.iterdir())


def test_a_specs_fingerprint_leaves_names_out():
    # the agent's spec beside a user's copy is the same observation whatever its features are called
    data = json.loads((ROMS_DIR / "pong/pong.state_spec.json").read_text())
    renamed = {**data, "features": [{**f, "name": f"var{k}"} for k, f in enumerate(data["features"])]}
    assert StateSpec(renamed).fingerprint["sha256"] == StateSpec(data).fingerprint["sha256"]
    moved = {**data, "features": [{**f, "max": f["max"] + 1} for f in data["features"]]}
    assert StateSpec(moved).fingerprint["sha256"] != StateSpec(data).fingerprint["sha256"]
