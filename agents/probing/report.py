"""Step 08: figures, one self-contained HTML report and TensorBoard images from the files step 07 wrote.

Every activation of every layer of an example state is drawn (conv channels as spatial maps, dense units as
bars), each labelled with the variable its unit correlates with most (and that variable's address: its index in
the ideal state vector for Python Breakout, its RAM address for GBC) and the |r|, beside the screen region of that
variable. The HTML embeds every picture as base64 PNG, so it opens from disk with no server; a short script in it
checks that every picture decoded and writes the result into #report-status (what the browser test reads).
"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import breakout_py  # noqa: E402
from agents.probing.bars import CONTROL_FLOOR  # noqa: E402
from breakout_py.errors import UserError  # noqa: E402
from breakout_py.files import atomic_write  # noqa: E402

STATUS_ID = "report-status"
OK_PREFIX = "report ok"
REPORT_NAME = "report.html"
# Colour per variable family (summary.json's "families", from the game's adapter) in the bar charts.
# Python Breakout names families; a Game Boy game's adapter gives each variable's kind (agents.probing.gbc_game).
FAMILY_COLOURS = {"ball": "#d62728", "paddle": "#1f77b4", "bricks": "#2ca02c", "hud": "#9467bd", "other": "#7f7f7f",
                  "position": "#d62728", "velocity": "#ff7f0e", "counter": "#9467bd", "flag": "#8c564b",
                  "array element": "#2ca02c", "value": "#7f7f7f"}
COLOUR_NAMES = {"#d62728": "red", "#1f77b4": "blue", "#2ca02c": "green", "#9467bd": "purple", "#7f7f7f": "grey",
                "#ff7f0e": "orange", "#8c564b": "brown"}


@dataclass
class ProbeOutputs:
    """What step 07 wrote for one agent."""

    folder: Path
    summary: dict[str, Any]
    best: list[dict[str, str]]
    scores: list[dict[str, str]]
    units: list[dict[str, str]]
    channels: list[dict[str, str]]
    causal: list[dict[str, str]]
    regions: np.ndarray  # (K_all, S, S)
    region_counts: np.ndarray
    region_variables: list[str]
    examples: dict[str, np.ndarray]

    @property
    def arrays(self) -> dict[str, dict[str, Any]]:
        """Array variables laid out as grids: title -> {"shape": [rows, cols], "names": row-major, "" for none}."""
        return self.summary["arrays"]

    def in_array(self, name: str) -> bool:
        return any(name in layout["names"] for layout in self.arrays.values())

    def family(self, name: str) -> str:
        return self.summary["families"].get(name, "other")


def _read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def load_probe_outputs(folder: str | Path) -> ProbeOutputs:
    folder = Path(folder)
    needed = ["summary.json", "probe_best.csv", "probe_scores.csv", "unit_labels.csv", "channel_labels.csv",
              "causal.csv", "regions.npz", "examples.npz"]
    missing = [n for n in needed if not (folder / n).is_file()]
    if missing:
        raise UserError(f"{folder} lacks {missing}: run scripts/07_probe.py first (its --out-dir is this folder)")
    summary = json.loads((folder / "summary.json").read_text())
    if "arrays" not in summary:
        raise UserError(f"{folder}/summary.json was written by an older step 07 (no variable layout): run "
                        "scripts/07_probe.py again for this folder")
    regions = np.load(folder / "regions.npz")
    examples = np.load(folder / "examples.npz")
    return ProbeOutputs(folder, summary,
                        _read_csv(folder / "probe_best.csv"), _read_csv(folder / "probe_scores.csv"),
                        _read_csv(folder / "unit_labels.csv"), _read_csv(folder / "channel_labels.csv"),
                        _read_csv(folder / "causal.csv"), regions["maps"], regions["counts"],
                        [str(v) for v in regions["variables"]],
                        {k: examples[k] for k in examples.files})


def probe_env_id(folder: str | Path) -> str | None:
    """The env id of the agent step 07 probed into `folder` (its summary.json); None when there is none yet."""
    path = Path(folder) / "summary.json"
    return json.loads(path.read_text()).get("env_id") if path.is_file() else None


def _png(fig) -> bytes:
    if fig._suptitle is not None and fig.get_layout_engine() is None:
        with warnings.catch_warnings():  # a figure too crowded for tight_layout keeps its own spacing
            warnings.simplefilter("ignore", UserWarning)
            fig.tight_layout(rect=(0, 0, 1, 0.97))
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=fig.dpi, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


def _address(name: str, outputs: ProbeOutputs) -> str:
    """Where the variable lives, as step 07 wrote it: its ideal-state index (Python Breakout), RAM address (GBC)."""
    return outputs.summary["addresses"].get(name, "")


def _region(outputs: ProbeOutputs, name: str) -> np.ndarray | None:
    if name not in outputs.region_variables:
        return None
    return outputs.regions[outputs.region_variables.index(name)]


def _colour(outputs: ProbeOutputs, grey: np.ndarray) -> np.ndarray:
    """Python Breakout's frames in its colours; other games' grey frames as grey RGB."""
    if outputs.summary["env_id"] == breakout_py.ENV_ID:
        return breakout_py.colorize(grey)
    return np.repeat(grey[..., None], 3, axis=-1)


def _background(outputs: ProbeOutputs) -> np.ndarray:
    """The latest frame of the first example, in colour, as the backdrop of region maps."""
    return _colour(outputs, outputs.examples["obs"][0, -1])


def _overlay(ax, background: np.ndarray, heat: np.ndarray | None) -> None:
    ax.set_facecolor("black")
    ax.imshow(background, interpolation="nearest", alpha=0.5)
    if heat is not None and heat.max() > 0:
        ax.imshow(np.ma.masked_where(heat <= 0, heat), cmap="autumn_r", vmin=0, vmax=max(heat.max(), 1e-6),
                  interpolation="nearest", alpha=0.9)
    ax.set_xticks([])
    ax.set_yticks([])


# --- Figures ------------------------------------------------------------------------------------------------------------

def fig_scalar_scores(outputs: ProbeOutputs) -> bytes:
    layers = [layer["name"] for layer in outputs.summary["layers"]]
    table = {(r["network"], r["layer"], r["variable"]): float(r["score"]) for r in outputs.scores}
    names = [v for v in outputs.summary["variables"] if not outputs.in_array(v)]
    columns = [("trained", l) for l in layers] + [("random_weights", l) for l in layers] + [("pixels", "pixels")]
    grid = np.array([[table.get((net, l, v), np.nan) for net, l in columns] for v in names])
    fig, ax = plt.subplots(figsize=(1.0 + 0.62 * len(columns), 0.9 + 0.36 * len(names)), dpi=110)
    ax.imshow(np.clip(np.nan_to_num(grid, nan=0.0), 0, 1), cmap="viridis", vmin=0, vmax=1, aspect="auto")
    for i in range(grid.shape[0]):
        for j in range(grid.shape[1]):
            value = grid[i, j]
            ax.text(j, i, "-" if not np.isfinite(value) else f"{value:.2f}", ha="center", va="center", fontsize=7,
                    color="white" if not np.isfinite(value) or value < 0.6 else "black")
    ax.set_xticks(range(len(columns)), [f"{l}\n{'trained' if n == 'trained' else 'random' if n != 'pixels' else ''}"
                                        for n, l in columns], fontsize=7)
    ax.set_yticks(range(len(names)), [f"{v} ({_address(v, outputs)})" for v in names], fontsize=8)
    ax.set_title("Held-out probe score per layer: R^2 (ridge) / balanced accuracy (logistic flags)", fontsize=9)
    return _png(fig)


def fig_array_scores(outputs: ProbeOutputs, title: str) -> bytes:
    """The probe scores of an array variable's elements laid out as its grid, one panel per layer and control."""
    layout = outputs.arrays[title]
    layers = [layer["name"] for layer in outputs.summary["layers"]]
    table = {(r["network"], r["layer"], r["variable"]): float(r["score"]) for r in outputs.scores}
    panels = [("trained", l) for l in layers] + [("random_weights", l) for l in layers] + [("pixels", "pixels")]
    cols = min(4, len(panels))
    rows = int(np.ceil(len(panels) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(3.3 * cols, 1.7 * rows + 0.4), dpi=100, squeeze=False,
                             layout="constrained")
    for ax, (net, layer) in zip(axes.ravel(), panels):
        grid = np.array([table.get((net, layer, n), np.nan) for n in layout["names"]]).reshape(layout["shape"])
        image = ax.imshow(grid, cmap="viridis", vmin=0.5, vmax=1.0)
        ax.set_title(f"{net.replace('_weights', '')} {layer}: mean {np.nanmean(grid):.2f}", fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
    for ax in axes.ravel()[len(panels):]:
        ax.axis("off")
    fig.colorbar(image, ax=axes.ravel().tolist(), shrink=0.8, label="balanced accuracy")
    fig.suptitle(f"{title}: probe of each element, laid out as the game does", fontsize=9)
    return _png(fig)


def fig_regions(outputs: ProbeOutputs, names: list[str], columns: int, title: str, size: float = 1.6) -> bytes:
    rows = int(np.ceil(len(names) / columns))
    fig, axes = plt.subplots(rows, columns, figsize=(size * columns, size * 1.25 * rows + 0.4), dpi=100,
                             squeeze=False, layout="constrained")
    background = _background(outputs)
    for ax, name in zip(axes.ravel(), names):
        heat = _region(outputs, name)
        _overlay(ax, background, heat)
        count = int(outputs.region_counts[outputs.region_variables.index(name)])
        shown = "not perturbed" if count == 0 else "nothing on screen" if heat is None or heat.max() == 0 \
            else f"{int((heat > 0).sum())} px"
        ax.set_title(f"{_address(name, outputs)} {name}\n{shown} ({count})", fontsize=6)
    for ax in axes.ravel()[len(names):]:
        ax.axis("off")
    fig.suptitle(title, fontsize=9)
    return _png(fig)


def region_thumbnail(outputs: ProbeOutputs, name: str, scale: int = 1) -> bytes:
    fig, ax = plt.subplots(figsize=(0.55 * scale, 0.55 * scale), dpi=80)
    _overlay(ax, _background(outputs), _region(outputs, name))
    ax.axis("off")
    return _png(fig)


def _best_of_units(outputs: ProbeOutputs, layer: str) -> list[dict[str, str]]:
    return [u for u in outputs.units if u["layer"] == layer]


def fig_conv_layer(outputs: ProbeOutputs, layer: dict[str, Any], example: int) -> bytes:
    """Every channel of a conv layer for one example: its activation map and its best variable's region."""
    acts = outputs.examples[f"act/{layer['name']}"][example]  # (C, H, W)
    channels = [c for c in outputs.channels if c["layer"] == layer["name"]]
    n = acts.shape[0]
    cols = 8
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols * 2, figsize=(cols * 2 * 0.95, rows * 1.45 + 0.4), dpi=100, squeeze=False,
                             layout="constrained")
    background = _background(outputs)
    vmax = float(acts.max()) if acts.max() > 0 else 1.0
    for c in range(rows * cols):
        ax_act, ax_reg = axes[c // cols, 2 * (c % cols)], axes[c // cols, 2 * (c % cols) + 1]
        if c >= n:
            ax_act.axis("off")
            ax_reg.axis("off")
            continue
        label = channels[c] if c < len(channels) else {"variable": "", "abs_r": "nan"}
        ax_act.imshow(acts[c], cmap="magma", vmin=0, vmax=vmax, interpolation="nearest")
        ax_act.set_xticks([])
        ax_act.set_yticks([])
        ax_act.set_title(f"ch{c} {label['variable'] or 'unlabelled'}\n{_address(label['variable'], outputs)} "
                         f"|r|={float(label['abs_r']):.2f}", fontsize=5.5)
        _overlay(ax_reg, background, _region(outputs, label["variable"]) if label["variable"] else None)
        ax_reg.set_title("its region" if label["variable"] else "no label", fontsize=5.5)
    fig.suptitle(f"{layer['name']} ({layer['path']}, {n} channels of {acts.shape[1]}x{acts.shape[2]}): activation "
                 f"of example {example} | screen region of the channel's best variable", fontsize=8)
    return _png(fig)


def fig_dense_layer(outputs: ProbeOutputs, layer: dict[str, Any], example: int) -> bytes:
    """Every unit of a dense layer for one example as a bar, labelled with its best variable and |r|, with the
    screen regions of the variables that label the most units."""
    acts = outputs.examples[f"act/{layer['name']}"][example].ravel()
    units = _best_of_units(outputs, layer["name"])
    n = acts.size
    per_col = 64
    cols = int(np.ceil(n / per_col))
    labels_by_count: dict[str, int] = {}
    for u in units:
        if u["variable"]:
            labels_by_count[u["variable"]] = labels_by_count.get(u["variable"], 0) + 1
    top = sorted(labels_by_count, key=lambda v: -labels_by_count[v])[:8]
    height = max(2.2, 0.13 * min(n, per_col) + 0.8)
    fig = plt.figure(figsize=(3.3 * cols + 1.6, height), dpi=100)
    grid = fig.add_gridspec(max(len(top), 1), cols + 1, width_ratios=[3.3] * cols + [1.2])
    names = outputs.summary["action_meanings"] if layer["name"] == "actor" and n == len(
        outputs.summary["action_meanings"]) else None
    for col in range(cols):
        ax = fig.add_subplot(grid[:, col])
        idx = np.arange(col * per_col, min(n, (col + 1) * per_col))
        colours = [FAMILY_COLOURS.get(outputs.family(units[i]["variable"]), FAMILY_COLOURS["other"])
                   if units[i]["variable"] else "#cccccc" for i in idx]
        ax.barh(np.arange(idx.size), acts[idx], color=colours, height=0.8)
        ax.set_yticks(np.arange(idx.size), [
            f"{names[i] if names else f'u{i}'}  {units[i]['variable'] or 'unlabelled'} "
            f"{_address(units[i]['variable'], outputs)} |r|={float(units[i]['abs_r']):.2f}" for i in idx],
            fontsize=5 if idx.size > 16 else 7)
        ax.invert_yaxis()
        ax.tick_params(axis="x", labelsize=6)
        ax.axvline(0, color="black", linewidth=0.5)
    for row, name in enumerate(top):
        ax = fig.add_subplot(grid[row, cols])
        _overlay(ax, _background(outputs), _region(outputs, name))
        ax.set_title(f"{name} ({labels_by_count[name]} units)", fontsize=6)
    families = sorted({outputs.family(units[i]["variable"]) for i in range(n) if units[i]["variable"]})
    legend = ", ".join(f"{family} {COLOUR_NAMES.get(FAMILY_COLOURS.get(family), 'grey')}" for family in families)
    fig.suptitle(f"{layer['name']} ({layer['path']}, {n} units): activation of example {example}; colour = variable "
                 f"family ({legend or 'none labelled'})", fontsize=8)
    return _png(fig)


def fig_examples(outputs: ProbeOutputs) -> bytes:
    obs = outputs.examples["obs"]
    n, frames = obs.shape[:2]
    fig, axes = plt.subplots(n, frames, figsize=(1.5 * frames, 1.8 * n + 0.3), dpi=100, squeeze=False,
                             layout="constrained")
    for i in range(n):
        for k in range(frames):
            axes[i, k].imshow(_colour(outputs, obs[i, k]), interpolation="nearest")
            axes[i, k].set_xticks([])
            axes[i, k].set_yticks([])
            axes[i, k].set_title(f"example {i}, frame t-{frames - 1 - k}", fontsize=6)
    fig.suptitle("Example inputs (frame stacks, oldest first)", fontsize=8)
    return _png(fig)


def fig_causal(outputs: ProbeOutputs) -> bytes | None:
    rows = [r for r in outputs.causal if r.get("policy_success") not in ("", "nan", None)
            and r["direction"] != "-" and np.isfinite(float(r["policy_success"]))]
    names = list(dict.fromkeys(r["variable"] for r in rows))
    if not names:
        return None
    fig, axes = plt.subplots(1, len(names), figsize=(4.2 * len(names), 2.8), dpi=100, squeeze=False)
    for ax, name in zip(axes[0], names):
        sub = [r for r in rows if r["variable"] == name]
        layers = list(dict.fromkeys(r["layer"] for r in sub))
        for j, kind in enumerate(("probe", "meandiff", "random")):
            vals = [next((float(r["policy_success"]) for r in sub if r["layer"] == l and r["direction"] == kind),
                         np.nan) for l in layers]
            errs = [next((float(r["policy_success_seed_std"]) for r in sub if r["layer"] == l
                          and r["direction"] == kind), 0.0) for l in layers]
            ax.bar(np.arange(len(layers)) + (j - 1) * 0.27, vals, width=0.27, yerr=errs, label=kind, capsize=2)
        ax.axhline(0.8, color="black", linestyle="--", linewidth=0.8)
        ax.axhline(0.5, color="grey", linestyle=":", linewidth=0.8)
        ax.set_xticks(range(len(layers)), layers, fontsize=7)
        ax.set_ylim(0, 1.05)
        ax.set_title(f"steer {name}: policy moves as predicted ({sub[0]['predicted_policy']} when pushed up)",
                     fontsize=7)
        ax.legend(fontsize=6)
    fig.suptitle("Causal check: fraction of (state, sign) trials with the policy shift in the predicted direction "
                 "(bars: mean, error: std over seeds)", fontsize=8)
    return _png(fig)


def fig_gbc_regions(gbc: dict[str, Any]) -> bytes:
    maps, labels, background = gbc["maps"], gbc["labels"], gbc["background"]
    cols = 8
    rows = int(np.ceil(len(labels) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.9, rows * 2.1 + 0.4), dpi=90, squeeze=False,
                             layout="constrained")
    for ax, heat, label in zip(axes.ravel(), maps, labels):
        _overlay(ax, background, heat)
        ax.set_title(label, fontsize=6)
    for ax in axes.ravel()[len(labels):]:
        ax.axis("off")
    fig.suptitle("GBC Breakout: screen pixels that change when each RAM byte is perturbed", fontsize=9)
    return _png(fig)


# --- HTML ---------------------------------------------------------------------------------------------------------------

def _img(png: bytes, alt: str, width: str = "") -> str:
    style = f' style="max-width:{width}"' if width else ""
    return (f'<img alt="{html.escape(alt)}"{style} src="data:image/png;base64,'
            f'{base64.b64encode(png).decode()}">')


def _table(header: list[str], rows: list[list[Any]], raw_columns: tuple[int, ...] = ()) -> str:
    def cell(j: int, v: Any) -> str:
        if j in raw_columns:
            return str(v)
        if isinstance(v, str):
            if v.strip().lstrip("-").isdigit():
                return v
            try:
                v = float(v)
            except ValueError:
                return html.escape(v)
        if isinstance(v, (float, np.floating)):
            return f"{v:.3f}" if np.isfinite(v) else "-"
        return html.escape(str(v))
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{cell(j, v)}</td>" for j, v in enumerate(row)) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


_STYLE = """
body{font-family:sans-serif;margin:1.5em;max-width:1500px;color:#222}
table{border-collapse:collapse;font-size:12px;margin:0.5em 0 1.5em}
td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}
th{background:#eee} img{max-width:100%} .pass{color:#060;font-weight:bold} .fail{color:#a00;font-weight:bold}
.thumb img{width:44px;height:44px;image-rendering:pixelated} details{margin:0.3em 0 1em}
"""

_CHECK_SCRIPT = """
<script>
window.addEventListener('load', function () {
  var images = Array.prototype.slice.call(document.images);
  var broken = images.filter(function (im) { return !(im.complete && im.naturalWidth > 0); });
  var status = document.getElementById('%s');
  status.textContent = broken.length === 0
    ? '%s: ' + images.length + ' of ' + images.length + ' images decoded'
    : 'report broken: ' + broken.length + ' of ' + images.length + ' images did not decode';
  status.className = broken.length === 0 ? 'pass' : 'fail';
});
</script>
""" % (STATUS_ID, OK_PREFIX)


def _control(r2: float) -> str:
    """A random-weights control's R^2, saying what a negative one means."""
    if r2 < CONTROL_FLOOR:
        return f"{r2:.3f}: below {CONTROL_FLOOR:g}, worse than predicting the mean, counted as {CONTROL_FLOOR:g}"
    return f"{r2:.3f}"


CONTROL_NOTE = (f"<p>Against the random-weights control: a layer counts when the 95% interval of R^2(trained) - "
                f"R^2(random weights) at that layer lies above 0 (paired bootstrap over held-out blocks of play). "
                f"A control below R^2 {CONTROL_FLOOR:g} predicts worse than the test mean would, so it counts as "
                f"{CONTROL_FLOOR:g}: the comparison is with the mean, not with a failed fit. Variables with one "
                "value on the test split (one class for a flag) get no score: R^2 is undefined there, and a "
                "balanced accuracy of one class would be 1.00 for any constant guess.</p>")


def _bars_html(bars: dict[str, Any]) -> str:
    rows = []
    for name, b in bars.get("key_variables_r2", {}).items():
        chosen = b["layer_above_control"]
        if chosen:
            c = b["layers"][chosen]
            low, high = c["difference_ci95"]
            measured = (f"{chosen}: {c['r2']:.3f} (random weights there {_control(c['random_weights_r2'])}, "
                        f"difference 95% CI [{low:.3f}, {high:.3f}])")
        else:
            measured = "no layer"
        measured += (f"; best layer {b['best_layer']}: {b['r2']:.3f} (random weights there "
                     f"{_control(b['random_weights_r2'])}); pixels {b['pixels_r2']:.3f}")
        rows.append([f"{name}: a layer with R^2 >= 0.9, above the random-weights network at that layer", measured,
                     b["pass"]])
    constant = bars.get("variables_constant_on_test", [])
    rows.append(["all variables scored (no score for a variable constant on the test split: one value, or one "
                 "class for a flag)",
                 f"{bars['variables_scored']} of {bars['variables_total']}"
                 + (f"; constant on the test split, not scored: {', '.join(constant)}" if constant else ""),
                 bars["variables_scored"] + len(constant) == bars["variables_total"]])
    for name, c in bars.get("causal", {}).items():
        rows.append([f"steering {name} moves the policy as predicted in >= 80% of states",
                     f"{c['layer']} {c['direction']}: {c['policy_success']:.3f} (seed std "
                     f"{c['policy_success_seed_std']:.3f}); random directions {c['random_policy_success']:.3f}",
                     c["pass"]])
    for name, c in bars.get("causal_generic", {}).items():
        rows.append([f"steering {name} moves the policy more than equal-norm random directions",
                     f"{c['layer']} {c['direction']}: mean |log-odds shift| {c['policy_effect']:.4f}; random "
                     f"directions {c['random_policy_effect']:.4f}", c["pass"]])
    return CONTROL_NOTE + _table(["bar", "measured", "reached"],
                                 [[r[0], r[1], f'<span class="{"pass" if r[2] else "fail"}">'
                                   f'{"yes" if r[2] else "no"}</span>'] for r in rows], raw_columns=(2,))


def build_report(folder: str | Path, gbc: dict[str, Any] | None = None, example: int = 0,
                 tensorboard_dir: str | Path | None = None) -> dict[str, Path]:
    """Writes figures/*.png, report.html and (optionally) TensorBoard images for the step-06 folder `folder`."""
    outputs = load_probe_outputs(folder)
    if gbc is not None and gbc["env_id"] != outputs.summary["env_id"]:
        raise UserError(f"the RAM-to-screen map is of {gbc['env_id']}, the probe in {folder} of "
                        f"{outputs.summary['env_id']}: pass the map only to {gbc['env_id']}'s report")
    n_examples = outputs.examples["obs"].shape[0]
    if not 0 <= example < n_examples:
        raise UserError(f"example {example} does not exist: step 07 kept {n_examples} examples (0-{n_examples - 1}); "
                        "pass --example within that range")
    summary = outputs.summary
    figures: dict[str, bytes] = {}
    figures["scores_scalars"] = fig_scalar_scores(outputs)
    for title, layout in outputs.arrays.items():
        if any(v in summary["variables"] for v in layout["names"]):
            figures[f"scores_{title.lower()}"] = fig_array_scores(outputs, title)
    figures["examples"] = fig_examples(outputs)
    scalars = [v for v in outputs.region_variables if not outputs.in_array(v)]
    figures["regions_scalars"] = fig_regions(outputs, scalars, 6, "Screen region of each variable: pixels of the "
                                             "frame stack that change when it is perturbed (fraction of its "
                                             "perturbations; in brackets their count)", size=2.0)
    for title, layout in outputs.arrays.items():
        members = [v for v in layout["names"] if v in outputs.region_variables]
        figures[f"regions_{title.lower()}"] = fig_regions(
            outputs, members, layout["shape"][1], f"{title}: screen region of each element (each perturbed on "
            "its own)", size=1.05)
    for layer in summary["layers"]:
        draw = fig_conv_layer if layer["kind"] == "conv" else fig_dense_layer
        figures[f"layer_{layer['name']}"] = draw(outputs, layer, example)
    causal_png = fig_causal(outputs)
    if causal_png is not None:
        figures["causal"] = causal_png
    if gbc is not None:
        figures["gbc_ram_regions"] = fig_gbc_regions(gbc)

    folder = Path(folder)
    fig_dir = folder / "figures"
    fig_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for name, png in figures.items():
        written[name] = atomic_write(fig_dir / f"{name}.png", png)
    region_dir = fig_dir / "regions"
    region_dir.mkdir(exist_ok=True)
    thumbs = {}
    for name in outputs.region_variables:
        thumbs[name] = region_thumbnail(outputs, name)
        atomic_write(region_dir / f"{name}.png", thumbs[name])

    page = _html(outputs, figures, thumbs, gbc, example)
    written["report"] = atomic_write(folder / REPORT_NAME, page)
    if tensorboard_dir is not None:
        written["tensorboard"] = write_tensorboard(figures, tensorboard_dir)
    return written


def write_tensorboard(figures: dict[str, bytes], log_dir: str | Path) -> Path:
    from PIL import Image
    from torch.utils.tensorboard import SummaryWriter

    log_dir = Path(log_dir)
    writer = SummaryWriter(log_dir=str(log_dir))
    try:
        for name, png in figures.items():
            image = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
            writer.add_image(f"probe/{name}", image, global_step=0, dataformats="HWC")
    finally:
        writer.close()
    return log_dir


def _best_table(outputs: ProbeOutputs, best: list[dict[str, str]], thumb: dict[str, str]) -> str:
    return _table(["variable", "address", "metric", "best layer", "score", "play states", "random-weights best",
                   "random score", "pixels", "screen region"],
                  [[b["variable"], _address(b["variable"], outputs), b["metric"], b["best_layer"], b["score"],
                    b["score_play_states"], b["random_best_layer"], b["random_best"], b["pixels"],
                    thumb.get(b["variable"], "")] for b in best], raw_columns=(9,))


def _labels_rule(summary: dict[str, Any]) -> str:
    """What a unit's label means (agents/probing/labels.py), with the thresholds step 07 used."""
    rule = summary.get("labels")
    if rule is None:
        return ("<p>Labels: each unit's best variable by |r| (written by an older step 07: no threshold and no "
                "random-weights comparison; run scripts/07_probe.py again).</p>")
    too_constant = rule["too_constant_on_test"]
    return (f"<p>Labels: a unit (a channel: its best position) is labelled with the variable it correlates with "
            f"most when that |r| is at least {rule['min_abs_r']} and {rule['margin']} above the best |r| any unit of "
            f"the same layer reaches in the random-weights network; only variables with at least "
            f"{rule['min_minority_share']:.0%} of the test split away from their most common value label units "
            f"(a nearly constant target correlates perfectly with some position by chance). "
            f"{len(too_constant)} variables too constant to label: "
            f"{html.escape(', '.join(too_constant)) if too_constant else 'none'}.</p>")


def _label_cell(row: dict[str, str]) -> str:
    """A unit's label, or why it has none and its best variable (older step-07 folders: the best variable)."""
    if row["variable"]:
        return row["variable"]
    why = row.get("unlabelled_because", "")
    best = row.get("best_variable", "")
    return f"unlabelled: {why} (best {best})" if why and best else f"unlabelled: {why}" if why else "unlabelled"


def _number(value: float | None) -> float:
    """summary.json writes NaN (e.g. the mean score when no game finished) as null."""
    return float("nan") if value is None else float(value)


def _play_sentence(play: dict[str, Any]) -> str:
    """How the agent's play went, without a mean of no games."""
    finished = int(play["episodes_finished"])
    if finished == 0:
        return ("Play: no game finished within the probe's play (its games are cut short), so there is no mean "
                "score.")
    return (f"Play: {finished} game{'s' if finished > 1 else ''} finished, mean score "
            f"{_number(play['mean_score_of_finished_episodes']):.1f}.")


def _html(outputs: ProbeOutputs, figures: dict[str, bytes], thumbs: dict[str, bytes], gbc: dict[str, Any] | None,
          example: int) -> str:
    s = outputs.summary
    thumb = {name: f'<span class="thumb">{_img(png, f"region of {name}")}</span>' for name, png in thumbs.items()}
    parts = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>Probe report: {html.escape(s['source'])}"
             f"</title><style>{_STYLE}</style></head><body>",
             f"<h1>What the pixel agent knows: {html.escape(s['env_id'])}</h1>",
             f"<p id='{STATUS_ID}'>report not checked (needs JavaScript)</p>",
             f"<p>Agent: <code>{html.escape(s['source'])}</code>; frames {s['frame_stack']} x {s['obs_size']}x"
             f"{s['obs_size']}, frame skip {s['frame_skip']}. Data: {s['data']['samples']} samples ("
             + ", ".join(f"{n} {k.removesuffix('_samples').replace('_', ' ')}" for k, n in s["data"].items()
                         if k.endswith("_samples")) +
             f"); test split {s['data']['test']} ({s['data']['test_play']} play). {_play_sentence(s['play'])} "
             "Step 07 took "
             f"{s['timings_s'].get('total', {}).get('wall_s', float('nan')):.0f} s "
             f"({s['timings_s'].get('total', {}).get('cpu_s', float('nan')):.0f} s CPU).</p>",
             "<h2>Bars</h2>", _bars_html(s["bars"]),
             "<h2>Probes</h2><p>Linear probes per layer, scored on held-out blocks of play and their sweeps; "
             "controls: the same network with random weights, and a probe on the raw pixels.</p>",
             _best_table(outputs, [b for b in outputs.best if not outputs.in_array(b["variable"])], thumb)]
    for title, layout in outputs.arrays.items():
        members = [b for b in outputs.best if b["variable"] in layout["names"]]
        parts += [f"<details><summary>The {len(members)} {html.escape(title.lower())}</summary>",
                  _best_table(outputs, members, thumb), "</details>"]
    parts.append(_img(figures["scores_scalars"], "probe scores of the scalars"))
    for title in outputs.arrays:
        if f"scores_{title.lower()}" in figures:
            parts.append(_img(figures[f"scores_{title.lower()}"], f"probe scores of the {title.lower()}"))
    parts += ["<h2>Causal check</h2><p>alpha times a unit direction is added to a layer's output on held-out play "
              "states; success = the policy's log-odds RIGHT:LEFT (or the probe read-out) moves the predicted way. "
              "Random: equal-norm random directions.</p>"]
    if "causal" in figures:
        parts.append(_img(figures["causal"], "causal check"))
    causal_rows = [[r["layer"], r["variable"], r["direction"], r["alpha"], r.get("readout_success", ""),
                    r.get("policy_success", ""), r.get("policy_success_seed_std", ""),
                    r.get(f"policy_success_{s['causal_subset']}", ""), r.get("policy_effect_mean", ""),
                    r.get("policy_effect_std", ""), r.get("total_variation_mean", "")] for r in outputs.causal]
    parts.append("<details><summary>Every steering result</summary>" + _table(
        ["layer", "variable", "direction", "alpha", "read-out success", "policy success", "seed std",
         s["causal_subset"].replace("_", " "), "effect mean", "effect std", "TV mean"], causal_rows) + "</details>")
    parts.append(screen_maps_html(outputs.folder))
    parts += ["<h2>Screen regions</h2>", _img(figures["regions_scalars"], "regions of the scalars")]
    parts += [_img(figures[f"regions_{title.lower()}"], f"regions of the {title.lower()}") for title in outputs.arrays]
    parts += ["<h2>Every activation of every layer</h2>", _labels_rule(s), _img(figures["examples"], "example inputs")]
    for layer in s["layers"]:
        parts.append(f"<h3>{html.escape(layer['name'])} <small>({html.escape(layer['path'])}, "
                     f"{'x'.join(map(str, layer['shape']))})</small></h3>")
        parts.append(_img(figures[f"layer_{layer['name']}"], f"activations of {layer['name']}"))
        if layer["kind"] == "conv":
            rows = [[c["channel"], _label_cell(c), _address(c["variable"], outputs), c["abs_r"],
                     c.get("random_weights_abs_r", ""), thumb.get(c["variable"], "")]
                    for c in outputs.channels if c["layer"] == layer["name"]]
            header = ["channel", "label (best variable)", "address", "best |r| over positions",
                      "random weights' best |r|", "screen region"]
        else:
            rows = [[u["unit"], _label_cell(u), _address(u["variable"], outputs), u["abs_r"],
                     u.get("random_weights_abs_r", ""), thumb.get(u["variable"], "")]
                    for u in outputs.units if u["layer"] == layer["name"]]
            header = ["unit", "label (best variable)", "address", "|r|", "random weights' best |r|",
                      "screen region"]
        source = outputs.channels if layer["kind"] == "conv" else outputs.units
        labelled = sum(1 for r in source if r["layer"] == layer["name"] and r["variable"])
        parts.append(f"<details><summary>{len(rows)} {'channels' if layer['kind'] == 'conv' else 'units'}, "
                     f"{labelled} labelled</summary>"
                     + _table(header, rows, raw_columns=(5,)) + "</details>")
    if gbc is not None:
        parts += ["<h2>GBC Breakout: RAM-to-screen map</h2>", gbc.get("html_intro", ""),
                  _img(figures["gbc_ram_regions"], "GBC RAM regions"), gbc.get("html_table", "")]
    parts += ["<h2>Timings of step 07</h2>", _table(["stage", "wall-clock s", "CPU s"],
                                                    [[k, v.get("wall_s"), v.get("cpu_s")]
                                                     for k, v in s["timings_s"].items()]),
              _CHECK_SCRIPT, "</body></html>"]
    return "\n".join(parts)


def _interval(row: dict[str, str]) -> str:
    """A screen_maps.csv row's pointing-game interval; "-" for a map of no state (write_table leaves a nan bound
    empty) and for a folder 07 wrote before intervals."""
    low, high = row.get("pointing_low", ""), row.get("pointing_high", "")
    if not low or not high:
        return "-"
    return f"[{float(low):.2f}, {float(high):.2f}]"


def screen_maps_html(folder: Path) -> str:
    """The function-vector screen maps that step 07 wrote (screen_maps.csv, screen_maps/<variable>.png): each key
    variable's map beside its reference (the game's perturbation map, or play's), and every variable x layer x
    direction x method; empty when the folder has none."""
    table = Path(folder) / "screen_maps.csv"
    if not table.is_file():
        return ""
    rows = _read_csv(table)
    chosen = [r for r in rows if r["chosen"] == "True"]
    header = ["variable", "layer", "direction", "method", "reference", "IoU (top k)", "k", "pointing game",
              "its 95% interval", "states", "median IoU per state"]
    # a folder 07 wrote before references from play has no reference column: its maps were all perturbation maps
    cells = [[r["variable"], r["layer"], r["direction"], r["method"], r.get("reference", "perturbation"), r["iou"],
              r["k"], r["pointing_hit_rate"], _interval(r), r["pointing_states"], r["state_iou_median"]] for r in rows]
    pictures = [_img((Path(folder) / "screen_maps" / f"{r['variable']}.png").read_bytes(),
                     f"screen map of {r['variable']}", "640px") for r in chosen
                if (Path(folder) / "screen_maps" / f"{r['variable']}.png").is_file()]
    return ("<h2>Function-vector screen maps</h2><p>Each key variable's function vector mapped onto the screen "
            "through the network (the input gradient of the layer's projection on the direction, by the method in "
            "the table), averaged over held-out play states and their perturbed versions, beside the game's own map "
            "of the pixels that perturbing the variable changes (reference \"perturbation\"), or, for a position "
            "the game draws only on events, of where play draws its values (reference \"play\"). IoU: the map's top "
            "k pixels against the reference's k pixels; pointing game: the share of states whose map peaks inside "
            "their reference region, with its 95% Wilson interval over the states (agents/probing/README.md says how "
            "each map is made).</p>"
            + _table(header, [c for c, r in zip(cells, rows) if r["chosen"] == "True"]) + "".join(pictures)
            + "<details><summary>Every layer, direction and method</summary>" + _table(header, cells)
            + "</details>")
