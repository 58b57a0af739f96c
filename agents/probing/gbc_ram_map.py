"""The RAM-to-screen map of our GBC Breakout: which screen pixels each extracted RAM byte drives.

For every feature of the ROM's state spec (`roms/breakout/breakout.state_spec.json`, gbc.extract.spec: the bytes
and words the extractor kept) and each of a few play states, the byte is set to other values inside its recorded
range and the game's own code draws the result (`gbc.emulated_render.EmulatedRenderer`: write, run until the
screen shows it). The same run without the change is the reference; the changed pixels are the byte's region.

Sprites (ball, paddle) follow RAM within the render's two frames, but the background is redrawn only on events:
a brick's tile when a brick of that tile breaks, the score when any brick breaks, the lives digit when a ball is
lost. So every perturbation runs under three conditions, each applied to the reference run too:
- `none`: nothing else changes;
- `brick_break`: the ball is placed to break one brick on the next frame: the other brick of the same tile when
  the byte is an element of `bricks` (so the game redraws that tile from the perturbed byte), else a fixed brick;
- `ball_lost`: the ball is placed to leave the screen on the next frame (lives drop and are redrawn).
A pixel belongs to the region when it changed under any condition; the map is the fraction of perturbations that
changed it. Names come from the symbols file; every layout number from its constants (breakout.h).
"""

from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from breakout_py.errors import UserError
from breakout_py.files import atomic_write, atomic_write_with, markdown_table, write_json, write_table
from gbc.hardware import SCREEN_HEIGHT, SCREEN_WIDTH, WRAM_START

MAP_ENV_ID = "GBCBreakout-v0"  # the env whose ROM this map is of: only its probe report carries the map
DEFAULT_REGION_DIR = Path("artifacts") / "probe" / MAP_ENV_ID / "ram_regions"
CONDITIONS = ("none", "brick_break", "ball_lost")
# A ball speed of one pixel per frame in the game's 1/256-px units (ball_dx/ball_dy in the symbols file).
ONE_PIXEL_PER_FRAME = 256
TILE = 8  # pixels per tile side (Pan Docs)
# How far the ball can move in the emulated render's frames: 2 frames at the top speed (1.25 + 0.25 * 5 px/frame).
BALL_MARGIN = 6


@dataclass
class Feature:
    """One kept feature of the state spec, named from the symbols file."""

    index: int
    address: int  # the low byte
    size: int  # 1 or 2 bytes
    signed: bool
    low: int
    high: int
    symbol: str  # e.g. "ball_x", "bricks"
    offset: int  # byte offset inside the symbol (element index of an array of bytes)
    kind: str  # the symbol's kind in the symbols file: state, screen, runtime

    @property
    def label(self) -> str:
        element = f"[{self.offset}]" if self.offset or self.symbol == "bricks" else ""
        return f"0x{self.address:04X} {self.symbol}{element}"


def load_features(spec_path: Path, symbols: dict[str, Any]) -> list[Feature]:
    """The spec's features, each mapped to the symbol whose bytes contain its address."""
    spec = json.loads(Path(spec_path).read_text())
    variables = sorted(symbols["variables"], key=lambda v: v["address"])
    out = []
    for f in spec["features"]:
        address = int(f["addresses"][0], 16)
        owner = next((v for v in variables if v["address"] <= address < v["address"] + v["size"]), None)
        out.append(Feature(int(f["index"]), address, len(f["addresses"]), bool(f["signed"]), int(f["min"]),
                           int(f["max"]), owner["name"] if owner else "?",
                           address - owner["address"] if owner else 0, owner["kind"] if owner else "unknown"))
    return out


class _Layout:
    """Screen geometry of our ROM from the symbols file's constants."""

    def __init__(self, symbols: dict[str, Any]):
        c = {k: int(v) for k, v in symbols["constants"].items()}
        self.c = c
        self.addr = {v["name"]: int(v["address"]) for v in symbols["variables"]}

    def brick_box(self, index: int) -> tuple[int, int, int, int]:
        """(y0, y1, x0, x1) of brick `index` (row-major, BRICK_COLUMNS per row)."""
        c = self.c
        row, col = divmod(index, c["BRICK_COLUMNS"])
        y0 = c["BRICK_TOP"] + row * c["BRICK_HEIGHT"]
        x0 = c["PLAYFIELD_LEFT"] + col * c["BRICK_WIDTH"]
        return y0, y0 + c["BRICK_HEIGHT"], x0, x0 + c["BRICK_WIDTH"]

    def partner(self, index: int) -> int:
        """The other brick drawn by the same background tile (rows 2r and 2r + 1 share a tile row)."""
        row, col = divmod(index, self.c["BRICK_COLUMNS"])
        return (row ^ 1) * self.c["BRICK_COLUMNS"] + col

    def break_brick(self, index: int, from_above: bool = False) -> dict[int, bytes]:
        """Overrides that make the ball, moving one pixel per frame, break brick `index` on the next frame: from
        below moving up, or from above moving down (then the ball does not cover the brick under the target)."""
        c, a = self.c, self.addr
        y0, y1, x0, x1 = self.brick_box(index)
        ball_x = x0 + (x1 - x0) // 2 - c["BALL_SIZE"] // 2
        # the leading edge (top when rising, bottom when falling) enters the brick after one step
        ball_y = y0 - c["BALL_SIZE"] if from_above else y1 - 1
        dy = ONE_PIXEL_PER_FRAME if from_above else -ONE_PIXEL_PER_FRAME
        return {a["bricks"] + index: b"\x01", a["ball_x"]: bytes([ball_x]), a["ball_y"]: bytes([ball_y]),
                a["ball_x_frac"]: b"\x00", a["ball_y_frac"]: b"\x00", a["ball_dx"]: (0).to_bytes(2, "little"),
                a["ball_dy"]: dy.to_bytes(2, "little", signed=True), a["serve_timer"]: b"\x00"}

    def lose_ball(self) -> dict[int, bytes]:
        """Overrides that make the ball leave the bottom of the screen on the next frame."""
        a = self.addr
        return {a["ball_y"]: bytes([SCREEN_HEIGHT - 1]), a["ball_y_frac"]: b"\x00", a["ball_dx"]: bytes(2),
                a["ball_dy"]: ONE_PIXEL_PER_FRAME.to_bytes(2, "little"), a["serve_timer"]: b"\x00"}

    def expected_box(self, feature: Feature) -> tuple[int, int, int, int] | None:
        """Where the game draws a variable, from the constants: (y0, y1, x0, x1), or None if not checked. The ball's
        box is the playfield; `allowed` narrows it to the ball's rows (ball_x) or columns (ball_y)."""
        c = self.c
        if feature.symbol == "bricks":
            return self.brick_box(feature.offset)
        if feature.symbol == "score":
            y0 = c["HUD_ROW"] * TILE
            x0 = c["SCORE_DIGITS_COL"] * TILE
            return y0, y0 + TILE, x0, x0 + 3 * TILE  # three digits
        if feature.symbol == "lives":
            y0, x0 = c["HUD_ROW"] * TILE, c["LIVES_DIGIT_COL"] * TILE
            return y0, y0 + TILE, x0, x0 + TILE
        if feature.symbol == "paddle_x":
            return c["PADDLE_Y"], c["PADDLE_Y"] + TILE, c["PLAYFIELD_LEFT"], c["PLAYFIELD_RIGHT"]
        if feature.symbol in ("ball_x", "ball_y"):
            return c["PLAYFIELD_TOP"], SCREEN_HEIGHT, c["PLAYFIELD_LEFT"], c["PLAYFIELD_RIGHT"]
        return None

    def allowed(self, feature: Feature, balls: list[tuple[int, int]]) -> np.ndarray | None:
        """Pixels where the variable may show: its box; for ball_x only the rows of the ball in the base states and
        for ball_y only its columns (the ball moves up to BALL_MARGIN px in the render's frames)."""
        box = self.expected_box(feature)
        if box is None:
            return None
        mask = np.zeros((SCREEN_HEIGHT, SCREEN_WIDTH), dtype=bool)
        y0, y1, x0, x1 = box
        mask[y0:y1, x0:x1] = True
        if feature.symbol in ("ball_x", "ball_y"):
            near = np.zeros_like(mask)
            size = self.c["BALL_SIZE"]
            for ball_x, ball_y in balls:
                if feature.symbol == "ball_x":
                    near[max(ball_y - BALL_MARGIN, 0):ball_y + size + BALL_MARGIN] = True
                else:
                    near[:, max(ball_x - BALL_MARGIN, 0):ball_x + size + BALL_MARGIN] = True
            mask &= near
        return mask


def play_states(count: int, seed: int, frames_between: int = 150) -> list[bytes]:
    """Saved emulator states from one game of our ROM, `frames_between` frames apart, each with the ball in
    flight; the paddle follows the ball (so the game lasts and bricks break)."""
    from gbc.emulator import GameBoy

    gb = GameBoy("breakout")
    try:
        gb.restart(seed=seed % 65535 + 1)
        half_paddle = gb.profile.constants["PADDLE_WIDTH"] // 2
        half_ball = gb.profile.constants["BALL_SIZE"] // 2
        states, frames = [], 0
        while len(states) < count and frames < 50 * frames_between * count:
            offset = (gb.read("ball_x") + half_ball) - (gb.read("paddle_x") + half_paddle)
            gb.hold(("right",) if offset > 2 else ("left",) if offset < -2 else ())
            gb.tick(1, True)
            frames += 1
            if frames >= frames_between * (len(states) + 1) and gb.read("serve_timer") == 0 and gb.in_play() \
                    and gb.read("ball_y") < gb.profile.constants["PADDLE_Y"] - 8:
                gb.hold(())
                gb.tick(1, True)  # a state saved with a button held keeps it held (roms/README.md, "Timing contract")
                states.append(gb.save_state())
        return states
    finally:
        gb.close()


def _values(feature: Feature, current: int, count: int) -> list[int]:
    """Up to `count` values in the feature's recorded range other than `current`."""
    candidates = np.unique(np.round(np.linspace(feature.low, feature.high, count + 1)).astype(int))
    values = [int(v) for v in candidates if int(v) != current][:count]
    if not values and feature.high > feature.low:
        values = [feature.high if current != feature.high else feature.low]
    return values


def _encode(value: int, feature: Feature) -> bytes:
    return (value % (1 << (8 * feature.size))).to_bytes(feature.size, "little")


def ram_regions(features: list[Feature], states: list[bytes], layout: _Layout, values_per_state: int = 2
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[tuple[int, int]]]:
    """(maps (F, 144, 160) float32, perturbation counts (F,), background frame (144, 160, 3), the ball's (x, y) in
    each base state)."""
    from gbc.emulated_render import EmulatedRenderer

    renderer = EmulatedRenderer("breakout")
    maps = np.zeros((len(features), SCREEN_HEIGHT, SCREEN_WIDTH), dtype=np.float32)
    counts = np.zeros(len(features), dtype=np.int64)
    reference_cache: dict[tuple, np.ndarray] = {}
    balls = []
    fixed_brick = layout.c["BRICK_COUNT"] - layout.c["BRICK_COLUMNS"] // 2  # the middle of the bottom row
    try:
        background = renderer.render(states[0], {})
        for s, state in enumerate(states):
            ram = renderer.run(state, {}, frames=1, with_dump=True).dump  # RAM as it is when the overrides land
            wram = ram.wram[0].reshape(-1)
            balls.append((int(wram[layout.addr["ball_x"] - WRAM_START]), int(wram[layout.addr["ball_y"] - WRAM_START])))
            for k, feature in enumerate(features):
                offset = feature.address - WRAM_START
                current = int.from_bytes(bytes(wram[offset:offset + feature.size]), "little") \
                    if 0 <= offset < wram.size else feature.low
                for value in _values(feature, current, values_per_state):
                    changed = np.zeros((SCREEN_HEIGHT, SCREEN_WIDTH), dtype=bool)
                    for condition in CONDITIONS:
                        if condition == "none":
                            trigger: dict[int, bytes] = {}
                        elif condition == "brick_break":
                            target = layout.partner(feature.offset) if feature.symbol == "bricks" else fixed_brick
                            trigger = layout.break_brick(target, from_above=target < feature.offset
                                                         and feature.symbol == "bricks")
                        else:
                            trigger = layout.lose_ball()
                        if feature.address in trigger:
                            continue  # the trigger itself sets this byte
                        key = (s, condition, tuple(sorted(trigger)), tuple(trigger.values()))
                        if key not in reference_cache:
                            reference_cache[key] = renderer.render(state, trigger)
                        perturbed = renderer.render(state, {**trigger, feature.address: _encode(value, feature)})
                        changed |= (perturbed != reference_cache[key]).any(axis=2)
                    maps[k] += changed
                    counts[k] += 1
    finally:
        renderer.close()
    maps /= np.maximum(counts, 1)[:, None, None]
    return maps, counts, background, balls


def check_regions(features: list[Feature], maps: np.ndarray, layout: _Layout,
                  balls: list[tuple[int, int]]) -> list[dict[str, Any]]:
    """One row per feature: its region's size and box, and whether it lies where the constants say the game draws
    that variable (ball, paddle, score, lives, each brick)."""
    rows = []
    for feature, heat in zip(features, maps):
        ys, xs = np.nonzero(heat > 0)
        box = layout.expected_box(feature)
        allowed = layout.allowed(feature, balls)
        inside = "" if allowed is None else bool(ys.size) and bool(allowed[ys, xs].all())
        rows.append({"index": feature.index, "address": f"0x{feature.address:04X}", "symbol": feature.symbol,
                     "element": feature.offset, "kind": feature.kind, "label": feature.label,
                     "changed_pixels": int(ys.size),
                     "y0": int(ys.min()) if ys.size else "", "y1": int(ys.max()) + 1 if ys.size else "",
                     "x0": int(xs.min()) if xs.size else "", "x1": int(xs.max()) + 1 if xs.size else "",
                     "expected_box": "" if box is None else "{}-{} x {}-{}".format(*box),
                     "inside_expected": inside})
    return rows


def _fingerprint(paths: list[Path], settings: dict[str, Any]) -> str:
    digest = hashlib.sha1(json.dumps(settings, sort_keys=True).encode())
    for path in paths:
        digest.update(Path(path).read_bytes())
    return digest.hexdigest()


def ram_regions_cached(out_dir: str | Path = DEFAULT_REGION_DIR, states: int = 3, values_per_state: int = 2,
                       seed: int = 0) -> Path:
    """Computes the map once per ROM, spec and settings into `out_dir` (regions.npz, ram_regions.csv, .md)."""
    from gbc.profiles import BREAKOUT_SYMBOLS, get_profile

    profile = get_profile("breakout")
    rom = profile.rom_path
    spec = rom.with_suffix(".state_spec.json")
    if not spec.is_file():
        raise UserError(f"no state spec at {spec}; extract one with scripts/01_extract_state.py")
    out = Path(out_dir)
    settings = {"states": states, "values_per_state": values_per_state, "seed": seed, "conditions": CONDITIONS}
    fingerprint = _fingerprint([rom, spec, BREAKOUT_SYMBOLS], settings)
    meta = out / "regions.json"
    if meta.is_file() and json.loads(meta.read_text()).get("fingerprint") == fingerprint \
            and (out / "regions.npz").is_file():
        return out
    symbols = json.loads(Path(BREAKOUT_SYMBOLS).read_text())
    layout = _Layout(symbols)
    features = load_features(spec, symbols)
    maps, counts, background, balls = ram_regions(features, play_states(states, seed), layout, values_per_state)
    rows = check_regions(features, maps, layout, balls)
    labels, addresses = np.array([f.label for f in features]), np.array([f.address for f in features])
    atomic_write_with(out / "regions.npz", lambda tmp: np.savez_compressed(
        tmp, maps=maps, counts=counts, background=background, labels=labels, addresses=addresses))
    write_table(out / "ram_regions.csv", list(rows[0]), [list(r.values()) for r in rows])
    checked = [r for r in rows if r["inside_expected"] != ""]
    atomic_write(out / "ram_regions.md", (
        "# GBC Breakout: RAM-to-screen map\n\n"
        f"{len(rows)} features of {spec.name}; {sum(1 for r in rows if r['changed_pixels'])} change the screen. "
        f"Checked against the constants: {sum(1 for r in checked if r['inside_expected'])} of {len(checked)} "
        "regions lie where the game draws the variable.\n\n" + markdown_table(
            ["address", "label", "kind", "changed px", "box (y, x)", "expected", "inside"],
            [[r["address"], r["label"], r["kind"], r["changed_pixels"], f"{r['y0']}-{r['y1']} x {r['x0']}-{r['x1']}",
              r["expected_box"], r["inside_expected"]] for r in rows])))
    write_json(meta, {"fingerprint": fingerprint, "settings": settings, "rom_sha1": profile.sha1})
    return out


def load_ram_regions(folder: str | Path) -> dict[str, Any]:
    """What the report needs: maps, labels, the background frame, an HTML intro and table, and the env id of the
    game it maps (MAP_ENV_ID)."""
    folder = Path(folder)
    missing = [name for name in ("regions.npz", "ram_regions.csv") if not (folder / name).is_file()]
    if missing:
        raise UserError(f"{folder} holds no RAM-to-screen map (no {', '.join(missing)}): write it with "
                         f"scripts/07_probe.py --gbc-regions-dir {folder}, or pass another --gbc-regions-dir")
    data = np.load(folder / "regions.npz")
    with open(folder / "ram_regions.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    checked = [r for r in rows if r["inside_expected"] != ""]
    good = sum(1 for r in checked if r["inside_expected"] == "True")
    table = "<details><summary>Every feature</summary><table><thead><tr><th>address</th><th>label</th><th>kind" \
            "</th><th>changed px</th><th>box</th><th>expected</th><th>inside</th></tr></thead><tbody>" + "".join(
                f"<tr><td>{r['address']}</td><td>{r['label']}</td><td>{r['kind']}</td><td>{r['changed_pixels']}</td>"
                f"<td>{r['y0']}-{r['y1']} x {r['x0']}-{r['x1']}</td><td>{r['expected_box']}</td>"
                f"<td>{r['inside_expected']}</td></tr>" for r in rows) + "</tbody></table></details>"
    intro = (f"<p>{len(rows)} RAM features of the state spec; {good} of {len(checked)} regions checked against "
             "the game's constants (ball, paddle, score, lives, each brick) lie where the game draws them.</p>")
    return {"maps": data["maps"], "labels": [str(x) for x in data["labels"]], "background": data["background"],
            "html_intro": intro, "html_table": table, "rows": rows, "env_id": MAP_ENV_ID}

