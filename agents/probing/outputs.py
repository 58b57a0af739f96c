"""Writing what step 07 found, for step 08 and for people: tables (CSV and Markdown), arrays (npz) and
summary.json (sizes, layers, timings, the bars, and the game's variable layout that the report draws), and the
function-vector screen maps (agents.probing.screen_maps), every file through breakout_py.files (atomic; strict JSON).
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any, Callable

import numpy as np

from agents.probing.bars import best_scores, measure_bars
from agents.probing.labels import (LABEL_MARGIN, LABEL_MIN_ABS_R, MIN_MINORITY_SHARE, channel_labels,
                                   unit_labels)
from agents.probing.pipeline import ProbeResults
from agents.probing.probes import PIXELS
from agents.probing.screen_maps import summary_of, write_screen_maps
from breakout_py.files import atomic_write, atomic_write_with, markdown_table, write_json, write_table


def bars_of(results: ProbeResults) -> dict[str, Any]:
    """measure_bars of a run's results."""
    return measure_bars(results.scores, results.key_test, results.causal, results.constant_on_test,
                        results.spec.names, results.spec.policy_signs)


def _table_of(rows: list[dict[str, Any]]) -> tuple[list[str], list[list[Any]]]:
    """(header, rows) of dict rows: every key of any row, in order of appearance; floats to 6 significant digits."""
    keys = list(dict.fromkeys(key for row in rows for key in row))
    return keys, [[f"{row[k]:.6g}" if isinstance(row.get(k), float) else row.get(k, "") for k in keys]
                  for row in rows]


def write_results(results: ProbeResults, out_dir: str | Path) -> list[Path]:
    """Everything step 08 reads, each file written atomically (breakout_py.files). Returns the paths written."""
    out = Path(out_dir)
    written: list[Path] = []
    spec = results.spec

    def put(name: str, write: Callable[[Path], Any]) -> None:
        written.append(write(out / name))

    def put_rows(name: str, rows: list[dict[str, Any]]) -> None:
        put(name, lambda path: write_table(path, *_table_of(rows)))

    def put_npz(name: str, arrays: dict[str, np.ndarray]) -> None:
        put(name, lambda path: atomic_write_with(path, lambda tmp: np.savez_compressed(tmp, **arrays)))

    def put_text(name: str, text: str) -> None:
        put(name, lambda path: atomic_write(path, text))

    put_rows("probe_scores.csv", results.scores)
    best = best_scores(results.scores)
    rows = [[b["variable"], b["metric"], b.get("trained_best_layer", ""), b.get("trained_best", np.nan),
             b.get("trained_best_play", np.nan), b.get("random_weights_best_layer", ""),
             b.get("random_weights_best", np.nan), b.get("pixels", np.nan)] for b in best.values()]
    put_rows("probe_best.csv", [dict(zip(
        ["variable", "metric", "best_layer", "score", "score_play_states", "random_best_layer", "random_best",
         "pixels"], r)) for r in rows])
    md = ["# Probe scores: best layer per variable\n",
          f"Agent: `{results.source}`; held-out test split (whole blocks of play held out). Score: R^2 (ridge) or "
          "balanced accuracy (logistic). `play` = the same probe scored on held-out play states only.\n",
          markdown_table(["variable", "metric", "best layer", "score", "play", "random-weights best",
                          "random score", "pixels"], rows)]
    layer_names = [layer.name for layer in results.layers]
    per_layer = {(r["network"], r["layer"], r["variable"]): r["score"] for r in results.scores}
    md += ["\n## Scalars, every layer (trained / random weights)\n",
           markdown_table(["variable"] + layer_names + ["pixels"],
                          [[v] + [f"{per_layer.get(('trained', l, v), np.nan):.3f} / "
                                  f"{per_layer.get(('random_weights', l, v), np.nan):.3f}" for l in layer_names]
                           + [per_layer.get(("pixels", PIXELS, v), np.nan)] for v in spec.scalars if v in best])]
    for title, layout in spec.arrays.items():
        members = [v for v in layout.names if v in best]
        if not members:
            continue
        probe, metric = ("logistic", "balanced accuracy") if best[members[0]]["metric"] == "balanced_accuracy" \
            else ("ridge", "R^2")
        md += [f"\n## {title} ({len(members)} {probe} probes): mean and minimum {metric} per layer\n",
               markdown_table(["network", "layer", "mean", "min"],
                              [[net, l, float(np.nanmean(s)), float(np.nanmin(s))]
                               for net, l in [("trained", l) for l in layer_names]
                               + [("random_weights", l) for l in layer_names] + [("pixels", PIXELS)]
                               for s in [[per_layer.get((net, l, v), np.nan) for v in members]]])]
    put_text("probe_scores.md", "".join(md))

    unit_rows, channel_rows = [], []
    names = _variables_of(results)
    eligible = results.label_eligible if results.label_eligible is not None else np.ones(len(names), dtype=bool)
    for layer in results.layers:
        corr = results.correlations[layer.name]
        control = results.control_abs_r.get(layer.name, np.zeros(len(names)))
        unit_rows += unit_labels(layer.name, layer.shape, corr, control, eligible, names, spec.addresses)
        if layer.kind == "conv":
            channel_rows += channel_labels(layer.name, layer.shape, corr, control, eligible, names, spec.addresses)
    put_rows("unit_labels.csv", unit_rows)
    put_rows("channel_labels.csv", channel_rows)

    put_rows("causal.csv", results.causal)
    shown = [r for r in results.causal if r["direction"] != "-"]
    subset = f"policy_success_{spec.causal_subset}"
    put_text("causal.md", "# Causal check: steering along function vectors\n\n"
             f"alpha = {results.config.alpha_scale} x |mean activation difference between high and low values| at "
             f"the layer; read-out: the variable's probe at `{results.readout_layer}`; policy: log P({spec.toward}) - "
             f"log P({spec.away}). Success = shift in the predicted direction (both signs of alpha); random = "
             "equal-norm random directions.\n\n"
             + markdown_table(["layer", "variable", "direction", "alpha", "read-out success",
                               "policy success (seed std)", spec.causal_subset.replace("_", " "),
                               "policy effect mean (std)", "TV mean"],
                              [[r["layer"], r["variable"], r["direction"], r["alpha"], r["readout_success"],
                                f"{r['policy_success']:.3f} ({r['policy_success_seed_std']:.3f})"
                                if np.isfinite(r["policy_success"]) else "-",
                                r[subset], f"{r['policy_effect_mean']:.3f} ({r['policy_effect_std']:.3f})",
                                r["total_variation_mean"]] for r in shown]))

    arrays = {}
    for layer in results.layers:
        arrays[f"{layer.name}/probe"] = results.probe_directions[layer.name]
        arrays[f"{layer.name}/meandiff"] = results.meandiff_directions[layer.name]
        arrays[f"{layer.name}/meandiff_norm"] = results.meandiff_norms[layer.name]
    arrays["variables"] = np.array(_variables_of(results))
    put_npz("function_vectors.npz", arrays)
    put_npz("correlations.npz", {**results.correlations, "variables": np.array(_variables_of(results))})
    put_npz("regions.npz", {"maps": results.regions, "counts": results.region_counts,
                            "variables": np.array(spec.names)})
    put_npz("examples.npz", {**results.examples, "variables": np.array(spec.names)})
    summary = {
        "source": results.source, "env_id": results.setup.env_id, "env_kwargs": results.setup.env_kwargs,
        "obs_size": results.setup.obs_size, "frame_stack": results.setup.frame_stack,
        "frame_skip": results.setup.frame_skip, "action_meanings": list(results.setup.action_meanings),
        "config": asdict(results.config),
        "layers": [asdict(layer) for layer in results.layers], "readout_layer": results.readout_layer,
        "variables": _variables_of(results), "data": results.data_counts, "play": results.play_summary,
        "sweep_source": results.sweep_source, "timings_s": results.timings, "bars": bars_of(results),
        "key_variables": list(spec.key_variables), "key_variables_source": spec.key_source,
        "r2_bar_variables": list(spec.r2_bar),
        "policy_signs": dict(spec.policy_signs), "causal_actions": [spec.toward, spec.away],
        "addresses": dict(spec.addresses), "families": dict(spec.families), "kinds": dict(spec.kinds),
        "arrays": {title: {"shape": list(layout.shape), "names": list(layout.names)}
                   for title, layout in spec.arrays.items()},
        "causal_subset": spec.causal_subset, "screen_maps": summary_of(results.screen_maps),
        "labels": {"min_abs_r": LABEL_MIN_ABS_R, "margin": LABEL_MARGIN, "min_minority_share": MIN_MINORITY_SHARE,
                   "too_constant_on_test": [n for n, ok in zip(names, eligible) if not ok]},
    }
    if results.screen_maps:
        written += write_screen_maps(results.screen_maps, results.screen_backdrops, out)
    put("summary.json", lambda path: write_json(path, summary))
    return written


def _variables_of(results: ProbeResults) -> list[str]:
    return list(dict.fromkeys(row["variable"] for row in results.scores))
