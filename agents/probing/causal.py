"""The causal check of step 07: steering a layer along a variable's function vectors (its probe's weights, its
mean activation difference) and along random directions of the same norm, and whether the policy then moves the
way the game predicts (GameSpec.policy_signs: e.g. a ball further right should draw the paddle right).

Steering adds alpha times a unit direction to the layer's output on held-out play states, with both signs of alpha;
alpha = ProbeConfig.alpha_scale x the norm of the variable's mean activation difference at that layer. A trial
succeeds when the read-out of the variable's probe at the read-out layer moves with the sign of alpha, and (for a
variable with a predicted sign) when log P(toward) - log P(away) moves the predicted way.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn as nn

from agents.probing.game import GameSpec, ProbeConfig
from agents.probing.probes import TEST, Layer, ProbeError, ProbeFit, find_layers, random_directions, steer_effects


def causal_check(agent: nn.Module, spec: GameSpec, actions: tuple[int, int], obs_all: np.ndarray,
                 is_play: np.ndarray, split: np.ndarray, subset: np.ndarray, layers: list[Layer], readout: Layer,
                 readout_fit: ProbeFit, variables: list[str], causal_variables: list[str],
                 probe_dirs: dict[str, np.ndarray], meandiff_dirs: dict[str, np.ndarray],
                 meandiff_norms: dict[str, np.ndarray], config: ProbeConfig) -> list[dict[str, Any]]:
    """Steers each hidden layer along each causal variable's directions and along random ones of the same norm, on
    held-out play states; `actions` = (toward, away), the indices of spec.toward and spec.away; `subset` (N,) marks
    the states also scored apart (spec.causal_subset)."""
    device = next(agent.parameters()).device
    actor = next(layer for layer in find_layers(agent, obs_all.shape[1:]) if layer.name == "actor")
    toward, away = actions
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
                                           seed=[config.seed, seed, layers.index(layer), spec.names.index(name)])
                dirs = np.concatenate([probe_dirs[layer.name][k:k + 1], meandiff_dirs[layer.name][k:k + 1], random])
                effect = steer_effects(agent, obs, layer, dirs, alpha, readout, readout_fit, k, toward, away, actor)
                results["probe"].append((effect, slice(0, 1)))
                results["meandiff"].append((effect, slice(1, 2)))
                results["random"].append((effect, slice(2, None)))
                subsets.append(subset[states])
            for kind, parts in results.items():
                rows.append(_summarise(spec, layer.name, name, kind, alpha, parts, subsets, readout.name))
    return rows


def _summarise(spec: GameSpec, layer: str, name: str, kind: str, alpha: float, parts, subsets,
               readout: str) -> dict[str, Any]:
    """Success rates (shift in the predicted direction) and effect sizes, pooled and per seed."""
    sign = np.array([-1.0, 1.0])[None, :, None]  # the alpha sign of axis 1
    predicted = spec.policy_signs.get(name)
    log_odds = f"log-odds {spec.toward}:{spec.away} shift"
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
           "predicted_policy": {1: spec.toward, -1: spec.away}.get(predicted, ""),
           "policy_success": float(np.mean(pol_ok)) if pol_ok else np.nan,
           "policy_success_seed_std": float(np.std(pol_ok)) if pol_ok else np.nan,
           f"policy_success_{spec.causal_subset}": float(np.nanmean(pol_sub_ok)) if pol_sub_ok else np.nan,
           "policy_effect_mean": float(effects_all.mean()), "policy_effect_std": float(effects_all.std()),
           "policy_effect_kind": f"signed {log_odds} toward prediction" if predicted else f"|{log_odds}|",
           "total_variation_mean": float(tv_all.mean()), "total_variation_std": float(tv_all.std()),
           "note": ""}
    return row

