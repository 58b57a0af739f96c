"""Scores a state spec against a ROM's symbols file (the ground truth the extractor never reads).

Each symbols-file variable has a kind: `state` (game variables), `screen` (copies of screen data), `runtime`
(frame counters, input mirrors, the sound driver) or `scratch` (buffers used while generating a level or wave).
The score: per variable, how many of its bytes were kept and why the others were dropped; recall over the `state`
bytes that changed in the recording (a byte that never changed cannot be found, and is listed instead); the
`screen`, `runtime` and `scratch` bytes kept, and the runtime + scratch share of all kept bytes; the `state`
variables kept, and those that never changed.

A variable in a CGB WRAM bank (the symbols file's "cgb_wram_bank") is compared with the spec's bytes of that bank
(recorded beside the observation); a bank the game kept switched in at every frame's end is the observation's own.

16-bit words: the spec's word groups whose two bytes belong to two variables (a false pair), and the 16-bit variables
whose two kept bytes are separate features (a word not found); reported beside the bars, not part of them.

The bars (issue 18): every changed state byte kept, no screen byte kept, runtime + scratch at most 5% of the kept
bytes.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from breakout_py.errors import UserError
from gbc.hardware import WRAM_END, WRAM_SWITCHED_START


KINDS = ("state", "screen", "runtime", "scratch")
MAX_RUNTIME_SCRATCH_SHARE = 0.05


class ScoreError(UserError, ValueError):
    """A spec or symbols file that cannot be read, or the two describe different ROMs."""


def decisions_by_address(spec: dict[str, Any]) -> dict[tuple[int, int], str]:
    """(bank, address) -> 'kept' or the drop reason, for every byte of the spec's observation (bank 0) and of the
    CGB WRAM banks it recorded (bank 1-7; their bytes not listed never changed)."""
    decided: dict[tuple[int, int], str] = {}
    for bank in (spec.get("wram_banks") or {}).get("recorded", []):
        for address in range(WRAM_SWITCHED_START, WRAM_END):
            decided[(int(bank), address)] = "constant"
    for entry in spec["kept"]:
        decided[(int(entry.get("bank", 0)), int(entry["address"], 16))] = "kept"
    for entry in spec["dropped"]:
        first = int(entry["address"], 16)
        last = int(entry.get("last", entry["address"]), 16)
        for address in range(first, last + 1):
            decided[(int(entry.get("bank", 0)), address)] = entry["reason"]
    return decided


def variable_bank(variable: dict[str, Any], spec: dict[str, Any]) -> int:
    """The bank key of a symbols-file variable in `decisions_by_address`: 0 (the observation) unless it lives
    in a CGB WRAM bank the spec recorded apart."""
    bank = int(variable.get("cgb_wram_bank", 0))
    return bank if bank in (spec.get("wram_banks") or {}).get("recorded", []) else 0


def score_spec(spec: dict[str, Any], symbols: dict[str, Any]) -> dict[str, Any]:
    """The score as a dict (see the module docstring); `variables` holds one row per symbols-file variable."""
    missing = [f"spec[{key!r}]" for key in ("kept", "dropped") if key not in spec]
    missing += [f"symbols[{key!r}]" for key in ("variables",) if key not in symbols]
    if missing:
        raise ScoreError(f"cannot score: {', '.join(missing)} missing; pass a state spec (scripts/01_extract_state.py) "
                         "and a symbols file (make -C roms)")
    rom = spec.get("rom") or {}
    if symbols.get("sha1") and rom.get("sha1") and symbols["sha1"].lower() != rom["sha1"].lower():
        raise ScoreError(f"the spec was extracted from ROM SHA-1 {rom['sha1']}, the symbols file describes "
                         f"{symbols['sha1']}: they are not the same ROM")
    decided = decisions_by_address(spec)
    rows = []
    labelled: set[tuple[int, int]] = set()
    per_kind = {kind: {"bytes": 0, "kept": 0, "changed": 0, "kept_changed": 0} for kind in KINDS}
    never_changed_state: list[str] = []
    kept_bytes_by_kind: dict[str, list[str]] = {"screen": [], "runtime": [], "scratch": []}
    for variable in symbols["variables"]:
        kind = variable["kind"]
        size = int(variable["size"])
        reasons = Counter()
        bank = variable_bank(variable, spec)
        for offset in range(size):
            key = (bank, int(variable["address"]) + offset)
            labelled.add(key)
            decision = decided.get(key, "not observed")
            reasons[decision] += 1
            label = variable["name"] if size == 1 else f"{variable['name']}[{offset}]"
            if kind in per_kind:
                counts = per_kind[kind]
                counts["bytes"] += 1
                counts["kept"] += decision == "kept"
                counts["changed"] += decision != "constant"
                counts["kept_changed"] += decision == "kept"
            if kind == "state" and decision == "constant":
                never_changed_state.append(label)
            if kind in kept_bytes_by_kind and decision == "kept":
                kept_bytes_by_kind[kind].append(label)
        kept = reasons.get("kept", 0)
        if kept:
            verdict = "kept" if kept == size else "partly kept"
        elif set(reasons) == {"constant"}:
            verdict = "never changed"
        else:
            verdict = "dropped"
        rows.append({"name": variable["name"], "kind": kind, "address": variable.get("address_hex", hex(variable["address"])),
                     "size": size, "kept": kept, "decisions": dict(reasons), "verdict": verdict})
    words = _words(spec, symbols, decided)
    state = per_kind["state"]
    state_variables = [r for r in rows if r["kind"] == "state"]
    unlabelled_kept = sorted(k for k, d in decided.items() if d == "kept" and k not in labelled)
    kept_total = sum(d == "kept" for d in decided.values())
    not_state = len(kept_bytes_by_kind["runtime"]) + len(kept_bytes_by_kind["scratch"])
    return {
        "state_recall": state["kept_changed"] / state["changed"] if state["changed"] else float("nan"),
        "state_bytes": state["bytes"], "state_bytes_changed": state["changed"], "state_bytes_kept": state["kept"],
        "state_bytes_never_changed": never_changed_state,
        "screen_bytes": per_kind["screen"]["bytes"], "screen_bytes_kept": len(kept_bytes_by_kind["screen"]),
        "screen_kept": kept_bytes_by_kind["screen"],
        "runtime_bytes": per_kind["runtime"]["bytes"], "runtime_bytes_kept": len(kept_bytes_by_kind["runtime"]),
        "runtime_kept": kept_bytes_by_kind["runtime"],
        "scratch_bytes": per_kind["scratch"]["bytes"], "scratch_bytes_kept": len(kept_bytes_by_kind["scratch"]),
        "scratch_kept": kept_bytes_by_kind["scratch"],
        "kept_bytes": kept_total,
        "runtime_scratch_share": not_state / kept_total if kept_total else 0.0,
        "state_variables": len(state_variables),
        "state_variables_kept": sum(r["kept"] > 0 for r in state_variables),
        "state_variables_never_changed": [r["name"] for r in state_variables if r["verdict"] == "never changed"],
        "state_variables_missed": [r["name"] for r in state_variables if r["verdict"] == "dropped"],
        "unlabelled_bytes_kept": [f"{b}:{a:#06x}" if b else f"{a:#06x}" for b, a in unlabelled_kept],
        **words,
        "variables": rows,
    }


def _words(spec: dict[str, Any], symbols: dict[str, Any], decided: dict[tuple[int, int], str]) -> dict[str, Any]:
    """The spec's 16-bit words against the symbols file: how many, which join two variables, which variables of two
    bytes (uint16, int16) have both bytes kept but not as one word."""
    owner: dict[tuple[int, int], str] = {}
    for variable in symbols["variables"]:
        bank = variable_bank(variable, spec)
        for offset in range(int(variable["size"])):
            owner[(bank, int(variable["address"]) + offset)] = variable["name"]
    grouped: set[tuple[int, int]] = set()
    across = []
    groups = [g for g in spec.get("groups", []) if g.get("kind") == "word"]
    for group in groups:
        keys = [(int(group.get("bank", 0)), int(a, 16)) for a in group["addresses"]]
        grouped.update(keys)
        names = [owner.get(key, f"{key[1]:#06x}") for key in keys]
        if names[0] != names[1]:
            across.append(" + ".join(names))
    split = []
    for variable in symbols["variables"]:
        bank, address = variable_bank(variable, spec), int(variable["address"])
        keys = [(bank, address), (bank, address + 1)]
        if (int(variable["size"]) == 2 and "int16" in str(variable.get("type", ""))
                and all(decided.get(key) == "kept" for key in keys) and not grouped.issuperset(keys)):
            split.append(variable["name"])
    return {"words": len(groups), "words_across_variables": across, "words_split": split}


def bars_met(result: dict[str, Any]) -> bool:
    """The bars: every changed state byte kept, no screen byte kept, no changed state variable lost, runtime +
    scratch at most MAX_RUNTIME_SCRATCH_SHARE of the kept bytes."""
    return (result["state_recall"] == 1.0 and result["screen_bytes_kept"] == 0
            and not result["state_variables_missed"]
            and result.get("runtime_scratch_share", 0.0) <= MAX_RUNTIME_SCRATCH_SHARE)


def format_score(result: dict[str, Any]) -> str:
    lines = [f"{'variable':18s} {'kind':8s} {'address':8s} {'size':>4s} {'kept':>4s}  decision"]
    for row in result["variables"]:
        decisions = ", ".join(f"{k} {v}" if row["size"] > 1 else k for k, v in sorted(row["decisions"].items()))
        lines.append(f"{row['name']:18s} {row['kind']:8s} {row['address']:8s} {row['size']:4d} {row['kept']:4d}  "
                     f"{row['verdict']}: {decisions}")
    never = result["state_bytes_never_changed"]
    lines += [
        "",
        f"state bytes: {result['state_bytes_kept']} kept of {result['state_bytes_changed']} that changed "
        f"(recall {result['state_recall']:.1%}); {len(never)} never changed in the recording",
        f"state variables: {result['state_variables_kept']} of {result['state_variables']} kept; never changed: "
        f"{result['state_variables_never_changed'] or 'none'}; lost: {result['state_variables_missed'] or 'none'}",
        f"screen bytes kept: {result['screen_bytes_kept']} of {result['screen_bytes']}"
        + (f" ({', '.join(result['screen_kept'])})" if result["screen_kept"] else ""),
        f"runtime bytes kept: {result['runtime_bytes_kept']} of {result['runtime_bytes']}"
        + (f" ({', '.join(result['runtime_kept'])})" if result["runtime_kept"] else ""),
        f"scratch bytes kept: {result['scratch_bytes_kept']} of {result['scratch_bytes']}"
        + (f" ({', '.join(result['scratch_kept'])})" if result["scratch_kept"] else ""),
        f"runtime + scratch: {result['runtime_scratch_share']:.1%} of the {result['kept_bytes']} kept bytes",
        f"bytes kept outside every variable: {len(result['unlabelled_bytes_kept'])}",
        f"16-bit words: {result['words']}; joining two variables: "
        f"{', '.join(result['words_across_variables']) or 'none'}; 16-bit variables kept as two features: "
        f"{', '.join(result['words_split']) or 'none'}",
        f"state bytes that never changed: {_compress(never) or 'none'}",
        f"bars (100% recall of changed state bytes, 0 screen bytes, no changed state variable lost, runtime + "
        f"scratch <= {MAX_RUNTIME_SCRATCH_SHARE:.0%} of kept bytes): "
        f"{'met' if bars_met(result) else 'NOT met'}",
    ]
    return "\n".join(lines)


def _compress(labels: list[str]) -> str:
    """'bricks[3]', 'bricks[4]', ... -> 'bricks: 2 of its bytes (3, 4)', short enough to print."""
    by_name: dict[str, list[str]] = {}
    for label in labels:
        name, _, rest = label.partition("[")
        by_name.setdefault(name, []).append(rest.rstrip("]"))
    parts = []
    for name, offsets in by_name.items():
        parts.append(name if offsets == [""] else f"{name} ({len(offsets)} bytes: {', '.join(offsets)})")
    return "; ".join(parts)


def symbols_path_for(spec: dict[str, Any], spec_path: Path, repo_root: Path) -> Path | None:
    """The symbols file of the spec's ROM (roms/x/x.symbols.json for roms/x/x.gb), if there is one: beside the
    spec, else beside the ROM's path (relative to `repo_root`)."""
    rom = spec.get("rom") or {}
    if not rom.get("file"):
        return None
    name = Path(rom["file"]).with_suffix(".symbols.json").name
    candidates = [Path(spec_path).resolve().parent / name]
    if rom.get("path"):
        candidates.append((repo_root / rom["path"]).with_suffix(".symbols.json"))
    return next((c for c in candidates if c.is_file()), None)


def load_json(path: Path | str) -> dict[str, Any]:
    """A spec or symbols file as a dict; a missing or malformed file is a ScoreError naming it."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise ScoreError(f"no file at {path}; write a spec with scripts/01_extract_state.py, symbols with "
                         "make -C roms") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ScoreError(f"cannot read {path} as JSON ({err})") from err
    if not isinstance(data, dict):
        raise ScoreError(f"{path} holds a JSON {type(data).__name__}, not an object: not a spec or symbols file")
    return data
