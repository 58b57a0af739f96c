"""Step 06 on Python Breakout, end to end: data, activations, probes and controls, unit labels, function vectors,
the causal check and the screen regions; `write_results` puts them under one folder for step 07.

The game-independent middle (`probe_network`: activations, probes against the random-weights and raw-pixel
controls, unit correlations, function vectors, causal check) is shared with GBC Breakout
(`agents.probe_gbc_pixels`); `run_probe` picks the game from the checkpoint's env id.
`scripts/06_probe.py` is a thin command line over `ProbeConfig`, `run_probe` and `write_results`.
"""

from __future__ import annotations

import csv
import io
import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
import torch.nn as nn

from agents.networks import build_network
from agents.probe import (PIXELS, TEST, Layer, ProbeError, ProbeFit, check_variables, find_layers, fit_probes,
                          mean_difference, r2_difference_interval, random_directions, record_activations,
                          select_layers, split_by_group, steer_effects, unit_correlations, unit_norm)
from agents.probe_breakout import (BINARY, KIND_NAMES, KIND_PLAY, SCALARS, VARIABLES, BreakoutSetup,
                                   build_probe_data, collect_play, high_low_masks, screen_regions,
                                   setup_for_checkpoint)

# Where the policy should move when a variable is pushed up: +1 toward RIGHT (over LEFT), -1 toward LEFT. A ball
# further right should draw the paddle right; a paddle further right should send it back left.
PREDICTED_POLICY_SIGN = {"ball_x": +1, "paddle_x": -1}
GBC_ENV_ID = "GBCBreakout-v0"
KEY_VARIABLES = ("ball_x", "ball_y", "paddle_x")  # the bar: best layer R^2 >= 0.9 above the control
R2_BAR = 0.9
CAUSAL_BAR = 0.8


@dataclass
class ProbeConfig:
    """Sizes and seeds of one probing run (see scripts/06_probe.py for each field's meaning)."""

    num_games: int = 32
    num_steps: int = 1600
    keep_every: int = 16
    num_bases: int = 120
    sweep_count: int = 8
    brick_patterns: int = 6
    ball_positions: int = 32
    toggle_bases: int = 4
    max_train: int = 20000
    pcs: int = 256
    layers: tuple[str, ...] = ()
    variables: tuple[str, ...] = ()
    causal_variables: tuple[str, ...] = SCALARS
    causal_states: int = 64
    causal_seeds: int = 3
    random_directions: int = 4
    alpha_scale: float = 1.0
    region_bases: int = 32
    examples: int = 4
    group_steps: int = 64
    seed: int = 0


@dataclass
class ProbeResults:
    source: str
    setup: BreakoutSetup
    config: ProbeConfig
    layers: list[Layer]
    readout_layer: str
    data_counts: dict[str, int]
    play_summary: dict[str, Any]
    sweep_source: dict[str, str]
    scores: list[dict[str, Any]]
    correlations: dict[str, np.ndarray]  # layer -> (D, K) Pearson r, trained network, all samples
    probe_directions: dict[str, np.ndarray]  # layer -> (K, D) unit norm
    meandiff_directions: dict[str, np.ndarray]  # layer -> (K, D) unit norm
    meandiff_norms: dict[str, np.ndarray]  # layer -> (K,)
    causal: list[dict[str, Any]]
    regions: np.ndarray  # (K, S, S)
    region_counts: np.ndarray
    examples: dict[str, np.ndarray]
    names: list[str]  # every target column (the rows of regions and examples' targets)
    scalars: list[str]  # the variables that are not bricks
    addresses: dict[str, str]  # where each variable lives: state[i] (Python Breakout), its RAM address (GBC)
    timings: dict[str, dict[str, float]] = field(default_factory=dict)
    constant_on_test: list[str] = field(default_factory=list)  # probed variables with one value on the test split
    key_test: dict[str, Any] = field(default_factory=dict)  # NetworkFindings.key_test, for the bars' intervals


def print_progress(message: str) -> None:
    print(message, flush=True)


ARTIFACTS = Path("artifacts") / "probe"


def default_out_dir(env_id: str, agent_name: str) -> Path:
    return ARTIFACTS / env_id.replace("/", "-") / agent_name


def agent_name(checkpoint: str) -> str:
    """Short name of an agent for folder names: its run folder for model.pt/checkpoint.pt, else the file's stem;
    "shipped_pixel" for the shipped agent (empty `checkpoint`)."""
    if not checkpoint:
        return "shipped_pixel"
    path = Path(checkpoint)
    run = path.parent.parent if path.parent.name == "checkpoints" else path.parent
    return run.name if path.name in ("model.pt", "checkpoint.pt") and run.name else path.stem


def load_probe_agent(checkpoint: str, env_id: str) -> tuple[nn.Module, dict[str, Any], str, str]:
    """(agent, dict with env_id/env_kwargs, source to show, short name) of a checkpoint file, or of the shipped pixel
    agent for `env_id` when `checkpoint` is empty."""
    from agents.checkpoint import CheckpointError, load_agent

    if checkpoint:
        path = Path(checkpoint)
        try:
            agent, payload = load_agent(path)
        except CheckpointError as err:
            raise ProbeError(str(err)) from err
        return agent, payload, str(path), agent_name(checkpoint)
    try:
        from agents.shipped import load_shipped
    except ModuleNotFoundError as err:
        if err.name != "agents.shipped":
            raise
        raise ProbeError("this checkout has no shipped agents (agents/shipped.py); pass a pixel agent's "
                         "checkpoint with --checkpoint runs/<run>/model.pt") from err
    try:
        agent, entry = load_shipped(agent="pixel", env_id=env_id)
    except (OSError, KeyError, ValueError) as err:
        raise ProbeError(f"cannot load the shipped pixel agent for {env_id}: {err}; pass --checkpoint PATH, or "
                         "--env-id of a shipped agent") from err
    return agent.eval(), dict(entry), f"shipped pixel agent {entry.get('path', '')}".strip(), agent_name("")


def _random_network(agent: nn.Module, seed: int) -> nn.Module:
    """The same architecture with fresh weights (its own init), the AtariARI control."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        network = build_network(agent.config)
    return network.eval()


def _score_rows(fit: ProbeFit, network: str, layer: str, names: list[str], binary: np.ndarray) -> list[dict]:
    rows = []
    for k, name in enumerate(names):
        rows.append({"network": network, "layer": layer, "variable": name,
                     "probe": "logistic" if binary[k] else "ridge",
                     "metric": "balanced_accuracy" if binary[k] else "r2",
                     "score": float(fit.test_score[k]), "score_play": float(fit.subset_score[k]),
                     "accuracy": float(fit.test_accuracy[k]), "regularisation": float(fit.regularisation[k])})
    return rows


def make_timer(log: Callable[[str], None]) -> tuple[dict[str, dict[str, float]], Callable[[str], None]]:
    """(timings, lap): lap(name) records the wall-clock and CPU seconds since the previous lap under `name`."""
    timings: dict[str, dict[str, float]] = {}
    clock = [time.perf_counter(), time.process_time()]

    def lap(name: str) -> None:
        now = [time.perf_counter(), time.process_time()]
        timings[name] = {"wall_s": now[0] - clock[0], "cpu_s": now[1] - clock[1]}
        clock[:] = now
        log(f"06: {name} done in {timings[name]['wall_s']:.1f} s ({timings[name]['cpu_s']:.1f} s CPU)")

    return timings, lap


def layers_to_probe(agent: nn.Module, obs_shape: tuple[int, ...], names: tuple[str, ...]) -> tuple[list[Layer], Layer]:
    """The layers asked for (all when empty) and the read-out layer of the causal check (the last hidden one),
    which is always probed."""
    all_layers = find_layers(agent, obs_shape)
    hidden = [layer for layer in all_layers if layer.name not in ("actor", "critic")]
    readout = hidden[-1] if hidden else all_layers[-1]
    layers = select_layers(all_layers, names)
    if readout not in layers:
        layers.append(readout)
    return layers, readout


@dataclass
class NetworkFindings:
    """What the probes, unit correlations, function vectors and the causal check found in one network."""

    scores: list[dict[str, Any]]
    correlations: dict[str, np.ndarray]
    probe_directions: dict[str, np.ndarray]
    meandiff_directions: dict[str, np.ndarray]
    meandiff_norms: dict[str, np.ndarray]
    causal: list[dict[str, Any]]
    activations: dict[str, np.ndarray]  # layer -> (N, size) of the trained network
    constant_on_test: list[str]  # variables with a single value on the test split (no R^2 defined)
    key_test: dict[str, Any]  # the key variables' test targets, blocks and probe predictions per network and layer


def probe_network(agent: nn.Module, obs: np.ndarray, targets: np.ndarray, split: np.ndarray, is_play: np.ndarray,
                  layers: list[Layer], readout: Layer, variables: list[str], binary: np.ndarray, masks: list,
                  causal_variables: list[str], all_names: list[str], action_meanings: tuple[str, ...],
                  paddle_left_of_ball: np.ndarray, config: ProbeConfig, lap: Callable[[str], None],
                  log: Callable[[str], None] = print_progress, groups: np.ndarray | None = None) -> NetworkFindings:
    """The game-independent part of step 06: activations, probes (trained, random-weights and raw-pixel controls),
    unit correlations, function vectors and the causal check, for samples `obs` with `targets` (columns
    `variables`); `masks` holds each variable's (high, low) samples for its mean difference; `groups` the block of
    each sample (the bars' bootstrap resamples whole blocks; None: every sample its own)."""
    trained = record_activations(agent, layers, obs)
    control = _random_network(agent, config.seed + 1)
    control_acts = record_activations(control, select_layers(find_layers(control, obs.shape[1:]),
                                                             [layer.name for layer in layers]), obs)
    lap("activations")

    scores: list[dict[str, Any]] = []
    fits: dict[str, ProbeFit] = {}
    test = np.flatnonzero(split == TEST)
    keys = [k for k, name in enumerate(variables) if name in KEY_VARIABLES and not binary[k]]
    key_test = {"variables": [variables[k] for k in keys], "targets": targets[test][:, keys],
                "groups": test if groups is None else groups[test], "trained": {}, "random_weights": {}}
    for layer in layers:
        fits[layer.name] = fit_probes(trained[layer.name], targets, split, binary, subset=is_play,
                                      max_train=config.max_train, pcs=config.pcs, seed=config.seed)
        scores += _score_rows(fits[layer.name], "trained", layer.name, variables, binary)
        key_test["trained"][layer.name] = fits[layer.name].predict(trained[layer.name][test])[:, keys]
        log(f"06: probes of {layer.name} ({layer.size} units) fitted")
    for layer in layers:
        fit = fit_probes(control_acts[layer.name], targets, split, binary, subset=is_play,
                         max_train=config.max_train, pcs=config.pcs, seed=config.seed)
        scores += _score_rows(fit, "random_weights", layer.name, variables, binary)
        key_test["random_weights"][layer.name] = fit.predict(control_acts[layer.name][test])[:, keys]
    del control_acts
    pixel_fit = fit_probes(obs.reshape(len(obs), -1), targets, split, binary, subset=is_play,
                           max_train=config.max_train, pcs=config.pcs, seed=config.seed)
    scores += _score_rows(pixel_fit, "pixels", PIXELS, variables, binary)
    lap("probes")

    correlations = {layer.name: unit_correlations(trained[layer.name], targets) for layer in layers}
    probe_dirs, meandiff_dirs, meandiff_norms = {}, {}, {}
    for layer in layers:
        diffs = np.stack([mean_difference(trained[layer.name], high, low) for high, low in masks])
        meandiff_norms[layer.name] = np.linalg.norm(diffs, axis=1)
        meandiff_dirs[layer.name] = unit_norm(diffs)
        probe_dirs[layer.name] = unit_norm(fits[layer.name].weights.T)
    lap("units_and_directions")

    causal = _causal_check(agent, action_meanings, obs, is_play, split, paddle_left_of_ball, layers, readout,
                           fits[readout.name], variables, causal_variables, all_names, probe_dirs, meandiff_dirs,
                           meandiff_norms, config)
    lap("causal")
    test_targets = targets[split == TEST]
    constant = [name for k, name in enumerate(variables) if np.ptp(test_targets[:, k]) == 0]
    return NetworkFindings(scores, correlations, probe_dirs, meandiff_dirs, meandiff_norms, causal, trained, constant,
                           key_test)


def run_probe(agent: nn.Module, checkpoint: dict[str, Any], source: str, config: ProbeConfig | None = None,
              log: Callable[[str], None] = print_progress) -> ProbeResults:
    """Step 06 for the game of the checkpoint's env: GBC Breakout or Python Breakout. `config` None: the game's
    default sizes (`default_config`)."""
    config = default_config(checkpoint.get("env_id")) if config is None else config
    if checkpoint.get("env_id") == GBC_ENV_ID:
        from agents.probe_gbc_pixels import run_gbc_pixel_probe

        return run_gbc_pixel_probe(agent, checkpoint, source, config, log)
    return run_breakout_probe(agent, checkpoint, source, config, log)


def default_config(env_id: str | None) -> ProbeConfig:
    """The default sizes of a game's probe: the GBC emulated render is about 100x slower per frame than Python
    Breakout's renderer, so its data set is smaller."""
    if env_id == GBC_ENV_ID:
        from agents.probe_gbc_pixels import DEFAULT_CONFIG

        return DEFAULT_CONFIG
    return ProbeConfig()


def run_breakout_probe(agent: nn.Module, checkpoint: dict[str, Any], source: str, config: ProbeConfig,
                       log: Callable[[str], None] = print_progress) -> ProbeResults:
    """Step 06 for a pixel agent of Python Breakout (see the module docstring)."""
    timings, lap = make_timer(log)
    setup = setup_for_checkpoint(agent, checkpoint, source)
    obs_shape = (setup.frame_stack, setup.obs_size, setup.obs_size)
    layers, readout = layers_to_probe(agent, obs_shape, config.layers)
    variables = check_variables(config.variables, VARIABLES)
    causal_variables = check_variables(config.causal_variables, VARIABLES)
    var_index = np.array([VARIABLES.index(v) for v in variables])
    binary = np.array([v in BINARY for v in variables])

    play = collect_play(agent, setup, config.num_games, config.num_steps, config.keep_every, config.seed)
    lap("play")
    data = build_probe_data(play, setup, config.num_bases, config.sweep_count, config.brick_patterns,
                            config.toggle_bases, config.seed, config.group_steps, config.ball_positions)
    split = split_by_group(data.group, config.seed)
    is_play = data.kind == KIND_PLAY
    counts = sample_counts(data.kind, KIND_NAMES, split, is_play)
    lap("data")

    paddle, ball = VARIABLES.index("paddle_x"), VARIABLES.index("ball_x")
    found = probe_network(agent, data.obs, data.targets[:, var_index], split, is_play, layers, readout, variables,
                          binary, [high_low_masks(data, name) for name in variables], causal_variables,
                          list(VARIABLES), setup.action_meanings, data.targets[:, paddle] < data.targets[:, ball],
                          config, lap, log, groups=data.group)

    regions, region_counts = screen_regions(data, config.region_bases)
    ball_y, serve = VARIABLES.index("ball_y"), VARIABLES.index("serve_timer")
    in_flight = is_play & (split == TEST) & (data.targets[:, serve] == 0) & (data.targets[:, ball_y] < 0.95)
    examples = example_states(data.obs, data.targets, in_flight if in_flight.any() else is_play,
                              found.activations, layers, config)
    lap("regions_and_examples")
    return ProbeResults(
        source=source, setup=setup, config=config, layers=layers, readout_layer=readout.name, data_counts=counts,
        play_summary={"episodes_finished": play.episodes, "mean_score_of_finished_episodes": play.mean_return,
                      "play_states": int(is_play.sum())},
        sweep_source=data.sweep_source, scores=found.scores, correlations=found.correlations,
        probe_directions=found.probe_directions, meandiff_directions=found.meandiff_directions,
        meandiff_norms=found.meandiff_norms, causal=found.causal, regions=regions, region_counts=region_counts,
        examples=examples, names=list(VARIABLES), scalars=list(SCALARS),
        addresses={name: f"state[{i}]" for i, name in enumerate(VARIABLES)}, timings=timings,
        constant_on_test=found.constant_on_test, key_test=found.key_test)


def sample_counts(kind: np.ndarray, kind_names: tuple[str, ...], split: np.ndarray, is_play: np.ndarray
                  ) -> dict[str, int]:
    """Samples per kind and per split, for summary.json."""
    counts = {f"{name}_samples": int(np.sum(kind == k)) for k, name in enumerate(kind_names)}
    counts.update(samples=len(kind), train=int(np.sum(split == 0)), val=int(np.sum(split == 1)),
                  test=int(np.sum(split == 2)), test_play=int(np.sum((split == TEST) & is_play)))
    return counts


def _causal_check(agent, action_meanings: tuple[str, ...], obs_all: np.ndarray, is_play: np.ndarray,
                  split: np.ndarray, paddle_left_of_ball: np.ndarray, layers: list[Layer], readout: Layer,
                  readout_fit: ProbeFit, variables: list[str], causal_variables: list[str], all_names: list[str],
                  probe_dirs, meandiff_dirs, meandiff_norms, config: ProbeConfig) -> list[dict[str, Any]]:
    """Steers each hidden layer along each causal variable's directions and along random ones of the same norm."""
    device = next(agent.parameters()).device
    actor = next(layer for layer in find_layers(agent, obs_all.shape[1:]) if layer.name == "actor")
    toward, away = action_meanings.index("RIGHT"), action_meanings.index("LEFT")
    pool = np.flatnonzero(is_play & (split == TEST))
    if pool.size == 0:
        raise ProbeError("no held-out play states for the causal check; collect more play")
    rows = []
    steer_layers = [layer for layer in layers if layer.name not in ("actor", "critic")]
    for layer in steer_layers:
        for name in causal_variables:
            if name not in variables:
                continue
            k = variables.index(name)
            alpha = config.alpha_scale * float(meandiff_norms[layer.name][k])
            if alpha <= 0:
                rows.append({"layer": layer.name, "variable": name, "direction": "-", "alpha": 0.0,
                             "note": "the layer does not change when the variable does (zero mean difference)"})
                continue
            results: dict[str, list] = {"probe": [], "meandiff": [], "random": []}
            subsets = []
            for seed in range(config.causal_seeds):
                rng = np.random.default_rng([config.seed, seed])
                states = rng.choice(pool, min(config.causal_states, pool.size), replace=False)
                obs = torch.as_tensor(obs_all[states], device=device)
                random = random_directions(layer.size, config.random_directions,
                                           seed=[config.seed, seed, layers.index(layer), all_names.index(name)])
                dirs = np.concatenate([probe_dirs[layer.name][k:k + 1], meandiff_dirs[layer.name][k:k + 1], random])
                effect = steer_effects(agent, obs, layer, dirs, alpha, readout, readout_fit, k, toward, away, actor)
                results["probe"].append((effect, slice(0, 1)))
                results["meandiff"].append((effect, slice(1, 2)))
                results["random"].append((effect, slice(2, None)))
                subsets.append(paddle_left_of_ball[states])
            for kind, parts in results.items():
                rows.append(_summarise(layer.name, name, kind, alpha, parts, subsets, readout.name))
    return rows


def _summarise(layer: str, name: str, kind: str, alpha: float, parts, subsets, readout: str) -> dict[str, Any]:
    """Success rates (shift in the predicted direction) and effect sizes, pooled and per seed."""
    sign = np.array([-1.0, 1.0])[None, :, None]  # the alpha sign of axis 1
    predicted = PREDICTED_POLICY_SIGN.get(name)
    read_ok, pol_ok, pol_sub_ok, effects, tvs = [], [], [], [], []
    for (effect, dirs), subset in zip(parts, subsets):
        read = effect.readout_shift[dirs] * sign
        read_ok.append(np.mean(read > 0))
        tvs.append(effect.total_variation[dirs].ravel())
        if predicted is not None:
            pol = effect.policy_shift[dirs] * sign * predicted
            pol_ok.append(np.mean(pol > 0))
            pol_sub_ok.append(np.mean(pol[:, :, subset] > 0) if subset.any() else np.nan)
            effects.append(pol.ravel())
        else:
            effects.append(np.abs(effect.policy_shift[dirs]).ravel())
    effects_all, tv_all = np.concatenate(effects), np.concatenate(tvs)
    row = {"layer": layer, "variable": name, "direction": kind, "alpha": alpha, "readout_layer": readout,
           "trials": int(effects_all.size), "seeds": len(parts),
           "readout_success": float(np.mean(read_ok)), "readout_success_seed_std": float(np.std(read_ok)),
           "predicted_policy": {1: "RIGHT", -1: "LEFT"}.get(predicted, ""),
           "policy_success": float(np.mean(pol_ok)) if pol_ok else np.nan,
           "policy_success_seed_std": float(np.std(pol_ok)) if pol_ok else np.nan,
           "policy_success_paddle_left_of_ball": float(np.nanmean(pol_sub_ok)) if pol_sub_ok else np.nan,
           "policy_effect_mean": float(effects_all.mean()), "policy_effect_std": float(effects_all.std()),
           "policy_effect_kind": "signed log-odds RIGHT:LEFT shift toward prediction" if predicted else
           "|log-odds RIGHT:LEFT shift|",
           "total_variation_mean": float(tv_all.mean()), "total_variation_std": float(tv_all.std()),
           "note": ""}
    return row


def example_states(obs: np.ndarray, targets: np.ndarray, candidates: np.ndarray, acts: dict[str, np.ndarray],
                   layers: list[Layer], config: ProbeConfig) -> dict[str, np.ndarray]:
    """A few of the `candidates` (held-out play states with the ball in flight): frames, targets and every layer's
    activations."""
    pool = np.flatnonzero(candidates)
    rows = np.random.default_rng(config.seed).choice(pool, min(config.examples, pool.size), replace=False)
    out = {"obs": obs[rows], "targets": targets[rows]}
    for layer in layers:
        out[f"act/{layer.name}"] = acts[layer.name][rows].reshape(len(rows), *layer.shape)
    return out


# --- Writing ---------------------------------------------------------------------------------------------------------

def _write_atomic(path: Path, data: bytes | str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data.encode() if isinstance(data, str) else data)
    os.replace(tmp, path)


def _csv_text(rows: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    keys = list(dict.fromkeys(key for row in rows for key in row))
    writer = csv.DictWriter(buffer, fieldnames=keys, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()})
    return buffer.getvalue()


def _npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


def _markdown(header: list[str], rows: list[list[Any]]) -> str:
    def cell(v: Any) -> str:
        return f"{v:.3f}" if isinstance(v, float) else str(v)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def best_scores(scores: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per variable: the trained network's best layer and score, the random-weights control's best layer and
    score, and the raw-pixel probe's score."""
    out: dict[str, dict[str, Any]] = {}
    for row in scores:
        entry = out.setdefault(row["variable"], {"variable": row["variable"], "metric": row["metric"]})
        score = row["score"] if np.isfinite(row["score"]) else -np.inf
        if row["network"] == "pixels":
            entry["pixels"] = row["score"]
            continue
        key = row["network"]
        if score > entry.get(f"{key}_best", -np.inf):
            entry[f"{key}_best"] = score
            entry[f"{key}_best_layer"] = row["layer"]
            if key == "trained":
                entry["trained_best_play"] = row["score_play"]
    return out


def measure_bars(results: ProbeResults) -> dict[str, Any]:
    """The issue's figures: key variables' R^2 against the control, variables scored, causal success rates.

    A key variable passes when some layer reads it with R^2 >= R2_BAR and above the same architecture with random
    weights at that same layer, "above" meaning that the 95% interval of the difference (a paired bootstrap over
    held-out blocks of play) lies above 0: a first conv layer passes the picture on nearly unchanged even untrained,
    so there trained and random networks tie, and only a layer where they differ tells what training built."""
    best = best_scores(results.scores)
    r2 = {(row["network"], row["layer"], row["variable"]): row["score"] for row in results.scores}
    key_test = results.key_test
    key = {}
    for k, name in enumerate(key_test.get("variables", [])):
        b = best[name]
        layers = {}
        for layer, pred in key_test["trained"].items():
            low, high = r2_difference_interval(key_test["targets"][:, k], pred[:, k],
                                               key_test["random_weights"][layer][:, k], key_test["groups"])
            layers[layer] = {"r2": r2[("trained", layer, name)], "random_weights_r2": r2[("random_weights", layer, name)],
                             "difference_ci95": [low, high]}
        above = [layer for layer, v in layers.items() if v["r2"] >= R2_BAR and v["difference_ci95"][0] > 0]
        chosen = max(above, key=lambda layer: layers[layer]["r2"]) if above else None
        key[name] = {"best_layer": b.get("trained_best_layer"), "r2": b.get("trained_best"),
                     "random_weights_r2": layers[b["trained_best_layer"]]["random_weights_r2"],
                     "random_weights_best_r2": b.get("random_weights_best"), "pixels_r2": b.get("pixels"),
                     "layer_above_control": chosen, "layers": layers, "pass": chosen is not None}
    scored = [v for v, b in best.items() if np.isfinite(b.get("trained_best", -np.inf))]
    # R^2 is undefined for a target with no variance on the test split: a fact of the data, not a failed probe
    constant = [v for v in results.constant_on_test if v not in scored]
    causal = {}
    for name in PREDICTED_POLICY_SIGN:
        rows = [r for r in results.causal if r["variable"] == name and r["direction"] in ("probe", "meandiff")]
        if not rows:
            continue
        top = max(rows, key=lambda r: r["policy_success"])
        rand = next(r for r in results.causal if r["variable"] == name and r["layer"] == top["layer"]
                    and r["direction"] == "random")
        causal[name] = {"layer": top["layer"], "direction": top["direction"],
                        "policy_success": top["policy_success"],
                        "policy_success_seed_std": top["policy_success_seed_std"],
                        "random_policy_success": rand["policy_success"],
                        "pass": bool(top["policy_success"] >= CAUSAL_BAR)}
    return {"key_variables_r2": key, "variables_scored": len(scored), "variables_total": len(results.names),
            "variables_constant_on_test": constant,
            "causal": causal}


def write_results(results: ProbeResults, out_dir: str | Path) -> list[Path]:
    """Everything step 07 reads, each file written atomically. Returns the paths written."""
    out = Path(out_dir)
    written = []

    def put(name: str, data: bytes | str) -> None:
        _write_atomic(out / name, data)
        written.append(out / name)

    put("probe_scores.csv", _csv_text(results.scores))
    best = best_scores(results.scores)
    rows = [[b["variable"], b["metric"], b.get("trained_best_layer", ""), b.get("trained_best", np.nan),
             b.get("trained_best_play", np.nan), b.get("random_weights_best_layer", ""),
             b.get("random_weights_best", np.nan), b.get("pixels", np.nan)] for b in best.values()]
    put("probe_best.csv", _csv_text([dict(zip(
        ["variable", "metric", "best_layer", "score", "score_play_states", "random_best_layer", "random_best",
         "pixels"], r)) for r in rows]))
    md = ["# Probe scores: best layer per variable\n",
          f"Agent: `{results.source}`; held-out test split (whole blocks of play held out). Score: R^2 (ridge) or "
          "balanced accuracy (logistic). `play` = the same probe scored on held-out play states only.\n",
          _markdown(["variable", "metric", "best layer", "score", "play", "random-weights best", "random score",
                     "pixels"], rows)]
    layer_names = [layer.name for layer in results.layers]
    per_layer = {(r["network"], r["layer"], r["variable"]): r["score"] for r in results.scores}
    md += ["\n## Scalars, every layer (trained / random weights)\n",
           _markdown(["variable"] + layer_names + ["pixels"],
                     [[v] + [f"{per_layer.get(('trained', l, v), np.nan):.3f} / "
                             f"{per_layer.get(('random_weights', l, v), np.nan):.3f}" for l in layer_names]
                      + [per_layer.get(("pixels", PIXELS, v), np.nan)] for v in results.scalars if v in best])]
    bricks = [v for v in best if v.startswith("brick_")]
    if bricks:
        md += ["\n## Bricks (108 logistic probes): mean and minimum balanced accuracy per layer\n",
               _markdown(["network", "layer", "mean", "min"],
                         [[net, l, float(np.nanmean(s)), float(np.nanmin(s))]
                          for net, l in [("trained", l) for l in layer_names] + [("random_weights", l) for l in
                                                                                layer_names] + [("pixels", PIXELS)]
                          for s in [[per_layer.get((net, l, v), np.nan) for v in bricks]]])]
    put("probe_scores.md", "".join(md))

    unit_rows, channel_rows = [], []
    for layer in results.layers:
        corr = results.correlations[layer.name]
        names = _variables_of(results)
        best_var = np.abs(corr).argmax(1)
        best_r = corr[np.arange(len(corr)), best_var]
        for unit in range(len(corr)):
            position = np.unravel_index(unit, layer.shape)
            name = names[best_var[unit]] if best_r[unit] != 0 else ""
            unit_rows.append({"layer": layer.name, "unit": unit, "index": "/".join(map(str, position)),
                              "variable": name, "address": results.addresses.get(name, ""),
                              "r": float(best_r[unit]), "abs_r": float(abs(best_r[unit]))})
        if layer.kind == "conv":
            per_channel = np.abs(corr).reshape(layer.shape[0], -1, corr.shape[1]).max(1)  # (C, K)
            for c in range(layer.shape[0]):
                k = int(per_channel[c].argmax())
                channel_rows.append({"layer": layer.name, "channel": c, "variable": names[k],
                                     "address": results.addresses.get(names[k], ""),
                                     "abs_r": float(per_channel[c, k])})
    put("unit_labels.csv", _csv_text(unit_rows))
    put("channel_labels.csv", _csv_text(channel_rows))

    put("causal.csv", _csv_text(results.causal))
    shown = [r for r in results.causal if r["direction"] != "-"]
    put("causal.md", "# Causal check: steering along function vectors\n\n"
        f"alpha = {results.config.alpha_scale} x |mean activation difference between high and low values| at the "
        f"layer; read-out: the variable's probe at `{results.readout_layer}`; policy: log P(RIGHT) - log P(LEFT). "
        "Success = shift in the predicted direction (both signs of alpha); random = equal-norm random directions.\n\n"
        + _markdown(["layer", "variable", "direction", "alpha", "read-out success", "policy success (seed std)",
                     "paddle left of ball", "policy effect mean (std)", "TV mean"],
                    [[r["layer"], r["variable"], r["direction"], r["alpha"], r["readout_success"],
                      f"{r['policy_success']:.3f} ({r['policy_success_seed_std']:.3f})"
                      if np.isfinite(r["policy_success"]) else "-",
                      r["policy_success_paddle_left_of_ball"], f"{r['policy_effect_mean']:.3f} "
                      f"({r['policy_effect_std']:.3f})", r["total_variation_mean"]] for r in shown]))

    arrays = {}
    for layer in results.layers:
        arrays[f"{layer.name}/probe"] = results.probe_directions[layer.name]
        arrays[f"{layer.name}/meandiff"] = results.meandiff_directions[layer.name]
        arrays[f"{layer.name}/meandiff_norm"] = results.meandiff_norms[layer.name]
    arrays["variables"] = np.array(_variables_of(results))
    put("function_vectors.npz", _npz_bytes(arrays))
    put("correlations.npz", _npz_bytes({**{k: v for k, v in results.correlations.items()},
                                        "variables": np.array(_variables_of(results))}))
    put("regions.npz", _npz_bytes({"maps": results.regions, "counts": results.region_counts,
                                   "variables": np.array(results.names)}))
    put("examples.npz", _npz_bytes({**results.examples, "variables": np.array(results.names)}))
    summary = {
        "source": results.source, "env_id": results.setup.env_id, "env_kwargs": results.setup.env_kwargs,
        "obs_size": results.setup.obs_size, "frame_stack": results.setup.frame_stack,
        "frame_skip": results.setup.frame_skip, "action_meanings": list(results.setup.action_meanings),
        "config": asdict(results.config),
        "layers": [asdict(layer) for layer in results.layers], "readout_layer": results.readout_layer,
        "variables": _variables_of(results), "data": results.data_counts, "play": results.play_summary,
        "sweep_source": results.sweep_source, "timings_s": results.timings, "bars": measure_bars(results),
        "addresses": {name: results.addresses.get(name, "") for name in _variables_of(results)},
    }
    put("summary.json", json.dumps(_finite(summary), indent=2, default=_json_default))
    return written


def _variables_of(results: ProbeResults) -> list[str]:
    return list(dict.fromkeys(row["variable"] for row in results.scores))


def _json_default(value: Any) -> Any:
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, tuple):
        return list(value)
    return str(value)


def _finite(value: Any) -> Any:
    """NaN and infinities as null, so that summary.json is strict JSON."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    if isinstance(value, (float, np.floating)):
        return float(value) if np.isfinite(value) else None
    return value
