"""The cross-game report of `scripts/run_pipeline.sh --all-games`: one row per game folder under the pipeline's out
root (each holds the game.json agents.probing.game_runs wrote and what the steps wrote beside it), as games.csv and
a self-contained games.html.

Per game: the extractor's kept and dropped bytes and its score against the symbols file (01); the evaluation returns
(this run's, else the manifest's) of the shipped agents (the memory agent on the extracted state, the memory agent on
raw RAM, the pixel agent), their training budget and, where a training curve was shipped with the agent, the step
and second at which it first reached 90% of its best smoothed return, beside the scripted player's mean; the top key
variables of both memory agents (06); the probe's best-layer R^2 of the probed key variables against both controls,
the median best-layer score of each kind of variable (position, velocity, counter, flag, array element, ...), the
causal check's share of key variables that pass and the function-vector screen maps' agreement with the emulator's
(07); links to the game's reports. A cell that does
not apply says why (the step's skip line, or the file that is missing).
"""

from __future__ import annotations

import csv
import html
import json
import math
import statistics
import time
from pathlib import Path
from typing import Any

from agents.curves import run_from_curve
from agents.probing.game_runs import GAME_FILE, SCRIPTED_FILE
from agents.shipped import SHIPPED_AGENTS
from breakout_py.errors import UserError
from breakout_py.files import atomic_write, write_table
from gbc.extract.score import bars_met, score_spec
from gbc.profiles import ROMS_DIR

CSV_NAME = "games.csv"
HTML_NAME = "games.html"
TOP_KEY_VARIABLES = 5
_AGENT_LABELS = {"memory": "memory agent", "memory_ram": "raw-RAM memory agent", "pixel": "pixel agent"}
COLUMNS = ("game", "env id", "extractor kept bytes", "extractor dropped bytes", "extractor score",
           "memory agent return", "memory agent (raw RAM) return", "pixel agent return", "scripted player",
           "top key variables (06)", "top key variables of the raw-RAM agent (06)",
           "probe R^2: best layer (random weights there; pixels)",
           "probe by variable kind: median best-layer score (random weights at their best; pixels)",
           "causal: key variables whose steering beats random directions",
           "screen maps: median IoU, pointing game (on-screen positions; all mapped)", "reports")
_METRIC_NAMES = {"r2": "R^2", "balanced_accuracy": "balanced accuracy"}
# Files linked from a game's row, when the step wrote them (relative to the game's folder).
LINKS = (("probe report", "probe/report.html"), ("key variables", "key_variables/key_variables.png"),
         ("key variables of the raw-RAM agent", "key_variables_ram/key_variables.png"),
         ("render contact sheet", "render/contact_sheet.png"), ("RAM-to-screen map", "ram_regions/ram_regions.md"))


def _why(step_line: str) -> str:
    """A step's skip line as a cell: the reason, without the "skipped: " prefix."""
    return step_line.removeprefix("skipped: ")


def _read_json(path: Path) -> dict[str, Any] | None:
    return json.loads(path.read_text()) if path.is_file() else None


def extractor_cells(folder: Path, steps: dict[str, str]) -> list[str]:
    """(kept bytes, dropped bytes, score) of the spec 01 wrote into <folder>/extract/."""
    if steps["extract"] != "run":
        return [_why(steps["extract"])] * 3
    specs = sorted((folder / "extract").glob("*.state_spec.json"))
    if not specs:
        return [f"not run: no extract/*.state_spec.json in {folder.name}"] * 3
    spec = json.loads(specs[0].read_text())
    summary = spec["summary"]
    dropped = summary["dropped_bytes"]
    dropped_cell = f"{sum(dropped.values())} (" + ", ".join(f"{k} {v}" for k, v in dropped.items() if v) + ")"
    rom_path = (spec.get("rom") or {}).get("path")
    symbols = ROMS_DIR.parent / rom_path if rom_path else None
    symbols = symbols.with_suffix(".symbols.json") if symbols is not None else None
    if symbols is None or not symbols.is_file():
        score = "not scored: the ROM has no symbols file"
    else:
        scored = score_spec(spec, json.loads(symbols.read_text()))
        score = (f"state recall {scored['state_recall']:.0%}, screen bytes kept {scored['screen_bytes_kept']}, "
                 f"runtime + scratch {scored['runtime_scratch_share']:.0%} of kept; bars "
                 f"{'met' if bars_met(scored) else 'not met'}")
    return [f"{summary['kept_bytes']} ({summary['features']} features)", dropped_cell, score]


def _not_run_cell(step_line: str, agent: str) -> str:
    """The cell of a step that did not run: "no <agent> shipped" when that is why, else the step's own reason."""
    return f"no {_AGENT_LABELS[agent]} shipped" if f"no shipped {agent} agent" in step_line else _why(step_line)


def agent_cell(folder: Path, game: dict[str, Any], agent: str) -> str:
    """The shipped agent's mean return: this run's evaluation, else the manifest's; with its training budget."""
    step = game["steps"][f"evaluate_{agent}"]
    if step != "run":
        return _not_run_cell(step, agent)
    shipped = game["shipped"][agent]
    evaluation = _read_json(folder / "evaluate" / f"{game['env_id'].replace('/', '-')}__{agent}__shipped.json")
    where = "this run"
    if evaluation is None:
        evaluation, where = shipped.get("evaluation") or {}, "manifest"
    if "mean_return" not in evaluation:
        return "shipped, not evaluated: no evaluate/ result and no evaluation in the manifest"
    steps = shipped.get("global_step")
    trained = f"; trained {steps / 1e6:.1f}M steps, {shipped.get('train_seconds', 0):.0f} s" if steps else ""
    return (f"{evaluation['mean_return']:.1f} over {evaluation.get('episodes', '?')} games "
            f"({'greedy' if evaluation.get('greedy') else 'sampled'}, {where}){trained}{convergence(shipped)}")


def convergence(shipped: dict[str, Any]) -> str:
    """When its training curve was shipped: the env step and training second at which the agent's smoothed return
    first reached 90% of its best (agents.compare's definitions); else "" (no curve kept)."""
    if not shipped.get("curve"):
        return ""
    if not Path(shipped["curve"]).is_file():
        return f"; no curve at {shipped['curve']}"
    run = run_from_curve(Path(shipped["curve"]), "shipped", "agent", 0)
    if not len(run.smoothed):
        return "; no smoothed return in its curve"
    step = run.first_reach(0.9 * run.best)
    return (f"; 90% of its best smoothed return ({run.best:,.1f}) at {step / 1e6:.2f}M steps, "
            f"{run.seconds_at(step):,.0f} s")


def scripted_cell(folder: Path, steps: dict[str, str]) -> str:
    if steps["scripted"] != "run":
        return _why(steps["scripted"])
    result = _read_json(folder / SCRIPTED_FILE)
    if result is None:
        return f"not run: no {SCRIPTED_FILE}"
    return f"{result['agent']}: {result['mean_score']:.1f} over {result['episodes']} games"


def key_variables_cell(folder: Path, steps: dict[str, str], step: str = "key_variables") -> str:
    """The top key variables step 06 wrote into <folder>/<step>/ (key_variables: the memory agent on the extracted
    state; key_variables_ram: on raw RAM)."""
    if steps[step] != "run":
        return _not_run_cell(steps[step], "memory_ram" if step == "key_variables_ram" else "memory")
    path = folder / step / "key_variables.csv"
    if not path.is_file():
        return f"not run: no {step}/key_variables.csv"
    with open(path, newline="") as f:
        rows = sorted(csv.DictReader(f), key=lambda r: int(r["rank"]))[:TOP_KEY_VARIABLES]
    return ", ".join(r["symbol"] or r["feature"] for r in rows)


def _probe_summary(folder: Path, steps: dict[str, str]) -> tuple[dict[str, Any] | None, str]:
    """Step 07's summary.json, or None and the cell saying why there is none."""
    if steps["probe"] != "run":
        return None, _not_run_cell(steps["probe"], "pixel")
    summary = _read_json(folder / "probe" / "summary.json")
    return summary, "" if summary is not None else "not run: no probe/summary.json"


def probe_cell(folder: Path, steps: dict[str, str]) -> str:
    summary, why = _probe_summary(folder, steps)
    if summary is None:
        return why
    parts = []
    for name, bar in summary["bars"]["key_variables_r2"].items():
        parts.append(f"{name} {bar['best_layer']} {bar['r2']:.2f} ({bar['random_weights_r2']:.2f}; "
                     f"{bar['pixels_r2']:.2f}){'' if bar['pass'] else ' below the bar'}")
    # the bar holds the key variables measured as on-screen positions (drawn at once, or on events as a snake's food);
    # the others' R^2 is in the kinds column
    return "; ".join(parts) or "no key variable is an on-screen position (none held to the bar)"


def kinds_cell(folder: Path, steps: dict[str, str]) -> str:
    """Per kind of variable (summary.json's kinds: position, velocity, counter, flag, array element, value) and
    metric: the median over its scored variables of the trained network's best-layer score, the random-weights twin's
    best and the raw pixels' (probe/probe_best.csv)."""
    summary, why = _probe_summary(folder, steps)
    path = folder / "probe" / "probe_best.csv"
    if summary is None or not path.is_file():
        return why or "not run: no probe/probe_best.csv"
    groups: dict[tuple[str, str], list[tuple[float, float, float]]] = {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            scores = tuple(float(row[c] or "nan") for c in ("score", "random_best", "pixels"))
            if not math.isnan(scores[0]):  # nan: constant on the test split, not scored
                kind = summary["kinds"].get(row["variable"], "other")
                groups.setdefault((kind, row["metric"]), []).append(scores)
    parts = []
    for (kind, metric), rows in sorted(groups.items()):
        trained, random, pixels = (statistics.median(column) for column in zip(*rows))
        parts.append(f"{kind} {_METRIC_NAMES.get(metric, metric)} {trained:.2f} ({random:.2f}; {pixels:.2f}), "
                     f"{len(rows)} variable{'s' * (len(rows) != 1)}")
    return "; ".join(parts) or "no variable scored"


def causal_cell(folder: Path, steps: dict[str, str]) -> str:
    """How many key variables pass the causal check: steering moves the policy the predicted way (variables with a
    predicted direction) or more than equal-norm random directions (the others)."""
    summary, why = _probe_summary(folder, steps)
    if summary is None:
        return why
    predicted, generic = summary["bars"].get("causal", {}), summary["bars"].get("causal_generic", {})
    passed = [bar["pass"] for bar in (*predicted.values(), *generic.values())]
    if not passed:
        return "no key variable steered"
    return (f"{sum(passed)} of {len(passed)} ({sum(b['pass'] for b in predicted.values())} of {len(predicted)} as "
            f"predicted; {sum(b['pass'] for b in generic.values())} of {len(generic)} more than random)")


def maps_cell(folder: Path, steps: dict[str, str]) -> str:
    """The screen maps' median IoU and pointing-game hit rate over the on-screen positions among the key variables
    (those the R^2 bar holds), then over every variable mapped."""
    summary, why = _probe_summary(folder, steps)
    if summary is None:
        return why
    maps = summary.get("screen_maps", {}).get("variables", {})
    if not maps:
        return "no screen map (no key variable changed a screen pixel)"

    def medians(names: list[str]) -> str:
        return (f"{statistics.median(maps[n]['iou'] for n in names):.2f}, "
                f"{statistics.median(maps[n]['pointing_hit_rate'] for n in names):.0%} over {len(names)}")

    positions = [name for name in summary.get("r2_bar_variables", []) if name in maps]
    return f"{medians(positions) if positions else 'no on-screen position mapped'}; all mapped: {medians(list(maps))}"


def game_row(folder: Path) -> dict[str, Any]:
    """The row of one game folder (it holds game.json)."""
    game = json.loads((folder / GAME_FILE).read_text())
    steps = game["steps"]
    links = [(label, path) for label, path in LINKS if (folder / path).is_file()]
    links += [("extractor's decisions", str(path.relative_to(folder)))
              for path in sorted((folder / "extract").glob("*.state_spec.png"))]
    name = f"{game['game']} (symbols hidden)" if game.get("symbols_hidden_of") else game["game"]
    return dict(zip(COLUMNS, [name, game["env_id"], *extractor_cells(folder, steps),
                              *(agent_cell(folder, game, agent) for agent in SHIPPED_AGENTS),
                              scripted_cell(folder, steps), key_variables_cell(folder, steps),
                              key_variables_cell(folder, steps, "key_variables_ram"),
                              probe_cell(folder, steps), kinds_cell(folder, steps), causal_cell(folder, steps),
                              maps_cell(folder, steps),
                              [(label, f"{folder.name}/{path}") for label, path in links]]))


def games_rows(root: str | Path) -> list[dict[str, Any]]:
    """One row per game folder under `root`, in folder name order."""
    folders = sorted(p.parent for p in Path(root).glob(f"*/{GAME_FILE}"))
    return [game_row(folder) for folder in folders]


def _html_cell(value: Any) -> str:
    if isinstance(value, list):
        return " | ".join(f'<a href="{html.escape(path)}">{html.escape(label)}</a>' for label, path in value) \
            or "none written"
    return html.escape(str(value))


def write_games_report(root: str | Path) -> dict[str, Path]:
    """games.csv and games.html in `root` from its game folders; returns their paths."""
    root = Path(root)
    rows = games_rows(root)
    if not rows:
        raise UserError(f"no game folders (*/{GAME_FILE}) under {root}: run scripts/run_pipeline.sh --game "
                                "NAME first")
    csv_path = write_table(root / CSV_NAME, list(COLUMNS), [
        [" ".join(path for _, path in row[c]) if isinstance(row[c], list) else row[c] for c in COLUMNS]
        for row in rows])
    head = "".join(f"<th>{html.escape(c)}</th>" for c in COLUMNS)
    body = "".join("<tr>" + "".join(f"<td>{_html_cell(row[c])}</td>" for c in COLUMNS) + "</tr>" for row in rows)
    page = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>The pipeline on every game</title><style>"
            "body{font-family:sans-serif;margin:1.5em;color:#222} table{border-collapse:collapse;font-size:12px}"
            "td,th{border:1px solid #ccc;padding:3px 6px;text-align:left;vertical-align:top} th{background:#eee}"
            "</style></head><body><h1>The pipeline on every game</h1>"
            f"<p>{len(rows)} games under {html.escape(str(root))}, written "
            f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} by scripts/run_pipeline.sh --all-games. "
            "Returns: mean over the evaluation's games (this run's evaluation, else the manifest's). Probe: for "
            "each key variable of the probe, R^2 at the trained network's best layer, then in brackets the same "
            "architecture with random weights at that layer and a probe on the raw pixels. Causal: key variables "
            "whose steering moves the policy the predicted way, or more than equal-norm random directions. Screen "
            "maps: IoU of the function-vector map's top pixels with the emulator's perturbation map (for a position "
            "drawn only on events, with where play draws it), and the share of states whose map peaks on the "
            "variable's pixels.</p>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></body></html>")
    return {"csv": csv_path, "html": atomic_write(root / HTML_NAME, page)}
