"""Direct render: the Game Boy (Color) picture from memory dumps, in NumPy, N dumps to N frames at once.

`render(dumps) -> (N, 144, 160, 3) uint8`, in the emulator's own colours, so that a frame can be compared byte for
byte with PyBoy's screen. It draws what PyBoy 2.8.1's scanline renderer (pyboy/core/lcd.py) draws from the same
memory: the background and window tile maps (LCDC bits 3, 4, 6; scrolling with wrap-around; the window from
(WX - 7, WY) with its own line counter), sprites (8x8 and 8x16, flips, the first 10 in OAM order on each line,
priority by X then OAM index on a DMG and by OAM index on a CGB, behind-background), DMG palettes (BGP, OBP0,
OBP1 through the emulator's 4 colours) and CGB palettes and tile attributes (palette, VRAM bank, flips,
BG-to-OAM priority, LCDC bit 0 as master priority), and a blank screen (BGP's colour 0) while the LCD is off and
in the first frame after it is switched on. The work is vectorised over the batch: tile rows are gathered as
8-pixel words for every (dump, line, tile column) at once, sprites as (dump, line, OAM entry) triples.

Where PyBoy differs from the hardware (Pan Docs), this follows PyBoy, because its screen is the reference:
- a sprite pixel hidden behind the background lets a lower-priority sprite below it show (the hardware hides both);
- on a DMG with LCDC bit 0 clear, the window still shows (with the background left of it), and sprites behind
  the background do not show where it is blank.

Timing contract (PyBoy 2.8.1): `tick()` returns at the start of a frame (LY = 0), after the VBlank in which games
write VRAM, OAM and the registers. A dump taken between ticks is the state the next frame is drawn from, so
`render(dump after tick k) == screen after tick k + 1`, unless the game changes what the PPU reads while it draws.
Mid-frame changes of SCX, SCY, WX, WY (PyBoy records them per line) can be passed as `scanline_registers`;
`check_recording` compares a recording with PyBoy's screens and names the cause of every difference (`CAUSES`:
mid-frame scrolling, the LCD switched off during the frame, ...), so that none is silently accepted.
"""

from __future__ import annotations

import dataclasses
import os
from concurrent.futures import ThreadPoolExecutor

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from breakout_py.files import atomic_write
from gbc.dump import (
    BGP,
    OBP0,
    OBP1,
    SCX,
    IO_START,
    MODELS,
    RASTER_REGISTERS,
    SCY,
    STAT,
    VRAM_BANK_SIZE,
    WINDOW_X_OFFSET,
    WX,
    WY,
    MemoryDump,
    Recording,
)
from gbc.hardware import LCDC, LCDC_ENABLE, SCREEN_HEIGHT, SCREEN_WIDTH

# LCDC bits (https://gbdev.io/pandocs/LCDC.html).
LCDC_BG_ON = 0x01  # DMG: background on; CGB: background/window master priority
LCDC_OBJ_ON = 0x02
LCDC_OBJ_TALL = 0x04  # 8x16 sprites
LCDC_BG_MAP_HIGH = 0x08  # background tile map at 0x9C00 (else 0x9800)
LCDC_TILES_8000 = 0x10  # tile data from 0x8000 with unsigned numbers (else 0x8800, signed)
LCDC_WINDOW_ON = 0x20
LCDC_WINDOW_MAP_HIGH = 0x40
# Tile maps, as offsets into a VRAM bank; bank 1 holds the CGB attributes of the same entries.
MAP_LOW = 0x1800
MAP_HIGH = 0x1C00
MAP_SIZE = 32  # tiles per row and per column
# CGB tile-map attributes and sprite attributes
# (https://gbdev.io/pandocs/Tile_Maps.html#bg-map-attributes-cgb-mode-only, https://gbdev.io/pandocs/OAM.html).
ATTR_PALETTE = 0x07
ATTR_BANK = 0x08
ATTR_DMG_PALETTE = 0x10  # sprites on a DMG: OBP1 instead of OBP0
ATTR_XFLIP = 0x20
ATTR_YFLIP = 0x40
ATTR_PRIORITY = 0x80  # BG map: above sprites; sprite: behind background colours 1-3
MAX_SPRITES_PER_LINE = 10
SPRITE_Y_OFFSET = 16
SPRITE_X_OFFSET = 8


# A pixel while the layers are composed, one byte: bits 0-1 the colour number, 2-4 the palette (CGB palette, or
# OBP1 for a DMG sprite), 5 the CGB map attribute "above sprites", 6 "no background drawn" (a DMG with LCDC bit 0
# clear: shade 0, but not a transparent colour 0 for sprites), 7 a sprite pixel.
CODE_PRIORITY = 0x20
CODE_NO_BG = 0x40
CODE_SPRITE = 0x80
# Colour codes, the indices into `colour_table`.
OBJ_CODE = 32
BLANK_CODE = 64
COLOUR_CODES = 65

_BYTE_SPREAD = np.uint64(0x0101010101010101)


def _tile_row_pixels() -> np.ndarray:
    """For each 16-bit tile row (low bit-plane byte | high byte << 8): its 8 colour numbers, leftmost first, packed
    in a uint64 (byte k = pixel k); from index 65536 on, the same rows mirrored (horizontal flip)."""
    row = np.arange(65536, dtype=np.uint32)
    lo, hi = row & 0xFF, row >> 8
    bit = 7 - np.arange(8, dtype=np.uint32)
    pixels = (((lo[:, None] >> bit) & 1) | (((hi[:, None] >> bit) & 1) << 1)).astype(np.uint8)  # (65536, 8)
    return np.concatenate([pixels, pixels[:, ::-1]]).copy().view(np.uint64)[:, 0].copy()


def _attribute_tags() -> np.ndarray:
    """CGB map attribute byte -> its palette (bits 2-4) and "above sprites" (CODE_PRIORITY) in every byte of a word."""
    attribute = np.arange(256, dtype=np.uint64)
    palette = (attribute & np.uint64(ATTR_PALETTE)) << np.uint64(2)
    tag = palette | ((attribute & np.uint64(ATTR_PRIORITY)) >> np.uint64(2))
    return tag * _BYTE_SPREAD


ROW_PIXELS = _tile_row_pixels()
FLIPPED_ROWS = 65536  # offset of the mirrored rows in ROW_PIXELS
ATTRIBUTE_TAGS = _attribute_tags()
# Tile number (map byte, + 256 for LCDC bit 4 clear) -> tile index from 0x8000: signed numbers address 0x8800-0x97FF.
TILE_INDEX = np.concatenate([np.arange(256), (np.arange(256) ^ 0x80) + 128]).astype(np.intp)


@dataclass(frozen=True)
class _Frame:
    """What the layers need of N dumps: (N,) registers, (N, 144) per-line registers, flat VRAM."""

    n: int
    lcdc: np.ndarray
    cgb: np.ndarray  # colour (CGB-mode) rendering
    scx: np.ndarray  # (N, 144), as every line was drawn
    scy: np.ndarray
    wx: np.ndarray
    wy: np.ndarray
    vram16: np.ndarray  # (N * 2 * 4096,) uint16: tile rows and map bytes of both banks, flat
    vram8: np.ndarray  # (N * 2 * 8192,) uint8, flat


def _layer(f: _Frame, rows: np.ndarray, map_base: np.ndarray, map_y: np.ndarray, scroll_x: np.ndarray) -> np.ndarray:
    """One tile-map layer (background or window) for dumps `rows` of f: pixel codes (R, 144, 160) for map rows
    `map_y` (R, 144) in 0-255 and horizontal scroll `scroll_x` (R, 144) in 0-255 (pixel x of a line shows map
    column (x + scroll_x) mod 256). Works on words of 8 pixels: (R, 144, 21) tiles per line."""
    n = len(rows)
    columns = np.arange(SCREEN_WIDTH // 8 + 1, dtype=np.intp)
    dump_base = (rows.astype(np.intp) * (2 * VRAM_BANK_SIZE))[:, None, None]
    line_start = (dump_base[:, :, 0] + map_base[:, None] + (map_y >> 3) * MAP_SIZE)[:, :, None]  # (R, 144, 1)
    map_offset = line_start + (((scroll_x >> 3)[:, :, None] + columns) & (MAP_SIZE - 1))  # (R, 144, 21)
    signed = ((f.lcdc[rows] & LCDC_TILES_8000) == 0).astype(np.intp) * 256
    tile = TILE_INDEX.take(f.vram8.take(map_offset) + signed[:, None, None])
    row = (map_y & 7)[:, :, None]
    cgb = f.cgb[rows]
    if cgb.any():
        attributes = f.vram8.take(map_offset + VRAM_BANK_SIZE)
        attributes *= cgb[:, None, None].astype(np.uint8)  # a DMG-mode picture has no attributes
        attributes = attributes.astype(np.intp)
        row = row ^ ((attributes >> 6) & 1) * 7  # vertical flip
        tile += ((attributes & ATTR_BANK) >> 3) * (VRAM_BANK_SIZE // 16)  # bank 1 = 512 tiles further on
        words = f.vram16.take(dump_base // 2 + tile * 8 + row).astype(np.intp)
        pixels = ROW_PIXELS.take(words + ((attributes & ATTR_XFLIP) != 0) * FLIPPED_ROWS)
        pixels |= ATTRIBUTE_TAGS.take(attributes)
    else:
        pixels = ROW_PIXELS.take(f.vram16.take(dump_base // 2 + tile * 8 + row))
    fine = (scroll_x & 7).astype(np.uint64) * np.uint64(8)
    if not fine.any():
        return pixels[:, :, :-1].copy().view(np.uint8).reshape(n, SCREEN_HEIGHT, SCREEN_WIDTH)
    # Align to the screen: shift each 8-pixel word by the fine scroll, taking the rest from the next tile.
    fine = fine[:, :, None]
    left, right = pixels[:, :, :-1], pixels[:, :, 1:]
    aligned = (left >> fine) | ((right << (np.uint64(63) - fine)) << np.uint64(1))  # two shifts: 64 is not a shift
    return aligned.view(np.uint8).reshape(n, SCREEN_HEIGHT, SCREEN_WIDTH)


def _background_and_window(f: _Frame) -> np.ndarray:
    lines = np.arange(SCREEN_HEIGHT, dtype=np.int32)
    bg_map = np.where(f.lcdc & LCDC_BG_MAP_HIGH, MAP_HIGH, MAP_LOW)
    codes = _layer(f, np.arange(f.n), bg_map, (lines + f.scy) & 0xFF, f.scx)
    # PyBoy's window: on from the first line with LY == WY (checked as each line starts) until the frame ends, drawn
    # on the lines where WX - 7 < 160, from x = WX - 7, with a line counter that counts the lines drawn.
    window_x = f.wx - WINDOW_X_OFFSET
    started = np.maximum.accumulate(f.wy == lines, axis=1)
    drawn = started & (window_x < SCREEN_WIDTH) & ((f.lcdc & LCDC_WINDOW_ON) != 0)[:, None]
    # A DMG with LCDC bit 0 clear draws no background on lines without the window (PyBoy draws it left of the window).
    no_bg = (~f.cgb & ((f.lcdc & LCDC_BG_ON) == 0))[:, None] & ~drawn
    if no_bg.any():
        codes[no_bg] = CODE_NO_BG
    with_window = np.flatnonzero(drawn.any(axis=1))
    if with_window.size:
        drawn = drawn[with_window]
        window_line = np.cumsum(drawn, axis=1, dtype=np.int32) - 1
        window_map = np.where(f.lcdc[with_window] & LCDC_WINDOW_MAP_HIGH, MAP_HIGH, MAP_LOW)
        x0 = window_x[with_window]
        window = _layer(f, with_window, window_map, window_line & 0xFF, (-x0) & 0xFF)
        shown = drawn[:, :, None] & (np.arange(SCREEN_WIDTH, dtype=np.int32) >= x0[:, :, None])
        codes[with_window] = np.where(shown, window, codes[with_window])
    return codes


def _sprites(f: _Frame, oam: np.ndarray, codes: np.ndarray) -> None:
    """Draws the sprites of `oam` (N, 160) into `codes` (N, 144, 160) in place."""
    oam = oam.reshape(f.n, 40, 4).astype(np.int32)
    enabled = (f.lcdc & LCDC_OBJ_ON) != 0
    height = np.where(f.lcdc & LCDC_OBJ_TALL, 16, 8)
    top = oam[:, :, 0] - SPRITE_Y_OFFSET  # (N, 40)
    lines = np.arange(SCREEN_HEIGHT)
    on_line = (lines[None, :, None] >= top[:, None, :]) & (lines[None, :, None] < (top + height[:, None])[:, None, :])
    on_line &= enabled[:, None, None]
    # The PPU takes the first 10 sprites in OAM order on each line, wherever their X.
    on_line &= np.cumsum(on_line, axis=2) <= MAX_SPRITES_PER_LINE
    n_idx, line, slot = np.nonzero(on_line)
    if n_idx.size == 0:
        return
    y_byte, x_byte, tile, attributes = oam[n_idx, slot].T
    cgb = f.cgb[n_idx]
    tall = height[n_idx] == 16
    tile = np.where(tall, tile & 0xFE, tile)
    dy = line - (y_byte - SPRITE_Y_OFFSET)
    row = np.where(attributes & ATTR_YFLIP, height[n_idx] - 1 - dy, dy)
    bank = np.where(cgb, (attributes & ATTR_BANK) >> 3, 0)
    words = f.vram16.take(n_idx * VRAM_BANK_SIZE + bank * (VRAM_BANK_SIZE // 2) + tile * 8 + row)
    pixels = ROW_PIXELS.take(words.astype(np.intp) + ((attributes & ATTR_XFLIP) != 0) * FLIPPED_ROWS)
    colour = pixels.view(np.uint8).reshape(-1, 8)  # (K, 8)
    x = (x_byte - SPRITE_X_OFFSET)[:, None] + np.arange(8)[None, :]
    k_idx, px = np.nonzero((colour != 0) & (x >= 0) & (x < SCREEN_WIDTH))
    if k_idx.size == 0:
        return
    x = x[k_idx, px]
    colour = colour[k_idx, px]
    pixel = (n_idx[k_idx] * SCREEN_HEIGHT + line[k_idx]) * SCREEN_WIDTH + x
    below = codes.reshape(-1).take(pixel)
    bg_clear = (below & (CODE_NO_BG | 0x03)) == 0  # colour 0 of a drawn background or window
    behind = (attributes[k_idx] & ATTR_PRIORITY) != 0
    cgb = cgb[k_idx]
    master = (f.lcdc[n_idx[k_idx]] & LCDC_BG_ON) != 0
    bg_above = cgb & ((below & CODE_PRIORITY) != 0)
    drawn = np.where(cgb & ~master, True, bg_clear | ~(behind | bg_above))
    k_idx, pixel, colour = k_idx[drawn], pixel[drawn], colour[drawn]
    if k_idx.size == 0:
        return
    # Of the sprites that draw a pixel, the one with priority wins: the lowest (X, OAM index) on a DMG, the lowest
    # OAM index on a CGB.
    slot_k = slot[k_idx]
    rank = np.where(cgb[drawn], slot_k, x_byte[k_idx] * 64 + slot_k)
    order = np.lexsort((rank, pixel))
    pixel, first = np.unique(pixel[order], return_index=True)
    winner = k_idx[order[first]]
    dmg_palette = (attributes[winner] & ATTR_DMG_PALETTE) >> 4  # OBP1
    palette = np.where(cgb[drawn][order[first]], attributes[winner] & ATTR_PALETTE, dmg_palette)
    codes.reshape(-1)[pixel] = CODE_SPRITE | (palette << 2) | colour[order[first]]


def _rgb555(palette_ram: np.ndarray) -> np.ndarray:
    """(N, 64) bytes -> (N, 32, 3) RGB as PyBoy converts them (each 5-bit channel shifted left by 3)."""
    word = palette_ram[:, 0::2].astype(np.uint16) | (palette_ram[:, 1::2].astype(np.uint16) << 8)
    return (np.stack([word & 0x1F, (word >> 5) & 0x1F, (word >> 10) & 0x1F], axis=-1) << 3).astype(np.uint8)


def colour_table(d: MemoryDump) -> np.ndarray:
    """(N, 65, 3) RGB for every pixel code: background 0-31, sprites 32-63, blank screen 64."""
    n = len(d)
    table = np.zeros((n, COLOUR_CODES, 3), np.uint8)
    cgb = d.cgb_mode
    table[:, :OBJ_CODE] = np.where(cgb[:, None, None], _rgb555(d.bg_palette_ram), 0)
    table[:, OBJ_CODE : 2 * OBJ_CODE] = np.where(cgb[:, None, None], _rgb555(d.obj_palette_ram), 0)
    shade = np.arange(4)
    rows = np.arange(n)[:, None]
    for base, register, colours in ((0, BGP, 0), (OBJ_CODE, OBP0, 1), (OBJ_CODE + 4, OBP1, 2)):
        shades = (d.register(register)[:, None].astype(np.int32) >> (2 * shade)) & 3  # (N, 4)
        dmg = d.dmg_colors[:, colours][rows, shades]  # (N, 4, 3)
        table[:, base : base + 4] = np.where(cgb[:, None, None], table[:, base : base + 4], dmg)
    # A blank screen is BGP's colour 0 through the emulator's background colours, on both models.
    table[:, BLANK_CODE] = d.dmg_colors[np.arange(n), 0, d.register(BGP) & 3]
    return table


SCANLINE_REGISTERS = (SCX, SCY, WX, WY)


def _line_registers(d: MemoryDump, scanline_registers: np.ndarray | None) -> list[np.ndarray]:
    """SCX, SCY, WX, WY per line, (N, 144) int32 each: the dump's, or as the emulator used them on every line."""
    if scanline_registers is None:
        return [np.repeat(d.register(r).astype(np.int32)[:, None], SCREEN_HEIGHT, axis=1) for r in SCANLINE_REGISTERS]
    lines = np.asarray(scanline_registers)
    expected = (len(d), SCREEN_HEIGHT, len(SCANLINE_REGISTERS))
    if lines.shape != expected:
        raise ValueError(f"scanline_registers must have shape {expected} (SCX, SCY, WX, WY per line), "
                         f"got {lines.shape}")
    return [lines[:, :, i].astype(np.int32) for i in range(len(SCANLINE_REGISTERS))]


def render_codes(d: MemoryDump, scanline_registers: np.ndarray | None = None) -> np.ndarray:
    """Colour codes (N, 144, 160) uint8, indices into `colour_table`: background 0-31, sprites 32-63, blank 64."""
    n = len(d)
    lcdc = d.register(LCDC).astype(np.int32)
    blank = ((lcdc & LCDC_ENABLE) == 0) | d.lcd_first_frame
    codes = np.full((n, SCREEN_HEIGHT, SCREEN_WIDTH), BLANK_CODE, np.uint8)
    drawn = np.flatnonzero(~blank)
    if drawn.size == 0:
        return codes
    every = drawn.size == n
    sub = d if every else d[drawn]
    lines = _line_registers(d, scanline_registers)
    if not every:
        lines = [r[drawn] for r in lines]
    vram = np.ascontiguousarray(sub.vram).reshape(-1)
    f = _Frame(len(sub), lcdc[drawn], sub.cgb_mode.copy(), *lines, vram.view("<u2"), vram)
    layer = _background_and_window(f)
    _sprites(f, sub.oam, layer)
    palette_and_colour = layer & 0x1F
    picture = np.where(layer & CODE_SPRITE, OBJ_CODE + palette_and_colour, palette_and_colour)
    if every:
        return picture
    codes[drawn] = picture
    return codes


# A batch of at least 2 x this many frames is drawn in chunks on several threads: NumPy's gathers and OpenCV's
# look-up release the GIL (batch 256 on 2 cores: 4,456 -> 5,294 frames/s with a training job beside it; render.md).
THREAD_CHUNK = 64
_pool: ThreadPoolExecutor | None = None


def _forget_pool() -> None:  # a forked child (an env worker) has none of the parent's threads: it makes its own
    global _pool
    _pool = None


os.register_at_fork(after_in_child=_forget_pool)


def render(dumps: MemoryDump, scanline_registers: np.ndarray | None = None) -> np.ndarray:
    """RGB frames (N, 144, 160, 3) uint8 of a batch of dumps, in the emulator's colours.

    `scanline_registers` (N, 144, 4): SCX, SCY, WX, WY as the emulator used them on each line (for games that
    change them while the frame is drawn; `gbc.dump.scanline_registers_pyboy` reads them from PyBoy); without
    it, every line uses the dump's registers. A large batch is split over one thread per CPU core."""
    global _pool
    threads = min(os.cpu_count() or 1, len(dumps) // THREAD_CHUNK)
    if threads < 2:
        return _render_chunk(dumps, scanline_registers)
    if _pool is None:
        _pool = ThreadPoolExecutor(os.cpu_count(), thread_name_prefix="gbc-render")
    chunks = np.array_split(np.arange(len(dumps)), threads)
    lines = [None if scanline_registers is None else scanline_registers[rows] for rows in chunks]
    return np.concatenate(list(_pool.map(_render_chunk, [dumps[rows] for rows in chunks], lines)))


def _render_chunk(dumps: MemoryDump, scanline_registers: np.ndarray | None) -> np.ndarray:
    codes = render_codes(dumps, scanline_registers)
    tables = np.zeros((len(dumps), 1, 256, 3), np.uint8)
    tables[:, 0, :COLOUR_CODES] = colour_table(dumps)
    frames = np.empty((len(dumps), SCREEN_HEIGHT, SCREEN_WIDTH, 3), np.uint8)
    for code, table, frame in zip(codes, tables, frames):  # OpenCV's table look-up, frame by frame: the fastest
        cv2.LUT(cv2.merge((code, code, code)), table, dst=frame)
    return frames


def render_recorded(recording: Recording, indices: np.ndarray, use_scanline_registers: bool = True) -> np.ndarray:
    """The frames of `indices` of a recording, drawn as the emulator drew them: with the per-line scroll
    registers and, where the recording has raster segments (gbc.dump.Recorder), each segment's LCDC, BGP, OBP0,
    OBP1 and CGB palettes on its lines (a dump holds only the registers at the frame's start)."""
    indices = np.asarray(indices)
    lines = recording.scanline_registers
    per_line = lines[indices] if (use_scanline_registers and lines is not None) else None
    frames = render(recording.dumps[indices], per_line)
    if not recording.has_raster:
        return frames
    starts = recording.raster_lines[indices]
    for row in np.flatnonzero((starts >= 0).any(axis=1)):
        k = int(indices[row])
        used = np.flatnonzero(starts[row] >= 0)
        bounds = [int(starts[row, i]) for i in used] + [SCREEN_HEIGHT]
        last_lcdc = recording.raster_registers[k, used[-1], RASTER_REGISTERS.index(LCDC)]
        if recording.dumps.lcd_first_frame[k] or not last_lcdc & LCDC_ENABLE:
            # A blank frame (the first after the LCD came on, or the LCD switched off during it): PyBoy paints it
            # in BGP's colour 0 as it is when line 143 is done or the LCD goes off, the last segment's.
            used, bounds = used[-1:], [0, SCREEN_HEIGHT]
        for i, start, end in zip(used, bounds[:-1], bounds[1:]):
            if start >= end:
                continue
            one = recording.dumps[np.array([k])]
            io = one.io.copy()
            io[0, np.array(RASTER_REGISTERS) - IO_START] = recording.raster_registers[k, i]
            changes = {"io": io}
            if one.model[0] == MODELS.index("CGB"):
                changes.update(bg_palette_ram=recording.raster_palettes[k, i, None, :64].copy(),
                               obj_palette_ram=recording.raster_palettes[k, i, None, 64:].copy())
            segment = render(dataclasses.replace(one, **changes), None if per_line is None else per_line[row : row + 1])
            frames[row, start:end] = segment[0, start:end]
    return frames


# --- checking against the emulator's own screen -----------------------------------------------------------------

CAUSES = {
    "mid_frame_scroll": "SCX/SCY/WX/WY changed while the frame was drawn; a per-frame render cannot show that "
    "(pass the recorded scanline registers to render)",
    "lcd_switched_off": "the LCD was switched off during the frame: PyBoy then shows a blank frame instead of the "
    "frame it drew (the next dump has the LCD off)",
    "blank_palette_changed": "the LCD is off and BGP changed during the frame: PyBoy paints the blank frame with "
    "BGP as it is at the end of the frame (the next dump's)",
    "mid_frame_palette": "the game runs code during the frame (an LCD STAT interrupt: LY=LYC or a mode) and the "
    "differing lines show the same picture in other colours: BGP/OBP0/OBP1 or CGB palette RAM changed mid-frame, "
    "where no recorded raster segment says so (a dump alone holds only the registers at the frame's start)",
    "mid_frame_lcdc": "the game runs code during the frame (an LCD STAT interrupt) and the differing lines show "
    "another picture: LCDC (window, sprites, tile map or data) changed mid-frame; a dump holds only the "
    "end-of-frame LCDC",
    "mid_frame_video_write": "VRAM or OAM written while the frame was drawn: the differing lines show the next "
    "dump's VRAM/OAM",
    "write_at_line_edge": "a register was written within a few cycles of a line's end (the end of mode 3, or on a "
    "DMG the 4 cycles after LY advances): the recording places a write by LY and STAT mode and draws it one line "
    "early or late (see gbc.dump.first_line_drawn_after)",
    "unexplained": "no known cause: a renderer difference, or VRAM/OAM/palette/LCDC writes during the frame",
}
# An LCD STAT interrupt (IE bit 1) with a source enabled in STAT (bits 3-6: HBlank, VBlank, OAM, LY=LYC) runs
# the game's code while the frame is drawn (https://gbdev.io/pandocs/STAT.html).
IE_STAT = 0x02
STAT_SOURCES = 0x78
CHUNK = 256  # dumps rendered at once when checking long recordings (bounds the memory used)


@dataclass(frozen=True)
class FrameCheck:
    """One frame of a recording compared with the emulator's screen."""

    index: int
    differing_pixels: int
    differing_rows: tuple[int, ...]
    cause: str  # "" when equal, else a key of CAUSES

    @property
    def equal(self) -> bool:
        return self.differing_pixels == 0


def check_recording(recording: Recording, use_scanline_registers: bool = True) -> list[FrameCheck]:
    """Renders every dump of a recording that has screens and compares it with the screen, naming a cause for
    each difference (CAUSES). With `use_scanline_registers` (and a recording that has them) frames are rendered
    with the registers of each line, so that mid-frame scrolling is drawn rather than reported."""
    if recording.screens is None:
        raise ValueError("the recording has no screens to compare with (record with gbc.dump.Recorder)")
    d, lines = recording.dumps, recording.scanline_registers
    checks = []
    for start in range(0, len(d), CHUNK):
        part = slice(start, start + CHUNK)
        per_line = lines[part] if (use_scanline_registers and lines is not None) else None
        frames = render_recorded(recording, np.arange(len(d))[part], use_scanline_registers)
        differs = frames != recording.screens[part]
        for offset, frame_differs in enumerate(differs):
            index = start + offset
            pixels = int(frame_differs.any(axis=2).sum())
            if pixels == 0:
                checks.append(FrameCheck(index, 0, (), ""))
                continue
            rows = tuple(np.flatnonzero(frame_differs.any(axis=(1, 2))).tolist())
            cause = _cause(recording, index, per_line is not None)
            if cause == "unexplained":
                cause = _line_edge_cause(recording, index, rows)
            if cause == "unexplained":
                cause = _video_write_cause(recording, index, list(rows), use_scanline_registers)
            if cause == "unexplained":  # a change the interrupts did not catch (e.g. the main loop's)
                cause = _raster_cause(d, index, frames[offset], recording.screens[index], list(rows))
            checks.append(FrameCheck(index, pixels, rows, cause))
    return checks


def _cause(recording: Recording, k: int, lines_used: bool) -> str:
    d = recording.dumps
    lcd_on = (d.register(LCDC) & LCDC_ENABLE) != 0
    has_next = k + 1 < len(d)
    if has_next and lcd_on[k] and not lcd_on[k + 1]:
        return "lcd_switched_off"
    if not lines_used and recording.scanline_registers is not None and lcd_on[k]:
        dump_registers = np.array([d.register(r)[k] for r in SCANLINE_REGISTERS], np.uint8)
        if (recording.scanline_registers[k] != dump_registers).any():
            return "mid_frame_scroll"
    blank = not lcd_on[k] or d.lcd_first_frame[k]
    if has_next and blank and d.register(BGP)[k + 1] != d.register(BGP)[k]:
        colour = d.dmg_colors[k + 1, 0, d.register(BGP)[k + 1] & 3]
        if (recording.screens[k] == colour).all():
            return "blank_palette_changed"
    return "unexplained"


def _line_edge_cause(recording: Recording, k: int, rows: tuple[int, ...]) -> str:
    """write_at_line_edge when every differing line is next to a raster segment's first line, else unexplained."""
    if not recording.has_raster:
        return "unexplained"
    starts = recording.raster_lines[k][recording.raster_lines[k] >= 0]
    edges = set(starts.tolist()) | set((starts - 1).tolist())
    return "write_at_line_edge" if starts.size and set(rows) <= edges else "unexplained"


def _video_write_cause(recording: Recording, k: int, rows: list[int], use_scanline_registers: bool) -> str:
    """mid_frame_video_write when the differing lines show the next dump's VRAM/OAM (the game wrote them while
    the frame was drawn, after the lines above), else unexplained."""
    if k + 1 >= len(recording.dumps):
        return "unexplained"
    d = recording.dumps
    later = d[np.array([k])]
    later = dataclasses.replace(later, vram=d.vram[k + 1 : k + 2].copy(), oam=d.oam[k + 1 : k + 2].copy())
    lines = recording.scanline_registers
    per_line = lines[k : k + 1] if (use_scanline_registers and lines is not None) else None
    drawn = render(later, per_line)[0]
    return "mid_frame_video_write" if (drawn[rows] == recording.screens[k][rows]).all() else "unexplained"


def _raster_cause(d: MemoryDump, k: int, rendered: np.ndarray, screen: np.ndarray, rows: list[int]) -> str:
    """mid_frame_palette / mid_frame_lcdc when the game has an LCD STAT interrupt running during the frame, else
    unexplained. A palette change recolours: on the differing rows, each colour of the render maps to one colour
    of the screen; anything else changed what is drawn (LCDC)."""
    raster = (int(d.ie[k]) & IE_STAT) and (int(d.register(STAT)[k]) & STAT_SOURCES)
    if not raster:
        return "unexplained"
    ours = rendered[rows].reshape(-1, rendered.shape[-1]).astype(np.int64)
    theirs = screen[rows].reshape(-1, screen.shape[-1]).astype(np.int64)
    key = lambda rgb: (rgb[:, 0] << 16) | (rgb[:, 1] << 8) | rgb[:, 2]  # noqa: E731
    pairs = np.unique(np.stack([key(ours), key(theirs)], axis=1), axis=0)
    recoloured = len(np.unique(pairs[:, 0])) == len(pairs)
    return "mid_frame_palette" if recoloured else "mid_frame_lcdc"


def summarize(checks: list[FrameCheck]) -> dict:
    """Counts: frames, equal, and differing frames by cause."""
    causes: dict[str, int] = {}
    for check in checks:
        if not check.equal:
            causes[check.cause] = causes.get(check.cause, 0) + 1
    return {"frames": len(checks), "equal": sum(c.equal for c in checks), "differing_by_cause": causes}


# --- pictures --------------------------------------------------------------------------------------------------

MARK_COLOUR = (255, 0, 255)  # magenta: no palette of our ROM uses it


def mark_differences(frame: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """A copy of `frame` (H, W, 3) with the pixels that differ from `reference` painted MARK_COLOUR."""
    out = frame.copy()
    out[(frame != reference).any(axis=-1)] = MARK_COLOUR
    return out


def enlarge(frame: np.ndarray, scale: int) -> np.ndarray:
    """Nearest-neighbour enlargement (pixels stay sharp)."""
    return np.repeat(np.repeat(frame, scale, axis=0), scale, axis=1)


def side_by_side(frames: list[np.ndarray], gap: int = 4) -> np.ndarray:
    """Frames of equal height in a row, separated by grey gaps."""
    height = frames[0].shape[0]
    spacer = np.full((height, gap, 3), 128, np.uint8)
    parts = []
    for i, frame in enumerate(frames):
        parts += [spacer, frame] if i else [frame]
    return np.concatenate(parts, axis=1)


def contact_sheet(images: list[np.ndarray], labels: list[str], columns: int = 8, gap: int = 4) -> np.ndarray:
    """Images of one size in a grid, each labelled under it."""
    if not images:
        raise ValueError("a contact sheet needs at least one image")
    height, width = images[0].shape[:2]
    label_height = 14
    rows = -(-len(images) // columns)
    cell_h, cell_w = height + label_height + gap, width + gap
    sheet = np.full((rows * cell_h + gap, columns * cell_w + gap, 3), 64, np.uint8)
    for i, (image, label) in enumerate(zip(images, labels)):
        y, x = gap + (i // columns) * cell_h, gap + (i % columns) * cell_w
        sheet[y : y + height, x : x + width] = image
        cv2.putText(sheet, label, (x, y + height + 11), cv2.FONT_HERSHEY_PLAIN, 0.8, (255, 255, 255), 1, cv2.LINE_AA)
    return sheet


def write_png(path: str | Path, rgb: np.ndarray) -> None:
    """Writes an RGB image as PNG atomically (breakout_py.files)."""
    ok, encoded = cv2.imencode(".png", cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2BGR))
    if not ok:
        raise ValueError(f"OpenCV could not encode a {rgb.dtype} {rgb.shape} image as PNG for {path}")
    atomic_write(path, encoded.tobytes())
