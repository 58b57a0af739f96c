"""Speed of the GBC renderers, one JSON line per measurement (each with the 1-minute load average).

    .venv/bin/python scripts/bench_render.py                      # batches 1 16 64 256 1024, 3 s each
    .venv/bin/python scripts/bench_render.py --batch-sizes 256 --seconds 10

Direct render (gbc.render.render): frames per second for batches of N dumps, by wall clock and by the process's
CPU time (the CPU figure is what one uncontended core gives; on a shared machine the wall figure is lower). The
dumps are the drawn frames (LCD on) of a recorded episode of our ROM (boot animation, title, play, game over),
spread over the episode and repeated to fill the batch. Target: >= TARGET_FPS frames/s at TARGET_BATCH.
Also: the time to dump a running PyBoy (gbc.dump.dump_pyboy), the emulated render per state (load a saved state,
write ball_x, run 2 frames; alone, with the RAM snapshot step 07's sweeps read their targets from, with a whole
dump), over states saved every 10 frames of the episode, taken in turn for `seconds` each.
"""

from __future__ import annotations

import io
import itertools
import time
from dataclasses import dataclass, field

import numpy as np
import tyro

from breakout_py.benchmark import emit
from breakout_py.errors import UserError, run_script
from gbc.dump import MODELS, dump_pyboy
from gbc.emulated_render import EmulatedRenderer, new_pyboy, record_episode
from gbc.hardware import LCDC, LCDC_ENABLE
from gbc.profiles import get_profile
from gbc.render import render

TARGET_FPS = 2000
TARGET_BATCH = 256


@dataclass
class Args:
    batch_sizes: list[int] = field(default_factory=lambda: [1, 16, 64, 256, 1024])
    """dumps rendered per call"""
    seconds: float = 3.0
    """wall time per direct-render measurement"""
    model: str = "CGB"
    """the hardware of the recorded episode: CGB or DMG"""
    seed: int = 0
    emulated_states: int = 20
    """states timed for the emulated render"""


def timed(call, seconds: float) -> tuple[int, float, float]:
    """Calls call() for about `seconds` after one warm-up call: (calls, wall seconds, CPU seconds)."""
    call()
    calls, wall0, cpu0 = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - wall0 < seconds:
        call()
        calls += 1
    return calls, time.perf_counter() - wall0, time.process_time() - cpu0


def main(args: Args) -> None:
    if args.model not in MODELS or args.seconds <= 0 or args.emulated_states < 1 or min(args.batch_sizes, default=0) < 1:
        raise UserError(f"need --model {' or '.join(MODELS)}, positive --seconds, --emulated-states and --batch-sizes; "
                        f"got {args}")
    states: list[bytes] = []

    def keep_state(k: int, pyboy) -> None:  # states spread over the episode, for the emulated render
        if k % 10 == 5 and len(states) < args.emulated_states:
            buffer = io.BytesIO()
            pyboy.save_state(buffer)
            states.append(buffer.getvalue())

    recording = record_episode("breakout", args.model, args.seed, before_frame=keep_state)
    dumps = recording.dumps
    # Only frames the PPU draws (LCD on, not the blank first frame), spread over the whole episode.
    drawn = np.flatnonzero(((dumps.register(LCDC) & LCDC_ENABLE) != 0) & ~dumps.lcd_first_frame)
    rates = {}
    for n in args.batch_sizes:
        batch = dumps[drawn[(np.arange(n) * 7) % len(drawn)]]
        calls, wall, cpu = timed(lambda: render(batch), args.seconds)
        rates[n] = calls * n / wall
        emit({"bench": "direct_render", "model": args.model, "batch": n, "frames_per_s": round(calls * n / wall),
              "frames_per_cpu_s": round(calls * n / cpu), "calls": calls, "episode_frames": len(dumps),
              "drawn_frames": len(drawn)})
    if TARGET_BATCH in rates:
        emit({"bench": "direct_render_target", "batch": TARGET_BATCH, "frames_per_s": round(rates[TARGET_BATCH]),
              "target": TARGET_FPS, "meets_target": rates[TARGET_BATCH] >= TARGET_FPS})

    profile = get_profile("breakout")
    pyboy = new_pyboy(profile.verify_rom(), args.model)
    pyboy.tick(200, False)
    calls, wall, cpu = timed(lambda: dump_pyboy(pyboy, profile.sha1), min(args.seconds, 2.0))
    emit({"bench": "dump_pyboy", "model": args.model, "ms_per_dump": round(1e3 * wall / calls, 3),
          "cpu_ms_per_dump": round(1e3 * cpu / calls, 3)})

    pyboy.stop(save=False)
    renderer = EmulatedRenderer("breakout")
    renderer.render(states[0], {"ball_x": 40})
    # the screen alone, with the RAM 07's sweeps read their targets from, with a whole dump; states taken in turn
    for bench, extra in (("emulated_render", {}), ("emulated_render_with_ram", {"with_ram": True}),
                         ("emulated_render_with_dump", {"with_dump": True})):
        turn = itertools.count(1)

        def emulate() -> None:
            k = next(turn)
            renderer.run(states[k % len(states)], {"ball_x": 16 + 4 * (k % 20)}, **{"with_dump": False, **extra})

        calls, wall, cpu = timed(emulate, args.seconds)
        emit({"bench": bench, "model": args.model, "states": len(states), "renders": calls,
              "ms_per_state": round(1e3 * wall / calls, 2), "cpu_ms_per_state": round(1e3 * cpu / calls, 2),
              "frames_run_per_state": renderer.frames})
    renderer.close()


if __name__ == "__main__":
    run_script(lambda: main(tyro.cli(Args)))
