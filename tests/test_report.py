"""Steps 06 and 07 end to end on a tiny agent, the report opened in headless Chromium, and the scripts' errors."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from agents.checkpoint import save_checkpoint
from agents.networks import CNNAgent
from agents.probe import ProbeError
from training_scripts import load_script

ROOT = Path(__file__).resolve().parents[1]
KWARGS = {"obs_type": "pixels", "obs_size": 20, "frame_stack": 2, "frame_skip": 4}
TINY = ["--num-games", "4", "--num-steps", "120", "--keep-every", "2", "--num-bases", "6", "--sweep-count", "3",
        "--brick-patterns", "2", "--toggle-bases", "1", "--max-train", "400", "--pcs", "24", "--causal-states", "6",
        "--causal-seeds", "2", "--random-directions", "2", "--region-bases", "4", "--examples", "2",
        "--group-steps", "16", "--no-gbc-regions"]


def _chromium() -> str | None:
    return next((p for p in (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")) if p), None)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    torch.manual_seed(0)
    agent = CNNAgent((2, 20, 20), 3, channels=(4, 8), kernels=(4, 3), strides=(2, 1), hidden_size=16)
    path = tmp_path_factory.mktemp("agent") / "model.pt"
    return save_checkpoint(path, agent, None, {"env_id": "BreakoutPy-v0", "env_kwargs": KWARGS})


@pytest.fixture(scope="module")
def report(checkpoint, tmp_path_factory) -> Path:
    import tyro

    out = tmp_path_factory.mktemp("probe") / "tiny"
    probe, visualise = load_script("06_probe.py"), load_script("07_visualise.py")
    probe.main(tyro.cli(probe.Args, args=["--checkpoint", str(checkpoint), "--out-dir", str(out)] + TINY))
    return visualise.main(tyro.cli(visualise.Args, args=["--probe-dir", str(out), "--gbc-regions-dir", ""]))


def test_probe_writes_every_table_and_scores_every_variable(report):
    folder = report.parent
    for name in ("probe_scores.csv", "probe_scores.md", "probe_best.csv", "unit_labels.csv", "channel_labels.csv",
                 "function_vectors.npz", "correlations.npz", "causal.csv", "causal.md", "regions.npz",
                 "examples.npz", "summary.json"):
        assert (folder / name).is_file(), name
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["bars"]["variables_scored"] == summary["bars"]["variables_total"] == 120
    assert [layer["name"] for layer in summary["layers"]] == ["conv1", "conv2", "fc1", "actor", "critic"]
    vectors = np.load(folder / "function_vectors.npz")
    norms = np.linalg.norm(vectors["fc1/probe"], axis=1)
    assert vectors["fc1/probe"].shape == (120, 16) and np.allclose(norms[norms > 0], 1.0, atol=1e-5)
    causal = (folder / "causal.csv").read_text()
    assert "ball_x,random" in causal and "paddle_x,probe" in causal


def test_report_has_every_layer_and_tensorboard_images(report):
    page = report.read_text()
    for layer in ("conv1", "conv2", "fc1", "actor", "critic"):
        assert f"activations of {layer}" in page
    assert page.count("<img") > 120  # the figures plus a region thumbnail per variable in the tables
    assert "http://" not in page and "https://" not in page  # self-contained
    events = list((report.parent / "tensorboard").glob("events.out.tfevents.*"))
    assert events and events[0].stat().st_size > 10_000
    assert len(list((report.parent / "figures" / "regions").glob("*.png"))) == 120


def test_report_renders_in_headless_chromium(report, tmp_path):
    browser = _chromium()
    if browser is None:
        pytest.skip("no Chromium: install Debian's `chromium` package (apt-get install chromium) for this test")
    flags = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=10000",
             f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run(flags + ["--dump-dom", report.as_uri()], capture_output=True, text=True, timeout=120)
    status = re.search(r'id="report-status"[^>]*>([^<]*)<', dom.stdout)
    assert status, dom.stderr[-2000:]
    assert re.fullmatch(r"report ok: (\d+) of \1 images decoded", status.group(1)), status.group(1)
    shot = tmp_path / "report.png"
    subprocess.run(flags + [f"--screenshot={shot}", "--window-size=1280,2400", report.as_uri()],
                   capture_output=True, timeout=120)
    from PIL import Image

    pixels = np.asarray(Image.open(shot).convert("L"), dtype=float)
    assert pixels.shape == (2400, 1280)
    assert pixels.std() > 20  # text, tables and figures, not a blank or error page
    assert (pixels < 128).mean() > 0.01


def test_bad_names_are_clear_errors(checkpoint, tmp_path):
    import tyro

    probe = load_script("06_probe.py")
    with pytest.raises(ProbeError, match=r"unknown variable\(s\) \['ball_z'\]"):
        probe.main(tyro.cli(probe.Args, args=["--checkpoint", str(checkpoint), "--variables", "ball_z",
                                              "--out-dir", str(tmp_path)] + TINY))
    result = subprocess.run([sys.executable, "scripts/06_probe.py", "--checkpoint", str(checkpoint), "--layers",
                             "conv7"] + TINY, cwd=ROOT, capture_output=True, text=True, timeout=300,
                            env={**os.environ, "PYTHONWARNINGS": "ignore"})
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("error: no layer named ['conv7']")
    missing = subprocess.run([sys.executable, "scripts/06_probe.py", "--checkpoint", str(tmp_path / "none.pt")],
                             cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert missing.returncode == 2 and "error: no checkpoint at" in missing.stderr

    architectures = subprocess.run([sys.executable, "scripts/probe_architectures.py", "--trunks", "42 nope"],
                                   cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert architectures.returncode == 2 and "error: unknown trunk(s) ['42 nope']" in architectures.stderr
    architectures = subprocess.run([sys.executable, "scripts/probe_architectures.py", "--checkpoint", str(checkpoint),
                                    "--variables", "ball_z"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert architectures.returncode == 2 and "error: unknown variable(s) ['ball_z']" in architectures.stderr


def _bars_for(scores: dict[str, float], constant_on_test: list[str]) -> tuple[dict, str]:
    from types import SimpleNamespace

    from agents.probe_pipeline import measure_bars
    from agents.report import _bars_html

    rows = [{"network": "trained", "layer": "fc1", "variable": name, "metric": "r2", "score": score,
             "score_play": score} for name, score in scores.items()]
    bars = measure_bars(SimpleNamespace(scores=rows, names=list(scores), constant_on_test=constant_on_test,
                                        causal=[], key_test={}))
    return bars, _bars_html(bars)


def test_a_variable_constant_on_the_test_split_is_listed_not_failed():
    bars, html = _bars_for({"lives": 0.99, "game_state": float("nan")}, constant_on_test=["game_state"])
    assert bars["variables_scored"] == 1 and bars["variables_constant_on_test"] == ["game_state"]
    assert "constant on the test split: game_state" in html and html.count('class="pass"') == 1
    # a NaN score for a variable that did vary is a failed probe, and the bar says no
    bars, html = _bars_for({"lives": 0.99, "game_state": float("nan")}, constant_on_test=[])
    assert bars["variables_constant_on_test"] == [] and html.count('class="fail"') == 1


def test_key_variable_passes_only_at_a_layer_clearly_above_random_weights():
    from types import SimpleNamespace

    from agents.probe import r2_score
    from agents.probe_pipeline import measure_bars
    from agents.report import _bars_html

    rng = np.random.default_rng(0)
    y = rng.uniform(size=(400, 1))
    groups = np.repeat(np.arange(40), 10)
    noise = rng.normal(size=(400, 1))
    # conv1 reads the variable best, but exactly as well as random weights do; conv2 less well, but far above them
    pred = {"trained": {"conv1": y + 0.04 * noise, "conv2": y + 0.07 * rng.normal(size=(400, 1))},
            "random_weights": {"conv1": y + 0.04 * noise, "conv2": y + 0.2 * rng.normal(size=(400, 1))}}
    rows = [{"network": net, "layer": layer, "variable": "ball_y", "metric": "r2", "score_play": 0.0,
             "score": float(r2_score(y, p)[0])} for net, layers in pred.items() for layer, p in layers.items()]
    rows.append({"network": "pixels", "layer": "pixels", "variable": "ball_y", "metric": "r2", "score": 0.99,
                 "score_play": 0.99})
    key_test = {"variables": ["ball_y"], "targets": y, "groups": groups, **pred}
    bars = measure_bars(SimpleNamespace(scores=rows, names=["ball_y"], constant_on_test=[], causal=[],
                                        key_test=key_test))
    ball_y = bars["key_variables_r2"]["ball_y"]
    assert ball_y["best_layer"] == "conv1" and ball_y["random_weights_r2"] == ball_y["r2"]
    assert ball_y["layers"]["conv1"]["difference_ci95"] == [0.0, 0.0]
    assert ball_y["layer_above_control"] == "conv2" and ball_y["pass"]
    assert ball_y["layers"]["conv2"]["difference_ci95"][0] > 0.2
    assert "conv2: 0.9" in _bars_html(bars)
    # the same tie with no better layer is not a pass
    key_test["trained"] = {"conv1": pred["trained"]["conv1"]}
    key_test["random_weights"] = {"conv1": pred["random_weights"]["conv1"]}
    bars = measure_bars(SimpleNamespace(scores=rows, names=["ball_y"], constant_on_test=[], causal=[],
                                        key_test=key_test))
    assert bars["key_variables_r2"]["ball_y"]["layer_above_control"] is None
    assert not bars["key_variables_r2"]["ball_y"]["pass"]
