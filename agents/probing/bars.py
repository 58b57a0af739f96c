"""The bars of step 07 (the issue's figures) from its probe scores and causal rows, and one short line per bar.

- R^2 bar: a key variable (GameSpec.key_variables) passes when some layer reads it with R^2 >= R2_BAR and above
  the same architecture with random weights at that layer (see `measure_bars`). A control below R^2 0 predicts
  worse than the test mean would; it counts as 0 (CONTROL_FLOOR), the mean any probe could fall back on, so the
  comparison is with the better of the two and its interval stays bounded.
- Every variable scored: a probe score for each, or the variable is constant on the test split.
- Causal bar: steering a variable with a predicted policy direction moves the policy that way in >= CAUSAL_BAR of
  the trials, at its best layer and direction.
- Generic causal bar ("causal_generic", every other variable of the causal check): steering along the variable's
  direction moves the policy (mean |log-odds shift| of the causal check's two actions) more than equal-norm random
  directions at the same layer, at its best layer and direction (the largest ratio to random).
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from agents.probing.probes import r2_difference_interval

R2_BAR = 0.9
CONTROL_FLOOR = 0.0
CAUSAL_BAR = 0.8


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


def measure_bars(scores: list[dict[str, Any]], key_test: dict[str, Any], causal: list[dict[str, Any]],
                 constant_on_test: list[str], names: Sequence[str], policy_signs: dict[str, int]) -> dict[str, Any]:
    """The issue's figures: key variables' R^2 against the control, variables scored, causal success rates.

    `scores`: step 07's probe rows; `key_test`: pipeline.NetworkFindings.key_test; `causal`: the causal check's
    rows; `constant_on_test`: variables with one value on the test split; `names`: every variable of the game;
    `policy_signs`: the variables whose steering has a predicted policy direction (GameSpec.policy_signs).

    A key variable passes when some layer reads it with R^2 >= R2_BAR and above the same architecture with random
    weights at that same layer, "above" meaning that the 95% interval of the difference (a paired bootstrap over
    held-out blocks of play; the control's R^2 floored at CONTROL_FLOOR in each resample) lies above 0: a first
    conv layer passes the picture on nearly unchanged even untrained, so there trained and random networks tie, and
    only a layer where they differ tells what training built."""
    best = best_scores(scores)
    r2 = {(row["network"], row["layer"], row["variable"]): row["score"] for row in scores}
    key = {}
    for k, name in enumerate(key_test.get("variables", [])):
        b = best[name]
        layers = {}
        for layer, pred in key_test["trained"].items():
            low, high = r2_difference_interval(key_test["targets"][:, k], pred[:, k],
                                               key_test["random_weights"][layer][:, k], key_test["groups"],
                                               floor_b=CONTROL_FLOOR)
            layers[layer] = {"r2": r2[("trained", layer, name)],
                             "random_weights_r2": r2[("random_weights", layer, name)], "difference_ci95": [low, high]}
        above = [layer for layer, v in layers.items() if v["r2"] >= R2_BAR and v["difference_ci95"][0] > 0]
        chosen = max(above, key=lambda layer: layers[layer]["r2"]) if above else None
        key[name] = {"best_layer": b.get("trained_best_layer"), "r2": b.get("trained_best"),
                     "random_weights_r2": layers[b["trained_best_layer"]]["random_weights_r2"],
                     "random_weights_best_r2": b.get("random_weights_best"), "pixels_r2": b.get("pixels"),
                     "layer_above_control": chosen, "layers": layers, "pass": chosen is not None}
    scored = [v for v, b in best.items() if np.isfinite(b.get("trained_best", -np.inf))]
    # R^2 is undefined for a target with no variance on the test split: a fact of the data, not a failed probe
    constant = [v for v in constant_on_test if v not in scored]
    steering = {}
    for name in policy_signs:
        rows = [r for r in causal if r["variable"] == name and r["direction"] in ("probe", "meandiff")]
        if not rows:
            continue
        top = max(rows, key=lambda r: r["policy_success"])
        rand = next(r for r in causal if r["variable"] == name and r["layer"] == top["layer"]
                    and r["direction"] == "random")
        steering[name] = {"layer": top["layer"], "direction": top["direction"],
                          "policy_success": top["policy_success"],
                          "policy_success_seed_std": top["policy_success_seed_std"],
                          "random_policy_success": rand["policy_success"],
                          "pass": bool(top["policy_success"] >= CAUSAL_BAR)}
    generic = {}
    for name in dict.fromkeys(r["variable"] for r in causal if r["variable"] not in policy_signs):
        pairs = []
        for r in causal:
            if r["variable"] == name and r["direction"] in ("probe", "meandiff"):
                rand = next(q for q in causal if q["variable"] == name and q["layer"] == r["layer"]
                            and q["direction"] == "random")
                pairs.append((r["policy_effect_mean"] / max(rand["policy_effect_mean"], 1e-12), r, rand))
        if not pairs:
            continue
        ratio, top, rand = max(pairs, key=lambda pair: pair[0])
        generic[name] = {"layer": top["layer"], "direction": top["direction"],
                         "policy_effect": top["policy_effect_mean"], "random_policy_effect": rand["policy_effect_mean"],
                         "ratio": ratio, "pass": bool(ratio > 1)}
    return {"key_variables_r2": key, "variables_scored": len(scored), "variables_total": len(names),
            "variables_constant_on_test": constant, "causal": steering, "causal_generic": generic}


def bar_lines(bars: dict[str, Any]) -> list[str]:
    """One short line per bar: what is measured, where, against which control, and whether it passed."""
    lines = []
    for name, b in bars["key_variables_r2"].items():
        chosen = b["layer_above_control"]
        if chosen:
            c = b["layers"][chosen]
            measured = f"{chosen} R^2 {c['r2']:.3f}, random weights {c['random_weights_r2']:.3f}"
        else:
            measured = f"no layer above control; best {b['best_layer']} R^2 {b['r2']:.3f}, random weights " \
                       f"{b['random_weights_r2']:.3f}"
        lines.append(f"bar R^2 {name}: {measured}: {'pass' if b['pass'] else 'fail'}")
    constant = bars["variables_constant_on_test"]
    scored = bars["variables_scored"] + len(constant) == bars["variables_total"]
    lines.append(f"bar variables scored: {bars['variables_scored']} of {bars['variables_total']}"
                 + (f" ({len(constant)} constant on the test split)" if constant else "")
                 + f": {'pass' if scored else 'fail'}")
    for name, c in bars["causal"].items():
        lines.append(f"bar causal {name}: {c['layer']} {c['direction']} policy success {c['policy_success']:.3f}, "
                     f"random directions {c['random_policy_success']:.3f}: {'pass' if c['pass'] else 'fail'}")
    for name, c in bars.get("causal_generic", {}).items():
        lines.append(f"bar causal (policy moves more than random) {name}: {c['layer']} {c['direction']} mean "
                     f"|log-odds shift| {c['policy_effect']:.4f}, random directions {c['random_policy_effect']:.4f}: "
                     f"{'pass' if c['pass'] else 'fail'}")
    return lines
