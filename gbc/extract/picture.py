"""A picture of the extractor's decisions: the RAM as a grid, each byte coloured by what was decided.

Top: every byte of the observation, 128 per row. Bottom: the 32-byte rows that hold any changing byte, large (CGB
WRAM banks' rows too, labelled bank:address), with the names of variables (from a symbols file, when the caller
has one) written on their first byte.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from breakout_py.files import atomic_write_with
from gbc.extract.core import DROP_REASONS, Extraction

COLOURS = {
    "kept": "#2e9e44",
    "constant": "#e4e4e4",
    "oam_dma_source": "#f28e2b",
    "oam_page_select": "#ffbb78",
    "vram_buffer": "#d62728",
    "stack": "#8c6bb1",
    "frame_counter": "#1f77b4",
    "input": "#17becf",
    "after_game_over": "#9edae5",
    "duplicate": "#bcbd22",
    "overwritten_before_read": "#7f7f7f",
}
LABELS = {
    "kept": "kept (state)", "constant": "constant", "oam_dma_source": "OAM DMA source (screen)",
    "oam_page_select": "OAM page select (screen)", "vram_buffer": "VRAM buffer (screen)", "stack": "stack (dead, live)",
    "frame_counter": "frame counter", "input": "input mirror",
    "after_game_over": "changes after game over (runtime)", "duplicate": "copy of a kept byte",
    "overwritten_before_read": "overwritten before read (scratch)",
}
OVERVIEW_COLUMNS = 128
DETAIL_COLUMNS = 32


def draw_decisions(extraction: Extraction, path: Path | str, *, title: str,
                   names: dict[int, str] | None = None) -> Path:
    """Write the PNG to `path` (atomically). `names`: index (of the observation, or banked) -> variable name,
    drawn on the detail rows."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch, Rectangle

    order = ["kept", *DROP_REASONS]
    code = np.array([order.index(extraction.decision(i)) for i in range(extraction.size)])
    cmap = ListedColormap([COLOURS[k] for k in order])
    addresses = extraction.addresses
    names = names or {}

    observed = extraction.observation_size or extraction.size
    overview_rows = -(-observed // OVERVIEW_COLUMNS)
    grid = np.full(overview_rows * OVERVIEW_COLUMNS, np.nan)
    grid[:observed] = code[:observed]
    row_starts = np.arange(0, extraction.size, DETAIL_COLUMNS)
    busy = [s for s in row_starts if (code[s : s + DETAIL_COLUMNS] != order.index("constant")).any()]

    detail_height = 0.95 * max(1, len(busy))
    fig = plt.figure(figsize=(15, 4.5 + detail_height + 1.2))
    top = fig.add_axes((0.07, 1 - 4.0 / (4.5 + detail_height + 1.2), 0.9, 3.2 / (4.5 + detail_height + 1.2)))
    top.imshow(grid.reshape(overview_rows, OVERVIEW_COLUMNS), cmap=cmap, vmin=-0.5, vmax=len(order) - 0.5,
               aspect="auto", interpolation="nearest")
    ticks = np.arange(0, overview_rows, max(1, overview_rows // 16))
    top.set_yticks(ticks, [f"{int(addresses[min(t * OVERVIEW_COLUMNS, observed - 1)]):#06x}" for t in ticks],
                   fontsize=7)
    top.xaxis.tick_top()
    top.set_xticks([0, 32, 64, 96, 127], ["+0", "+32", "+64", "+96", "+127"], fontsize=7)
    top.set_title(title, fontsize=10, pad=14)

    bottom_height = detail_height / (4.5 + detail_height + 1.2)
    bottom = fig.add_axes((0.07, 0.03, 0.9, bottom_height))
    detail = np.full((max(1, len(busy)), DETAIL_COLUMNS), np.nan)
    for r, start in enumerate(busy):
        chunk = code[start : start + DETAIL_COLUMNS]
        detail[r, : len(chunk)] = chunk
    bottom.imshow(detail, cmap=cmap, vmin=-0.5, vmax=len(order) - 0.5, aspect="auto", interpolation="nearest")
    bottom.set_yticks(range(len(busy)), [extraction.label(s) for s in busy], fontsize=7)
    bottom.set_xticks(range(DETAIL_COLUMNS), [f"{k:X}" for k in range(DETAIL_COLUMNS)], fontsize=6)
    bottom.set_xticks(np.arange(-0.5, DETAIL_COLUMNS, 1), minor=True)
    bottom.set_yticks(np.arange(-0.5, len(busy), 1), minor=True)
    bottom.grid(which="minor", color="white", linewidth=0.6)
    bottom.tick_params(which="minor", length=0)
    for r, start in enumerate(busy):
        for k in range(DETAIL_COLUMNS):
            index = start + k
            if index >= extraction.size:
                break
            name = names.get(index)
            if name:
                bottom.text(k, r + 0.45, name, rotation=90, fontsize=6.5, va="center", ha="left",
                            rotation_mode="anchor", clip_on=True)
            stat = extraction.stats.get(index)
            if stat is not None and "timer" in stat.flags:
                bottom.text(k + 0.3, r - 0.3, "T", fontsize=6, ha="center", va="center", color="white")
    for group in extraction.groups:
        if group["kind"] != "word":
            continue
        first = int(np.flatnonzero(addresses == int(group["addresses"][0], 16))[0])
        row, column = first // DETAIL_COLUMNS, first % DETAIL_COLUMNS
        if row * DETAIL_COLUMNS in busy and column + 1 < DETAIL_COLUMNS:
            r = busy.index(row * DETAIL_COLUMNS)
            bottom.add_patch(Rectangle((column - 0.5, r - 0.5), 2, 1, fill=False, edgecolor="black", linewidth=1.5))
    counts = {k: int((code == order.index(k)).sum()) for k in order}
    handles = [Patch(color=COLOURS[k], label=f"{LABELS[k]}: {counts[k]}") for k in order]
    fig.legend(handles=handles, loc="upper center", ncol=len(order), fontsize=8, frameon=False,
               bbox_to_anchor=(0.5, 1 - 4.0 / (4.5 + detail_height + 1.2) - 0.005))
    bottom.set_title("rows of 32 bytes with any changing byte; black frame: 16-bit value, T: timer"
                     + (" (names: symbols file)" if names else ""),
                     fontsize=9)
    try:
        return atomic_write_with(path, lambda tmp: fig.savefig(tmp, dpi=90))
    finally:
        plt.close(fig)
