"""Step 07 on any game, given its adapter (agents.probing.game.GameAdapter): the agent's play and sweeps from the
adapter, then the game-independent middle (`probe_network`: activations, probes against the random-weights and
raw-pixel controls, unit correlations, function vectors, the causal check), the screen regions and a few example
states, and the function-vector screen maps of the key variables (agents.probing.screen_maps), gathered in
`ProbeResults` for agents.probing.outputs.write_results.

It also finds the agent to probe (a checkpoint, or the shipped pixel agent) and names its output folder.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
import torch.nn as nn

from agents.checkpoint import CheckpointError, load_agent
from agents.networks import build_network
from agents.probing.causal import causal_check
from agents.probing.game import (KIND_PLAY, GameAdapter, GameSpec, ProbeConfig, ProbeSetup, check_actions,
                                 with_game_defaults)
from agents.probing.labels import best_abs_r, varies_enough
from agents.probing.probes import (PIXELS, TEST, Layer, ProbeError, ProbeFit, check_variables, find_layers,
                                   fit_probes, mean_difference, record_activations, select_layers, split_by_group,
                                   unit_correlations, unit_norm)
from agents.probing.screen_maps import METHODS, ScreenMap, choose, hidden_layers, map_variable


@dataclass
class ProbeResults:
    """Everything step 07 found for one agent (written by agents.probing.outputs.write_results)."""

    source: str
    setup: ProbeSetup
    spec: GameSpec
    config: ProbeConfig  # with the game's defaults filled in
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
    regions: np.ndarray  # (K_all, S, S), rows spec.names
    region_counts: np.ndarray
    examples: dict[str, np.ndarray]
    timings: dict[str, dict[str, float]] = field(default_factory=dict)
    constant_on_test: list[str] = field(default_factory=list)  # probed variables with one value on the test split
    key_test: dict[str, Any] = field(default_factory=dict)  # NetworkFindings.key_test, for the bars' intervals
    control_abs_r: dict[str, np.ndarray] = field(default_factory=dict)  # NetworkFindings.control_abs_r
    label_eligible: np.ndarray | None = None  # NetworkFindings.label_eligible
    screen_maps: list[ScreenMap] = field(default_factory=list)  # key variables x hidden layers x methods
    screen_backdrops: dict[str, np.ndarray] = field(default_factory=dict)  # per mapped variable: a screen (H, W)


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
        log(f"07: {name} done in {timings[name]['wall_s']:.1f} s ({timings[name]['cpu_s']:.1f} s CPU)")

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
    control_abs_r: dict[str, np.ndarray]  # layer -> (K,) best |r| of any random-weights unit (labels' control)
    label_eligible: np.ndarray  # (K,) the variable varies enough on the test split to label units (labels.py)


def probe_network(agent: nn.Module, spec: GameSpec, actions: tuple[int, int], obs: np.ndarray, targets: np.ndarray,
                  split: np.ndarray, is_play: np.ndarray, layers: list[Layer], readout: Layer, variables: list[str],
                  binary: np.ndarray, masks: list, causal_variables: list[str], causal_subset: np.ndarray,
                  config: ProbeConfig, lap: Callable[[str], None], log: Callable[[str], None] = print_progress,
                  groups: np.ndarray | None = None) -> NetworkFindings:
    """Activations, probes (trained, random-weights and raw-pixel controls), unit correlations, function vectors
    and the causal check, for samples `obs` with `targets` (columns `variables`) of the game `spec`; `masks` holds
    each variable's (high, low) samples for its mean difference; `actions` and `causal_subset` are causal_check's;
    `groups` the block of each sample (the bars' bootstrap resamples whole blocks; None: every sample its own)."""
    trained = record_activations(agent, layers, obs)
    control = _random_network(agent, config.seed + 1)
    control_acts = record_activations(control, select_layers(find_layers(control, obs.shape[1:]),
                                                             [layer.name for layer in layers]), obs)
    lap("activations")

    scores: list[dict[str, Any]] = []
    fits: dict[str, ProbeFit] = {}
    test = np.flatnonzero(split == TEST)
    keys = [k for k, name in enumerate(variables) if name in spec.r2_bar and not binary[k]]
    key_test = {"variables": [variables[k] for k in keys], "targets": targets[test][:, keys],
                "groups": test if groups is None else groups[test], "trained": {}, "random_weights": {}}
    for layer in layers:
        fits[layer.name] = fit_probes(trained[layer.name], targets, split, binary, subset=is_play,
                                      max_train=config.max_train, pcs=config.pcs, seed=config.seed)
        scores += _score_rows(fits[layer.name], "trained", layer.name, variables, binary)
        key_test["trained"][layer.name] = fits[layer.name].predict(trained[layer.name][test])[:, keys]
        log(f"07: probes of {layer.name} ({layer.size} units) fitted")
    for layer in layers:
        fit = fit_probes(control_acts[layer.name], targets, split, binary, subset=is_play,
                         max_train=config.max_train, pcs=config.pcs, seed=config.seed)
        scores += _score_rows(fit, "random_weights", layer.name, variables, binary)
        key_test["random_weights"][layer.name] = fit.predict(control_acts[layer.name][test])[:, keys]
    control_abs_r = {layer.name: best_abs_r(unit_correlations(control_acts[layer.name], targets)) for layer in layers}
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

    causal = causal_check(agent, spec, actions, obs, is_play, split, causal_subset, layers, readout,
                          fits[readout.name], variables, causal_variables, probe_dirs, meandiff_dirs, meandiff_norms,
                          config)
    lap("causal")
    test_targets = targets[split == TEST]
    constant = [name for k, name in enumerate(variables) if np.ptp(test_targets[:, k]) == 0]
    return NetworkFindings(scores, correlations, probe_dirs, meandiff_dirs, meandiff_norms, causal, trained, constant,
                           key_test, control_abs_r, varies_enough(test_targets))


def run_game_probe(adapter: GameAdapter, agent: nn.Module, checkpoint: dict[str, Any], source: str,
                   config: ProbeConfig, log: Callable[[str], None] = print_progress) -> ProbeResults:
    """Step 07 for a pixel agent of the adapter's game; fields of `config` left at None take the game's defaults."""
    config = with_game_defaults(config, adapter.defaults)
    timings, lap = make_timer(log)
    setup = adapter.check_checkpoint(agent, checkpoint, source)
    spec = adapter.spec(config)
    actions = check_actions(spec, setup)
    layers, readout = layers_to_probe(agent, setup.obs_shape, config.layers)
    variables = check_variables(config.variables, spec.names)
    if config.causal_variables is not None:
        check_variables(config.causal_variables, spec.names)
    var_index = np.array([spec.names.index(v) for v in variables])

    play = adapter.play(agent, setup, config)
    spec = adapter.spec(config, play)  # with what the game measured on play (key variables, predicted signs)
    causal_variables = list(spec.key_variables) if config.causal_variables is None \
        else check_variables(config.causal_variables, spec.names)
    lap("play")
    samples = adapter.build_samples(play, setup, config)
    split = split_by_group(samples.group, config.seed)
    is_play = samples.kind == KIND_PLAY
    counts = sample_counts(samples.kind, samples.kind_names, split, is_play)
    lap("data")

    found = probe_network(agent, spec, actions, samples.obs, samples.targets[:, var_index], split, is_play, layers,
                          readout, variables, np.array([spec.binary[i] for i in var_index]),
                          [adapter.high_low_masks(samples, i) for i in var_index], causal_variables,
                          samples.causal_subset, config, lap, log, groups=samples.group)

    regions, region_counts = adapter.screen_regions(samples, config.region_bases)
    in_flight = is_play & (split == TEST) & samples.in_flight
    examples = example_states(samples.obs, samples.targets, in_flight if in_flight.any() else is_play,
                              found.activations, layers, config)
    lap("regions_and_examples")
    candidates = is_play & (split == TEST)
    maps, backdrops = function_vector_maps(
        adapter, agent, play, setup, spec, variables, layers, found,
        samples.base[candidates & samples.in_flight] if (candidates & samples.in_flight).any()
        else samples.base[candidates], np.median(samples.obs[is_play], axis=0), config, log)
    lap("screen_maps")
    return ProbeResults(
        source=source, setup=setup, spec=spec, config=config, layers=layers, readout_layer=readout.name,
        data_counts=counts,
        play_summary={"episodes_finished": samples.episodes, "mean_score_of_finished_episodes": samples.mean_score,
                      "play_states": int(is_play.sum())},
        sweep_source=samples.sweep_source, scores=found.scores, correlations=found.correlations,
        probe_directions=found.probe_directions, meandiff_directions=found.meandiff_directions,
        meandiff_norms=found.meandiff_norms, causal=found.causal, regions=regions, region_counts=region_counts,
        examples=examples, timings=timings, constant_on_test=found.constant_on_test, key_test=found.key_test,
        control_abs_r=found.control_abs_r, label_eligible=found.label_eligible,
        screen_maps=maps, screen_backdrops=backdrops)


def function_vector_maps(adapter: GameAdapter, agent: nn.Module, play: Any, setup: ProbeSetup, spec: GameSpec,
                         variables: list[str], layers: list[Layer], found: NetworkFindings, pool: np.ndarray,
                         background: np.ndarray, config: ProbeConfig,
                         log: Callable[[str], None] = print_progress) -> tuple[list[ScreenMap], dict[str, np.ndarray]]:
    """The screen maps of the probed key variables along both function vectors (probe, mean difference) at every
    hidden layer, by every method, over at most `config.region_bases` of the held-out play states `pool` (indices into play), each
    perturbed over `config.sweep_count` values by the adapter; `background` (F, S, S): the per-pixel median of play.
    Each variable's headline map is at the layer where its probe scores best. Returns the maps and a screen per
    variable (the figures' backdrop)."""
    mapped = [name for name in spec.key_variables if name in variables]
    states = np.sort(np.random.default_rng(config.seed).choice(pool, min(config.region_bases, pool.size),
                                                               replace=False))
    hidden = hidden_layers(layers)
    if not mapped or not hidden or states.size == 0:
        return [], {}
    trained = {(r["layer"], r["variable"]): r["score"] for r in found.scores if r["network"] == "trained"}
    best = {name: max(hidden, key=lambda layer: np.nan_to_num(trained.get((layer.name, name), np.nan),
                                                                nan=-np.inf)).name for name in mapped}
    maps, backdrops = [], {}
    for name in mapped:
        perturbed = adapter.screen_perturbations(play, setup, spec.names.index(name), states, config.sweep_count)
        backdrops[name] = perturbed.screen[0]
        for layer in hidden:
            for kind, directions in (("probe", found.probe_directions), ("meandiff", found.meandiff_directions)):
                maps += [map_variable(agent, layer, directions[layer.name][variables.index(name)], perturbed, name,
                                      method, background, kind) for method in METHODS]
        log(f"07: screen maps of {name} ({states.size} held-out states)")
    return choose(maps, best), backdrops


def sample_counts(kind: np.ndarray, kind_names: tuple[str, ...], split: np.ndarray, is_play: np.ndarray
                  ) -> dict[str, int]:
    """Samples per kind and per split, for summary.json."""
    counts = {f"{name}_samples": int(np.sum(kind == k)) for k, name in enumerate(kind_names)}
    counts.update(samples=len(kind), train=int(np.sum(split == 0)), val=int(np.sum(split == 1)),
                  test=int(np.sum(split == 2)), test_play=int(np.sum((split == TEST) & is_play)))
    return counts


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
