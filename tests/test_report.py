"""Steps 07 and 08 end to end on a tiny agent (the scripts run as subprocesses), the report opened in headless
Chromium, the bars and their printed lines, and the scripts' errors."""

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
from agents.probing.bars import bar_lines, measure_bars
from agents.probing.game import ProbeConfig
from agents.probing.games import run_probe
from agents.probing.probes import ProbeError, r2_score
from agents.probing.report import _bars_html

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONWARNINGS": "ignore"}
KWARGS = {"obs_type": "pixels", "obs_size": 20, "frame_stack": 2, "frame_skip": 4}
TINY = ["--num-games", "4", "--num-steps", "120", "--keep-every", "2", "--num-bases", "6", "--sweep-count", "3",
        "--brick-patterns", "2", "--toggle-bases", "1", "--max-train", "400", "--pcs", "24", "--causal-states", "6",
        "--causal-seeds", "2", "--random-directions", "2", "--region-bases", "4", "--examples", "2",
        "--group-steps", "16", "--no-gbc-regions"]


def run_script(*args: str) -> subprocess.CompletedProcess:
    """A numbered script run as a researcher runs it, from the repository root."""
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=600)


def _chromium() -> str | None:
    return next((p for p in (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")) if p), None)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    torch.manual_seed(0)
    agent = CNNAgent((2, 20, 20), 3, channels=(4, 8), kernels=(4, 3), strides=(2, 1), hidden_size=16)
    path = tmp_path_factory.mktemp("agent") / "model.pt"
    return save_checkpoint(path, agent, None, {"env_id": "BreakoutPy-v0", "env_kwargs": KWARGS})


@pytest.fixture(scope="module")
def probed(checkpoint, tmp_path_factory) -> tuple[Path, str]:
    """(step 07's folder, what 07 printed)."""
    out = tmp_path_factory.mktemp("probe") / "tiny"
    result = run_script("scripts/07_probe.py", "--checkpoint", str(checkpoint), "--out-dir", str(out), *TINY)
    assert result.returncode == 0, result.stderr[-3000:]
    return out, result.stdout


@pytest.fixture(scope="module")
def report(probed) -> Path:
    out, _ = probed
    result = run_script("scripts/08_visualise.py", "--probe-dir", str(out), "--gbc-regions-dir", "")
    assert result.returncode == 0, result.stderr[-3000:]
    report = Path(json.loads(result.stdout.strip().splitlines()[-1])["report"])
    assert report == out / "report.html"
    return report


def test_probe_prints_one_short_line_per_bar_and_where_it_wrote(probed):
    out, stdout = probed
    bars = json.loads((out / "summary.json").read_text())["bars"]
    lines = [line for line in stdout.splitlines() if line.startswith("07: bar ")]
    assert [line.removeprefix("07: ") for line in lines] == bar_lines(bars)
    assert len(lines) == len(bars["key_variables_r2"]) + 1 + len(bars["causal"]) == 6
    assert all(len(line) < 300 for line in stdout.splitlines())  # no line carries the whole summary (once 3 KB)
    assert f"07: wrote {out}/" in stdout
    assert len([line for line in stdout.splitlines() if line.startswith("07: screen map ")]) == 3
    assert json.loads(stdout.strip().splitlines()[-1])["out_dir"] == str(out)


def test_probe_writes_every_table_and_scores_every_variable(report):
    folder = report.parent
    for name in ("probe_scores.csv", "probe_scores.md", "probe_best.csv", "unit_labels.csv", "channel_labels.csv",
                 "function_vectors.npz", "correlations.npz", "causal.csv", "causal.md", "regions.npz",
                 "examples.npz", "summary.json", "screen_maps.csv", "screen_maps.npz"):
        assert (folder / name).is_file(), name
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["bars"]["variables_scored"] == summary["bars"]["variables_total"] == 120
    assert [layer["name"] for layer in summary["layers"]] == ["conv1", "conv2", "fc1", "actor", "critic"]
    vectors = np.load(folder / "function_vectors.npz")
    norms = np.linalg.norm(vectors["fc1/probe"], axis=1)
    assert vectors["fc1/probe"].shape == (120, 16) and np.allclose(norms[norms > 0], 1.0, atol=1e-5)
    causal = (folder / "causal.csv").read_text()
    assert "ball_x,random" in causal and "paddle_x,probe" in causal
    maps = (folder / "screen_maps.csv").read_text().splitlines()
    assert len(maps) == 1 + 3 * 3 * 2 * 3  # key variables x hidden layers x directions x methods
    assert sorted(summary["screen_maps"]["variables"]) == ["ball_x", "ball_y", "paddle_x"]


def test_report_has_every_layer_and_tensorboard_images(report):
    page = report.read_text()
    for layer in ("conv1", "conv2", "fc1", "actor", "critic"):
        assert f"activations of {layer}" in page
    assert page.count("<img") > 120  # the figures plus a region thumbnail per variable in the tables
    assert "http://" not in page and "https://" not in page  # self-contained
    events = list((report.parent / "tensorboard").glob("events.out.tfevents.*"))
    assert events and events[0].stat().st_size > 10_000
    assert len(list((report.parent / "figures" / "regions").glob("*.png"))) == 120
    assert "Function-vector screen maps" in page
    assert all(f'alt="screen map of {name}"' in page for name in ("ball_x", "ball_y", "paddle_x"))


def test_report_lays_out_array_variables_as_summary_json_says(report, tmp_path):
    from PIL import Image

    from agents.probing.report import build_report

    folder = tmp_path / "wall"
    shutil.copytree(report.parent, folder, ignore=shutil.ignore_patterns("figures", "tensorboard", "report.html"))
    summary = json.loads((folder / "summary.json").read_text())
    names = summary["arrays"].pop("Bricks")["names"]
    summary["arrays"]["Wall"] = {"shape": [2, 54], "names": names}  # the same elements, another game's layout
    (folder / "summary.json").write_text(json.dumps(summary))
    written = build_report(folder)
    assert {"scores_wall", "regions_wall"} <= set(written) and "scores_bricks" not in written
    width = Image.open(written["regions_wall"]).size[0]
    assert width > 2 * Image.open(report.parent / "figures" / "regions_bricks.png").size[0]  # 54 columns, not 18
    assert "The 108 wall" in written["report"].read_text()
    summary["arrays"]["Wall"]["shape"] = [5, 5]  # a layout that does not hold its elements is not redrawn as 6x18
    (folder / "summary.json").write_text(json.dumps(summary))
    with pytest.raises(ValueError, match="reshape"):
        build_report(folder)


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
    from agents.checkpoint import load_agent

    agent, payload = load_agent(checkpoint)
    with pytest.raises(ProbeError, match=r"unknown variable\(s\) \['ball_z'\]"):
        run_probe(agent, payload, str(checkpoint), ProbeConfig(variables=("ball_z",)))
    with pytest.raises(ProbeError, match=r"was trained on 'CartPole-v1'; step 07 probes pixel agents of"):
        run_probe(agent, {**payload, "env_id": "CartPole-v1"}, "ckpt")
    result = run_script("scripts/07_probe.py", "--checkpoint", str(checkpoint), "--layers", "conv7", *TINY)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("error: no layer named ['conv7']")
    missing = run_script("scripts/07_probe.py", "--checkpoint", str(tmp_path / "none.pt"))
    assert missing.returncode == 2 and "error: no checkpoint at" in missing.stderr

    architectures = run_script("scripts/probe_architectures.py", "--trunks", "42 nope")
    assert architectures.returncode == 2 and "error: unknown trunk(s) ['42 nope']" in architectures.stderr
    architectures = run_script("scripts/probe_architectures.py", "--checkpoint", str(checkpoint),
                               "--variables", "ball_z")
    assert architectures.returncode == 2 and "error: unknown variable(s) ['ball_z']" in architectures.stderr


def test_visualise_names_what_to_run_for_a_folder_without_06s_outputs(probed, tmp_path):
    result = run_script("scripts/08_visualise.py", "--probe-dir", str(tmp_path), "--gbc-regions-dir", "")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith(f"error: {tmp_path} lacks ['summary.json'")
    assert "run scripts/07_probe.py first" in result.stderr
    out, _ = probed
    result = run_script("scripts/08_visualise.py", "--probe-dir", str(out), "--example", "5", "--gbc-regions-dir",
                        str(tmp_path))  # an empty folder as the GBC map
    assert result.returncode == 2 and "holds no RAM-to-screen map" in result.stderr
    result = run_script("scripts/08_visualise.py", "--probe-dir", str(out), "--example", "5", "--gbc-regions-dir", "")
    assert result.returncode == 2 and "error: example 5 does not exist: step 07 kept 2 examples" in result.stderr


def _bars_for(scores: dict[str, float], constant_on_test: list[str]) -> tuple[dict, str]:
    rows = [{"network": "trained", "layer": "fc1", "variable": name, "metric": "r2", "score": score,
             "score_play": score} for name, score in scores.items()]
    bars = measure_bars(rows, key_test={}, causal=[], constant_on_test=constant_on_test, names=list(scores),
                        policy_signs={})
    return bars, _bars_html(bars)


def test_a_variable_constant_on_the_test_split_is_listed_not_failed():
    bars, html = _bars_for({"lives": 0.99, "game_state": float("nan")}, constant_on_test=["game_state"])
    assert bars["variables_scored"] == 1 and bars["variables_constant_on_test"] == ["game_state"]
    assert "constant on the test split: game_state" in html and html.count('class="pass"') == 1
    # a NaN score for a variable that did vary is a failed probe, and the bar says no
    bars, html = _bars_for({"lives": 0.99, "game_state": float("nan")}, constant_on_test=[])
    assert bars["variables_constant_on_test"] == [] and html.count('class="fail"') == 1


def test_key_variable_passes_only_at_a_layer_clearly_above_random_weights():
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
    bars = measure_bars(rows, key_test=key_test, causal=[], constant_on_test=[], names=["ball_y"], policy_signs={})
    ball_y = bars["key_variables_r2"]["ball_y"]
    assert ball_y["best_layer"] == "conv1" and ball_y["random_weights_r2"] == ball_y["r2"]
    assert ball_y["layers"]["conv1"]["difference_ci95"] == [0.0, 0.0]
    assert ball_y["layer_above_control"] == "conv2" and ball_y["pass"]
    assert ball_y["layers"]["conv2"]["difference_ci95"][0] > 0.2
    assert "conv2: 0.9" in _bars_html(bars)
    # the same tie with no better layer is not a pass
    key_test["trained"] = {"conv1": pred["trained"]["conv1"]}
    key_test["random_weights"] = {"conv1": pred["random_weights"]["conv1"]}
    bars = measure_bars(rows, key_test=key_test, causal=[], constant_on_test=[], names=["ball_y"], policy_signs={})
    assert bars["key_variables_r2"]["ball_y"]["layer_above_control"] is None
    assert not bars["key_variables_r2"]["ball_y"]["pass"]
