"""Render Game Boy memory dumps to pictures: the frame a player would see.

    .venv/bin/python scripts/05_render_gbc.py --dumps my_dumps.npz               # every dump of the files
    .venv/bin/python scripts/05_render_gbc.py --record --every 10                # record an episode, every 10th frame
    .venv/bin/python scripts/05_render_gbc.py --record --compare --override ball_x=40 --every 20

--dumps: .npz files written by gbc.dump.save_dumps (GameBoy.dump(), a Recorder, or this script's --record).
--record: plays our ROM from power-on (boot animation, title, a game of random moves until game over, back to the
title) in --model and saves it as <out-dir>/episode_<model>_s<seed>.npz (dumps, PyBoy's screens, per-line
registers) plus the emulator state before every --every-th frame (<out-dir>/states/).

Writes to --out-dir: frames/frame_<index>.png (every --every-th dump, enlarged --scale times), contact_sheet.png
and summary.json. With --compare, each PNG shows the direct render, PyBoy's own screen and (recorded episodes only)
the emulated render side by side, the pixels that differ from PyBoy's screen in magenta; summary.json lists the
differing pixels of each frame and their cause (gbc.render.CAUSES). --override NAME=VALUE (or 0xADDR=VALUE)
writes values into the saved state before the emulated render (the frame shown is SCREEN_LAG_FRAMES later).
"""

from __future__ import annotations

import io
import json
import os
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import tyro

from gbc.dump import DumpError, Recording, concatenate, load_recording, save_dumps
from gbc.emulated_render import SCREEN_LAG_FRAMES, EmulatedRenderer, OverrideError, record_episode
from gbc.profiles import ProfileError
from gbc.render import (
    CHUNK,
    check_recording,
    contact_sheet,
    enlarge,
    mark_differences,
    render,
    side_by_side,
    write_png,
)


@dataclass
class Args:
    dumps: list[str] = field(default_factory=list)
    """dump files (.npz from gbc.dump.save_dumps) to render"""
    record: bool = False
    """record an episode of our ROM from power-on instead (saved to --out-dir)"""
    model: str = "CGB"
    """--record: the emulated hardware, CGB or DMG"""
    seed: int = 0
    """--record: seeds the game and the random moves"""
    max_play_frames: int = 3000
    """--record: stop the game after this many frames of play if it is not over by then"""
    every: int = 1
    """render every Nth dump (recorded episodes: also save the emulator state of every Nth frame)"""
    compare: bool = False
    """show the direct render beside PyBoy's screen (and the emulated render) with differing pixels marked"""
    override: list[str] = field(default_factory=list)
    """--compare on a recorded episode: NAME=VALUE or 0xADDR=VALUE written before the emulated render"""
    scale: int = 2
    """enlargement of the PNGs (the contact sheet uses 1)"""
    sheet_columns: int = 8
    """thumbnails per row of the contact sheet"""
    sheet_max: int = 64
    """at most this many thumbnails on the contact sheet, evenly spread over the rendered frames"""
    out_dir: str = "artifacts/render_gbc"
    """where the PNGs, the contact sheet and summary.json go"""


class ScriptError(Exception):
    """A user error: one line, exit code 2."""


def parse_overrides(items: list[str]) -> dict[str | int, int]:
    overrides: dict[str | int, int] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise ScriptError(f"--override takes NAME=VALUE or 0xADDR=VALUE, got {item!r}")
        try:
            key: str | int = int(name, 0) if name[0].isdigit() else name
            overrides[key] = int(value, 0)
        except ValueError:
            raise ScriptError(f"--override {item!r}: the value (and an address) must be integers like 40 or 0x28")
    return overrides


def record_with_states(args: Args, out_dir: Path) -> tuple[Recording, dict[int, bytes]]:
    """An episode of our ROM in args.model (gbc.emulated_render.record_episode), with the emulator state before
    every args.every-th frame."""
    states: dict[int, bytes] = {}

    def keep_state(k: int, pyboy) -> None:
        if k % args.every == 0:
            buffer = io.BytesIO()
            pyboy.save_state(buffer)
            states[k] = buffer.getvalue()

    recording = record_episode("breakout", args.model, args.seed, max_play_frames=args.max_play_frames,
                               before_frame=keep_state)
    path = save_dumps(out_dir / f"episode_{args.model}_s{args.seed}.npz", recording.dumps, recording.screens,
                      recording.scanline_registers)
    for index, state in states.items():
        _write_bytes(out_dir / "states" / f"frame_{index:06d}.state", state)
    print(f"05: recorded {len(recording.dumps)} frames to {path} and {len(states)} states to {out_dir / 'states'}/")
    return recording, states


def _write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def load_inputs(paths: list[str]) -> Recording:
    recordings = [load_recording(p) for p in paths]
    screens = [r.screens for r in recordings]
    lines = [r.scanline_registers for r in recordings]
    return Recording(
        concatenate([r.dumps for r in recordings]),
        np.concatenate(screens) if all(s is not None for s in screens) else None,
        np.concatenate(lines) if all(s is not None for s in lines) else None,
    )


def main(args: Args) -> Path:
    if args.every < 1 or args.scale < 1 or args.sheet_columns < 1 or args.sheet_max < 1:
        raise ScriptError("--every, --scale, --sheet-columns and --sheet-max must be positive")
    if args.record == bool(args.dumps):
        raise ScriptError("give either --dumps FILE... or --record")
    if args.model not in ("CGB", "DMG"):
        raise ScriptError(f"--model must be CGB or DMG, got {args.model!r}")
    overrides = parse_overrides(args.override)
    if overrides and not (args.record and args.compare):
        raise ScriptError("--override applies to the emulated render, which needs --record --compare")
    emulated = EmulatedRenderer("breakout") if (args.record and args.compare) else None
    if emulated is not None:
        emulated.resolve(overrides)  # a bad name or value stops here, before the recording
    out_dir = Path(args.out_dir)
    states: dict[int, bytes] = {}
    if args.record:
        recording, states = record_with_states(args, out_dir)
    else:
        recording = load_inputs(args.dumps)
    if args.compare and recording.screens is None:
        raise ScriptError("--compare needs PyBoy's screens: these dump files hold none (record with --record)")

    lag = SCREEN_LAG_FRAMES if overrides else 1
    chosen = [k for k in range(0, len(recording.dumps), args.every) if k + lag - 1 < len(recording.dumps)]
    shown = [k + lag - 1 for k in chosen]  # the frame each picture shows (later when the emulated render needs it)
    summary: dict = {"frames": len(recording.dumps), "rendered": len(shown), "every": args.every}
    if args.compare:
        checks = {c.index: c for c in check_recording(recording)}
        summary["check"] = {"equal": sum(checks[k].equal for k in shown), "differing": []}
    lines = recording.scanline_registers
    on_sheet = set(np.linspace(0, len(shown) - 1, min(args.sheet_max, len(shown))).round().astype(int).tolist())
    sheet_pictures, sheet_labels = [], []
    for start in range(0, len(shown), CHUNK):  # bounded memory for long recordings
        part = shown[start : start + CHUNK]
        rendered = render(recording.dumps[np.array(part)], None if lines is None else lines[part])
        for position, (k, index, frame) in enumerate(zip(chosen[start : start + CHUNK], part, rendered), start):
            panels = [frame]
            if args.compare:
                screen = recording.screens[index]
                panels = [mark_differences(frame, screen), screen]
                check = checks[index]
                if not check.equal:
                    summary["check"]["differing"].append({"frame": index, "pixels": check.differing_pixels,
                                                          "cause": check.cause})
                if emulated is not None:
                    panels.append(mark_differences(emulated.render(states[k], overrides, lag), screen))
            picture = side_by_side(panels) if len(panels) > 1 else frame
            write_png(out_dir / "frames" / f"frame_{index:06d}.png", enlarge(picture, args.scale))
            if position in on_sheet:
                sheet_pictures.append(picture)
                sheet_labels.append(f"#{index}")
    columns = max(1, args.sheet_columns // (2 if args.compare else 1))
    write_png(out_dir / "contact_sheet.png", contact_sheet(sheet_pictures, sheet_labels, columns))
    if args.compare:
        summary["panels"] = ["direct (differences from PyBoy in magenta)", "PyBoy"] + (
            [f"emulated, overrides {args.override} (differences in magenta)"] if emulated else [])
    _write_bytes(out_dir / "summary.json", json.dumps(summary, indent=1).encode())
    if emulated is not None:
        emulated.close()
    print(f"05: wrote {len(shown)} PNGs to {out_dir / 'frames'}/, {out_dir / 'contact_sheet.png'} and "
          f"{out_dir / 'summary.json'}")
    return out_dir


if __name__ == "__main__":
    try:
        main(tyro.cli(Args))
    except (ScriptError, DumpError, OverrideError, ProfileError) as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
