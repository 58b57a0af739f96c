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
from agents.probing.screen_maps import wilson_interval

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
    assert len(lines) == len(bars["key_variables_r2"]) + 1 + len(bars["causal"]) + len(bars["causal_generic"])
    assert len(bars["causal"]) == 2 and len(bars["causal_generic"]) > 0  # the scalars with no predicted direction
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
    bars = summary["bars"]
    # a brick never broken in the held-out blocks (one class) is listed as constant, not scored 1.00
    assert bars["variables_scored"] + len(bars["variables_constant_on_test"]) == bars["variables_total"] == 120
    assert bars["variables_scored"] > 20
    assert [layer["name"] for layer in summary["layers"]] == ["conv1", "conv2", "fc1", "actor", "critic"]
    vectors = np.load(folder / "function_vectors.npz")
    norms = np.linalg.norm(vectors["fc1/probe"], axis=1)
    assert vectors["fc1/probe"].shape == (120, 16) and np.allclose(norms[norms > 0], 1.0, atol=1e-5)
    causal = (folder / "causal.csv").read_text()
    assert "ball_x,random" in causal and "paddle_x,probe" in causal
    maps = (folder / "screen_maps.csv").read_text().splitlines()
    assert len(maps) == 1 + 3 * 3 * 2 * 3  # key variables x hidden layers x directions x methods
    assert sorted(summary["screen_maps"]["variables"]) == ["ball_x", "ball_y", "paddle_x"]
    for row in summary["screen_maps"]["variables"].values():  # each hit rate with its Wilson interval
        hits = round(row["pointing_hit_rate"] * row["states"])
        assert row["pointing_interval"] == pytest.approx(list(wilson_interval(hits, row["states"])))


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
    assert "its 95% interval" in page and re.search(r"<td>\[[01]\.\d\d, [01]\.\d\d\]</td>", page)


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
    assert "constant on the test split, not scored: game_state" in html and html.count('class="pass"') == 1
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


# --- What the report got wrong (issue 20, item 7) ----------------------------------------------------------------------


def _fake_outputs(tmp_path: Path, channels: int = 16, names: int = 12):
    """A ProbeOutputs of a GBC agent held in memory: `names` scalar variables with regions, one conv layer."""
    from agents.probing.report import ProbeOutputs

    variables = [f"var{k}" for k in range(names)]
    rng = np.random.default_rng(0)
    summary = {"env_id": "GBCBreakout-v0", "addresses": {v: f"0xC0{k:02X}" for k, v in enumerate(variables)},
               "families": {}, "arrays": {}, "variables": variables, "action_meanings": ["NOOP", "LEFT", "RIGHT"]}
    labels = [{"layer": "conv1", "channel": str(c), "variable": variables[c % names] if c % 3 else "",
               "abs_r": "0.8"} for c in range(channels)]
    return ProbeOutputs(tmp_path, summary, [], [], [], labels, [], rng.random((names, 20, 20)),
                        np.full(names, 4), variables,
                        {"obs": rng.integers(0, 255, (2, 2, 20, 20), dtype=np.uint8),
                         "act/conv1": rng.random((2, channels, 5, 5))})


def _overlaps(a, b) -> bool:
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


def test_second_row_titles_stay_clear_of_the_first_row(tmp_path, monkeypatch):
    """Each figure is checked as it is saved, after the report's own layout step."""
    from matplotlib.figure import Figure

    from agents.probing import report as report_module

    drawn = {}
    save = Figure.savefig

    def check_then_save(fig, *args, **kwargs):
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        rows: dict[float, list] = {}
        for ax in fig.axes:
            if ax.get_title():
                rows.setdefault(round(ax.get_position().y0, 3), []).append(ax)
        tops = sorted(rows, reverse=True)
        clashes = [(upper.get_title(), lower.get_title()) for first, second in zip(tops, tops[1:])
                   for upper in rows[first] for lower in rows[second]
                   if _overlaps(lower.title.get_window_extent(renderer), upper.get_window_extent(renderer))]
        drawn[fig._suptitle.get_text()] = (len(tops), clashes)
        return save(fig, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", check_then_save)
    outputs = _fake_outputs(tmp_path, names=18)
    report_module.fig_regions(outputs, outputs.region_variables, 6, "regions", size=2.0)
    report_module.fig_conv_layer(outputs, {"name": "conv1", "path": "network.0.0"}, 0)
    assert len(drawn) == 2
    for title, (rows, clashes) in drawn.items():
        assert rows >= 2 and clashes == [], (title, clashes[:3])


def test_units_are_labelled_only_above_a_threshold_and_the_random_control():
    from agents.probing.labels import channel_labels, unit_labels, varies_enough

    rng = np.random.default_rng(0)
    n = 400
    ball_x = rng.uniform(size=n)
    brick = np.zeros(n)
    brick[7] = 1.0  # breaks in one state of the test split: nearly constant
    targets = np.stack([ball_x, brick], axis=1)
    eligible = varies_enough(targets)
    assert eligible.tolist() == [True, False]
    units = np.stack([ball_x + 0.1 * rng.normal(size=n),  # reads ball_x well
                      brick.copy(),  # a perfect, spurious correlation with the nearly constant brick
                      ball_x + 7.0 * rng.normal(size=n),  # |r| about 0.04
                      ball_x + 0.5 * rng.normal(size=n)], axis=1)  # |r| about 0.5, below the control's 0.6
    from agents.probing.probes import unit_correlations

    corr = unit_correlations(units, targets)
    control = np.array([0.6, 1.0])
    rows = unit_labels("fc1", (4,), corr, control, eligible, ["ball_x", "brick_r1_c13"], {"ball_x": "0xC0A6"})
    assert [r["variable"] for r in rows] == ["ball_x", "", "", ""]
    assert rows[0]["address"] == "0xC0A6" and rows[2]["best_variable"] == "ball_x"
    assert abs(corr[1, 1]) > 0.99 and rows[1]["best_variable"] == "ball_x"  # the brick is not a candidate
    assert rows[2]["unlabelled_because"].startswith("|r| below")
    assert rows[3]["unlabelled_because"] == "not 0.05 above random weights"
    tie = unit_labels("fc1", (4,), corr, np.array([corr[0, 0] - 0.01, 1.0]), eligible, ["ball_x", "b"], {})
    assert tie[0]["variable"] == ""  # a hair above the control is a tie
    # a conv channel: the best position of each channel, against the control's best position
    channels = channel_labels("conv1", (2, 1, 2), corr, control, eligible, ["ball_x", "brick_r1_c13"], {})
    assert [c["variable"] for c in channels] == ["ball_x", ""]


def test_a_flag_with_one_class_on_the_test_split_gets_no_score():
    from agents.probing.probes import balanced_accuracy, fit_probes

    y = np.ones((50, 1))
    assert np.isnan(balanced_accuracy(y, y)[0])  # any constant guess would score 1.00
    assert balanced_accuracy(np.array([[0.0], [1.0]]), np.array([[0.0], [1.0]]))[0] == 1.0
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 8))
    split = np.repeat([0, 1, 2], 100)
    flag = (x[:, 0] > 0).astype(float)
    flag[split == 2] = 1.0  # reached in every test state
    fit = fit_probes(x, np.stack([flag, x[:, 1] > 0], axis=1).astype(float), split, np.array([True, True]))
    assert np.isnan(fit.test_score[0]) and fit.test_score[1] > 0.8


def test_a_control_below_zero_counts_as_the_mean_and_the_report_says_so():
    rng = np.random.default_rng(1)
    y = rng.uniform(size=(400, 1))
    groups = np.repeat(np.arange(40), 10)
    trained = y + 0.05 * rng.normal(size=(400, 1))
    control = y.mean() + 0.4 * rng.normal(size=(400, 1))  # R^2 well below 0
    rows = [{"network": net, "layer": "fc1", "variable": "ball_y", "metric": "r2", "score_play": 0.0,
             "score": float(r2_score(y, p)[0])} for net, p in (("trained", trained), ("random_weights", control))]
    rows.append({"network": "pixels", "layer": "pixels", "variable": "ball_y", "metric": "r2", "score": 0.5,
                 "score_play": 0.5})
    key_test = {"variables": ["ball_y"], "targets": y, "groups": groups, "trained": {"fc1": trained},
                "random_weights": {"fc1": control}}
    bars = measure_bars(rows, key_test=key_test, causal=[], constant_on_test=[], names=["ball_y"], policy_signs={})
    ball_y = bars["key_variables_r2"]["ball_y"]
    assert ball_y["random_weights_r2"] < -0.5 and ball_y["pass"]
    low, high = ball_y["layers"]["fc1"]["difference_ci95"]
    r2 = ball_y["r2"]
    assert r2 - 0.05 < low <= high <= r2 + 0.05  # R^2(trained) - 0, not a difference with a failed fit
    page = _bars_html(bars)
    assert "worse than predicting the mean, counted as 0" in page and "counts as 0" in page


def test_gbc_ram_map_goes_only_into_its_own_games_report(report, tmp_path):
    from agents.probing.report import build_report
    from breakout_py.errors import UserError

    gbc_dir = tmp_path / "ram_regions"
    gbc_dir.mkdir()
    np.savez(gbc_dir / "regions.npz", maps=np.zeros((1, 144, 160)), labels=np.array(["0xC0A6 ball_x"]),
             background=np.zeros((144, 160, 3), np.uint8))
    (gbc_dir / "ram_regions.csv").write_text("address,label,kind,changed_pixels,y0,y1,x0,x1,expected_box,"
                                             "inside_expected\n0xC0A6,0xC0A6 ball_x,state,0,,,,,,\n")
    folder = tmp_path / "python_breakout"
    shutil.copytree(report.parent, folder, ignore=shutil.ignore_patterns("figures", "tensorboard", "report.html"))
    result = run_script("scripts/08_visualise.py", "--probe-dir", str(folder), "--gbc-regions-dir", str(gbc_dir),
                        "--no-tensorboard")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "left out of this report" in result.stdout
    assert "RAM-to-screen map" not in (folder / "report.html").read_text()
    from agents.probing.gbc_ram_map import load_ram_regions

    gbc = load_ram_regions(gbc_dir)
    with pytest.raises(UserError, match="the RAM-to-screen map is of GBCBreakout-v0"):
        build_report(folder, gbc=gbc)
    summary = json.loads((folder / "summary.json").read_text())
    (folder / "summary.json").write_text(json.dumps({**summary, "env_id": "GBCBreakout-v0"}))
    assert "GBC Breakout: RAM-to-screen map" in build_report(folder, gbc=gbc)["report"].read_text()


def test_header_says_no_game_finished_instead_of_a_mean_of_none(report):
    from agents.probing.report import _play_sentence

    assert "nan" not in _play_sentence({"episodes_finished": 0, "mean_score_of_finished_episodes": None})
    assert _play_sentence({"episodes_finished": 3, "mean_score_of_finished_episodes": 12.0}) == \
        "Play: 3 games finished, mean score 12.0."
    assert "mean score nan" not in report.read_text()


def test_label_tables_and_rule_are_in_the_report(report):
    page = report.read_text()
    assert "random weights&#x27; best |r|" in page and "too constant to label" in page
    units = (report.parent / "unit_labels.csv").read_text().splitlines()[0].split(",")
    assert {"best_variable", "random_weights_abs_r", "unlabelled_because"} <= set(units)
