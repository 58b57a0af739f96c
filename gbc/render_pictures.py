"""Pictures of memory dumps, as scripts/05_render_gbc.py writes them: every Nth dump as a PNG, a contact sheet and
summary.json; with `compare`, each PNG shows the direct render (gbc.render), PyBoy's own screen and, for an episode
recorded here, the emulated render (gbc.emulated_render) side by side, each named above it, the pixels that differ
from PyBoy's screen in magenta, and summary.json names the cause of each difference (gbc.render.CAUSES).

The dumps come from .npz files (gbc.dump.save_dumps) or from an episode of our ROM recorded from power-on
(`record_with_states`), saved beside the pictures with the emulator state before every Nth frame.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import cv2
import numpy as np

from breakout_py.errors import UserError
from breakout_py.files import atomic_write, write_json
from gbc.dump import MODELS, Recording, concatenate, load_recording, save_dumps
from gbc.emulated_render import EmulatedRenderer, record_episode
from gbc.render import (CHUNK, check_recording, contact_sheet, enlarge, mark_differences, render_recorded,
                        side_by_side, write_png)


# The compared panels' names, drawn above each panel of a PNG and of the contact sheet.
PANEL_NAMES = ("direct render", "PyBoy screen", "emulated render")
CAPTION_HEIGHT = 12


def captioned(panels: list[np.ndarray], names: Sequence[str], gap: int = 4) -> np.ndarray:
    """The panels side by side (gbc.render.side_by_side) under a strip naming each panel."""
    picture = side_by_side(panels, gap)
    strip = np.full((CAPTION_HEIGHT, picture.shape[1], 3), 32, np.uint8)
    x = 0
    for panel, name in zip(panels, names):
        cv2.putText(strip, name, (x + 2, CAPTION_HEIGHT - 3), cv2.FONT_HERSHEY_PLAIN, 0.8, (255, 255, 255), 1,
                    cv2.LINE_AA)
        x += panel.shape[1] + gap
    return np.concatenate([strip, picture], axis=0)


class RenderRequestError(UserError, ValueError):
    """Options of a render that do not go together, or a malformed --override."""


@dataclass
class RenderJob:
    """Render memory dumps, or an episode recorded from power-on, to pictures. The fields are the options of
    scripts/05_render_gbc.py."""

    dumps: list[str] = field(default_factory=list)
    """dump files (.npz from gbc.dump.save_dumps) to render"""
    record: bool = False
    """record an episode of --game from power-on instead (saved to --out-dir)"""
    game: str = "breakout"
    """--record and the emulated render: the game profile (breakout, snake, pong, ... or a .profile.json path)"""
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
    out_dir: Path = Path("artifacts/render_gbc")
    """where the PNGs, the contact sheet and summary.json go"""


def parse_overrides(items: Sequence[str]) -> dict[str | int, int]:
    """NAME=VALUE or 0xADDR=VALUE items as {name or address: value}."""
    overrides: dict[str | int, int] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise RenderRequestError(f"--override takes NAME=VALUE or 0xADDR=VALUE, got {item!r}")
        try:
            key: str | int = int(name, 0) if name[0].isdigit() else name
            overrides[key] = int(value, 0)
        except ValueError:  # int() of the text just given: nothing else runs in this block
            raise RenderRequestError(
                f"--override {item!r}: the value (and an address) must be integers like 40 or 0x28") from None
    return overrides


def check_job(job: RenderJob) -> dict[str | int, int]:
    """The job's overrides, after checking that its options go together."""
    if job.every < 1 or job.scale < 1 or job.sheet_columns < 1 or job.sheet_max < 1:
        raise RenderRequestError("--every, --scale, --sheet-columns and --sheet-max must be positive")
    if job.record == bool(job.dumps):
        raise RenderRequestError("give either --dumps FILE... or --record")
    if job.model not in MODELS:
        raise RenderRequestError(f"--model must be one of {' or '.join(MODELS)}, got {job.model!r}")
    overrides = parse_overrides(job.override)
    if overrides and not (job.record and job.compare):
        raise RenderRequestError("--override applies to the emulated render, which needs --record --compare")
    return overrides


def record_with_states(job: RenderJob, log: Callable[[str], None] = print) -> tuple[Recording, dict[int, bytes]]:
    """An episode of job.game's ROM in job.model (gbc.emulated_render.record_episode), saved to
    <out_dir>/episode_<model>_s<seed>.npz, with the emulator state before every job.every-th frame
    (<out_dir>/states/frame_<k>.state)."""
    states: dict[int, bytes] = {}

    def keep_state(k: int, pyboy) -> None:
        if k % job.every == 0:
            buffer = io.BytesIO()
            pyboy.save_state(buffer)
            states[k] = buffer.getvalue()

    out_dir = Path(job.out_dir)
    recording = record_episode(job.game, job.model, job.seed, max_play_frames=job.max_play_frames,
                               before_frame=keep_state)
    path = save_dumps(out_dir / f"episode_{job.model}_s{job.seed}.npz", recording.dumps, recording.screens,
                      recording.scanline_registers, recording.raster())
    for index, state in states.items():
        atomic_write(out_dir / "states" / f"frame_{index:06d}.state", state)
    log(f"recorded {len(recording.dumps)} frames to {path} and {len(states)} states to {out_dir / 'states'}/")
    return recording, states


def load_inputs(paths: Sequence[str]) -> Recording:
    """The dumps of several files as one recording (screens, per-line registers and raster segments only if every
    file has them)."""
    recordings = [load_recording(p) for p in paths]
    screens = [r.screens for r in recordings]
    lines = [r.scanline_registers for r in recordings]
    raster = {}
    if all(r.has_raster for r in recordings):
        raster = {name: np.concatenate([r.raster()[name] for r in recordings]) for name in recordings[0].raster()}
    return Recording(
        concatenate([r.dumps for r in recordings]),
        np.concatenate(screens) if all(s is not None for s in screens) else None,
        np.concatenate(lines) if all(s is not None for s in lines) else None,
        **raster,
    )


def render_pictures(job: RenderJob, log: Callable[[str], None] = print) -> Path:
    """Write the job's PNGs, contact sheet and summary.json to job.out_dir; returns out_dir."""
    overrides = check_job(job)
    out_dir = Path(job.out_dir)
    emulated = EmulatedRenderer(job.game) if (job.record and job.compare) else None
    try:
        if emulated is not None:
            emulated.resolve(overrides)  # a bad name or value stops here, before the recording
        states: dict[int, bytes] = {}
        if job.record:
            recording, states = record_with_states(job, log)
        else:
            recording = load_inputs(job.dumps)
        if job.compare and recording.screens is None:
            raise RenderRequestError("--compare needs PyBoy's screens: these dump files hold none (record with --record)")
        summary = _write_frames(job, recording, states, overrides, emulated, out_dir)
    finally:
        if emulated is not None:
            emulated.close()
    write_json(out_dir / "summary.json", summary, indent=1)
    log(f"wrote {summary['rendered']} PNGs to {out_dir / 'frames'}/, {out_dir / 'contact_sheet.png'} and "
        f"{out_dir / 'summary.json'}")
    return out_dir


def _write_frames(job: RenderJob, recording: Recording, states: dict[int, bytes], overrides: dict[str | int, int],
                  emulated: EmulatedRenderer | None, out_dir: Path) -> dict:
    """The PNG of every job.every-th dump and the contact sheet; returns the summary."""
    lag = emulated.frames if (overrides and emulated is not None) else 1
    chosen = [k for k in range(0, len(recording.dumps), job.every) if k + lag - 1 < len(recording.dumps)]
    shown = [k + lag - 1 for k in chosen]  # the frame each picture shows (later when the emulated render needs it)
    summary: dict = {"frames": len(recording.dumps), "rendered": len(shown), "every": job.every}
    if job.compare:
        checks = {c.index: c for c in check_recording(recording)}
        summary["check"] = {"equal": sum(checks[k].equal for k in shown), "differing": []}
    on_sheet = set(np.linspace(0, len(shown) - 1, min(job.sheet_max, len(shown))).round().astype(int).tolist())
    sheet_pictures, sheet_labels = [], []
    for start in range(0, len(shown), CHUNK):  # bounded memory for long recordings
        part = shown[start : start + CHUNK]
        rendered = render_recorded(recording, np.array(part))
        for position, (k, index, frame) in enumerate(zip(chosen[start : start + CHUNK], part, rendered), start):
            panels = [frame]
            if job.compare:
                screen = recording.screens[index]
                panels = [mark_differences(frame, screen), screen]
                check = checks[index]
                if not check.equal:
                    summary["check"]["differing"].append({"frame": index, "pixels": check.differing_pixels,
                                                          "cause": check.cause})
                if emulated is not None:
                    panels.append(mark_differences(emulated.render(states[k], overrides, lag), screen))
            picture = captioned(panels, PANEL_NAMES) if len(panels) > 1 else frame
            write_png(out_dir / "frames" / f"frame_{index:06d}.png", enlarge(picture, job.scale))
            if position in on_sheet:
                sheet_pictures.append(picture)
                sheet_labels.append(f"#{index}")
    columns = max(1, job.sheet_columns // (2 if job.compare else 1))
    write_png(out_dir / "contact_sheet.png", contact_sheet(sheet_pictures, sheet_labels, columns))
    if job.compare:
        summary["panels"] = ["direct (differences from PyBoy in magenta)", "PyBoy"] + (
            [f"emulated, overrides {list(job.override)} (differences in magenta)"] if emulated else [])
    return summary
