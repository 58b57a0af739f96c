"""Memory dumps: everything the Game Boy's picture depends on, as NumPy arrays, in one `.npz` layout.

A `MemoryDump` is a batch of N >= 1 dumps; every field has the batch as its first axis (one dump is N = 1).

| field | shape (per dump) | what |
|---|---|---|
| `vram` | (2, 8192) uint8 | VRAM 0x8000-0x9FFF, bank 0 then bank 1 (bank 1 is zeros on a DMG) |
| `oam` | (160,) uint8 | OAM 0xFE00-0xFE9F: 40 sprites of (y + 16, x + 8, tile, attributes) |
| `wram` | (8, 4096) uint8 | WRAM bank 0 (0xC000) then banks 1-7 (0xD000, chosen by SVBK); a DMG has banks 0-1 only |
| `hram` | (127,) uint8 | HRAM 0xFF80-0xFFFE |
| `io` | (128,) uint8 | I/O registers 0xFF00-0xFF7F as the CPU reads them (LCDC at 0x40, ... SVBK at 0x70) |
| `ie` | () uint8 | the interrupt-enable register 0xFFFF |
| `bg_palette_ram`, `obj_palette_ram` | (64,) uint8 | CGB palette RAM (BCPD / OCPD): 8 palettes x 4 colours x 2 bytes, little-endian RGB555; zeros on a DMG |
| `model` | () uint8 | the hardware: 0 DMG, 1 CGB (`MODELS`) |
| `cgb_mode` | () bool | the PPU draws in colour (CGB hardware running a CGB-aware program) |
| `lcd_first_frame` | () bool | the LCD was switched on during the frame before: the next frame is blank (Pan Docs, LCDC.7) |
| `dmg_colors` | (3, 4, 3) uint8 | the emulator's RGB for the 4 shades of BGP, OBP0 and OBP1 (PyBoy's configurable DMG colours) |
| `frame` | () int64 | the emulator's frame counter when dumped (-1: unknown) |
| `rom_sha1` | () str | SHA-1 of the ROM the emulator ran ("" when unknown, e.g. a hand-made dump) |

A file (`save_dumps`, `load_recording`/`load_dumps`) also holds `format` (FORMAT_NAME) and `version`
(FORMAT_VERSION) and, optionally, the emulator's own output for each dump (`Recording`): `screen` (N, 144, 160, 3)
uint8, the frame drawn from the dump (see `gbc.render` for the timing contract), and `scanline_registers`
(N, 144, 4) uint8, SCX, SCY, WX, WY as that frame's lines were drawn. Files are written atomically; loading
checks every field and names what is wrong.

Dumps come from a running PyBoy (`dump_pyboy`, `GameBoy.dump()`, `Recorder`) or are made by hand
(`empty_dumps`, then set the arrays); `show_in_pyboy` writes one back into a PyBoy.
"""

from __future__ import annotations

import gc
import zipfile
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Sequence

import numpy as np

from breakout_py.errors import UserError
from breakout_py.files import atomic_path
from gbc.hardware import (
    HRAM_END,
    HRAM_START,
    LCDC,
    LCDC_ENABLE,
    OAM_SIZE,
    OAM_START,
    SCREEN_HEIGHT,
    SCREEN_WIDTH,
    SVBK,
    VRAM_BANK_SIZE,
    VRAM_START,
    WRAM_BANK_SIZE,
    WRAM_START,
)
from gbc.sm83 import register_writes

# Memory regions and PPU registers (Pan Docs: https://gbdev.io/pandocs/Memory_Map.html,
# https://gbdev.io/pandocs/Hardware_Reg_List.html).
VRAM_BANKS = 2
IO_START = 0xFF00
IO_SIZE = 0x80
IE = 0xFFFF
WRAM_BANKS = 8  # CGB; a DMG has banks 0 and 1
HRAM_SIZE = HRAM_END - HRAM_START
STAT = 0xFF41
SCY = 0xFF42
SCX = 0xFF43
LY = 0xFF44
BGP = 0xFF47
OBP0 = 0xFF48
OBP1 = 0xFF49
WY = 0xFF4A
WX = 0xFF4B
# The window's left edge is at WX - 7 (https://gbdev.io/pandocs/Scrolling.html#ff4aff4b--wy-wx-window-y-position-x-position-plus-7).
WINDOW_X_OFFSET = 7
VBK = 0xFF4F  # CGB VRAM bank select (https://gbdev.io/pandocs/CGB_Registers.html#ff4f--vbk-cgb-mode-only-vram-bank)
BCPS = 0xFF68  # CGB background palette index (https://gbdev.io/pandocs/Palettes.html#lcd-color-palettes-cgb-only)
BCPD = 0xFF69  # CGB background palette data at that index
OCPS = 0xFF6A  # CGB object palette index
OCPD = 0xFF6B  # CGB object palette data
PALETTE_RAM_SIZE = 64  # 8 palettes x 4 colours x 2 bytes
PALETTE_AUTO_INCREMENT = 0x80  # BCPS/OCPS bit 7: the index advances after each data write
PALETTE_INDEX_READ_BIT = 0x40  # BCPS/OCPS read back with bit 6 set (PyBoy 2.8.1, as the hardware)
STAT_MODE_MASK = 0x03

MODELS = ("DMG", "CGB")
FORMAT_NAME = "gbc-memory-dump"
FORMAT_VERSION = 1
NPZ_MAGIC = b"PK\x03\x04"  # every .npz is a zip archive


class DumpError(UserError, ValueError):
    """A dump that is malformed, incomplete or of the wrong model; the message names the problem and the fix."""


@dataclass(frozen=True)
class _Field:
    shape: tuple[int, ...]
    dtype: str


# Per-dump shape and dtype of every field (the batch axis comes first in the arrays).
FIELDS: dict[str, _Field] = {
    "vram": _Field((VRAM_BANKS, VRAM_BANK_SIZE), "uint8"),
    "oam": _Field((OAM_SIZE,), "uint8"),
    "wram": _Field((WRAM_BANKS, WRAM_BANK_SIZE), "uint8"),
    "hram": _Field((HRAM_SIZE,), "uint8"),
    "io": _Field((IO_SIZE,), "uint8"),
    "ie": _Field((), "uint8"),
    "bg_palette_ram": _Field((PALETTE_RAM_SIZE,), "uint8"),
    "obj_palette_ram": _Field((PALETTE_RAM_SIZE,), "uint8"),
    "model": _Field((), "uint8"),
    "cgb_mode": _Field((), "bool"),
    "lcd_first_frame": _Field((), "bool"),
    "dmg_colors": _Field((3, 4, 3), "uint8"),
    "frame": _Field((), "int64"),
    "rom_sha1": _Field((), "str"),
}
SCREEN_SHAPE = (SCREEN_HEIGHT, SCREEN_WIDTH, 3)
SCANLINE_SHAPE = (SCREEN_HEIGHT, 4)  # SCX, SCY, WX, WY per line
# Raster segments: what the game's code changed while a frame was drawn (`Recorder`). Segment i
# starts on line `raster_lines[i]` (-1: unused) with LCDC, BGP, OBP0, OBP1 = `raster_registers[i]` and the CGB
# palette RAM (background then objects) = `raster_palettes[i]`; lines above the first segment use the dump's.
RASTER_SEGMENTS = 8
RASTER_REGISTERS = (0xFF40, 0xFF47, 0xFF48, 0xFF49)  # LCDC, BGP, OBP0, OBP1
RASTER_SHAPES = {"raster_lines": ((RASTER_SEGMENTS,), np.int16),
                 "raster_registers": ((RASTER_SEGMENTS, len(RASTER_REGISTERS)), np.uint8),
                 "raster_palettes": ((RASTER_SEGMENTS, 2 * 64), np.uint8)}


@dataclass
class MemoryDump:
    """A batch of N memory dumps (see the module docstring for each field). Index it to pick dumps."""

    vram: np.ndarray
    oam: np.ndarray
    wram: np.ndarray
    hram: np.ndarray
    io: np.ndarray
    ie: np.ndarray
    bg_palette_ram: np.ndarray
    obj_palette_ram: np.ndarray
    model: np.ndarray
    cgb_mode: np.ndarray
    lcd_first_frame: np.ndarray
    dmg_colors: np.ndarray
    frame: np.ndarray
    rom_sha1: np.ndarray

    def __post_init__(self):
        validate(self)

    def __len__(self) -> int:
        return len(self.model)

    def __getitem__(self, index) -> MemoryDump:
        """Dumps by integer, slice, index array or mask; always a batch (an integer gives N = 1)."""
        if isinstance(index, (int, np.integer)):
            index = slice(int(index), int(index) + 1 or None)
        return MemoryDump(**{f.name: getattr(self, f.name)[index] for f in fields(self)})

    def register(self, address: int) -> np.ndarray:
        """The I/O register at `address` (0xFF00-0xFF7F) of every dump, (N,) uint8."""
        if not IO_START <= address < IO_START + IO_SIZE:
            raise DumpError(f"{address:#06x} is not an I/O register (0xFF00-0xFF7F)")
        return self.io[:, address - IO_START]

    def read(self, address: int, size: int = 1) -> np.ndarray:
        """`size` bytes at `address` of every dump as the CPU would read them (WRAM with the dump's SVBK, HRAM,
        VRAM with VBK, OAM or I/O), (N, size) uint8."""
        out = np.empty((len(self), size), np.uint8)
        for i, addr in enumerate(range(address, address + size)):
            out[:, i] = self._read_byte(addr)
        return out

    def _read_byte(self, addr: int) -> np.ndarray:
        if WRAM_START <= addr < WRAM_START + WRAM_BANK_SIZE:
            return self.wram[:, 0, addr - WRAM_START]
        if WRAM_START + WRAM_BANK_SIZE <= addr < WRAM_START + 2 * WRAM_BANK_SIZE:
            bank = np.where(self.model == MODELS.index("CGB"), self.register(SVBK) & 0x07, 1)
            bank = np.maximum(bank, 1)  # SVBK 0 selects bank 1
            return self.wram[np.arange(len(self)), bank, addr - WRAM_START - WRAM_BANK_SIZE]
        if HRAM_START <= addr < HRAM_END:
            return self.hram[:, addr - HRAM_START]
        if VRAM_START <= addr < VRAM_START + VRAM_BANK_SIZE:
            bank = np.where(self.model == MODELS.index("CGB"), self.register(VBK) & 1, 0)
            return self.vram[np.arange(len(self)), bank, addr - VRAM_START]
        if OAM_START <= addr < OAM_START + OAM_SIZE:
            return self.oam[:, addr - OAM_START]
        if IO_START <= addr < IO_START + IO_SIZE:
            return self.register(addr)
        if addr == IE:
            return self.ie
        raise DumpError(f"address {addr:#06x} is not in a dumped region (VRAM, WRAM, OAM, I/O, HRAM, IE)")


def empty_dumps(n: int = 1, model: str = "CGB", cgb_mode: bool | None = None) -> MemoryDump:
    """N all-zero dumps of `model` (LCD off); a start for hand-made pictures. dmg_colors are PyBoy's defaults."""
    if model not in MODELS:
        raise DumpError(f"model must be one of {MODELS}, got {model!r}")
    cgb = model == "CGB"
    arrays = {}
    for name, spec in FIELDS.items():
        dtype = "<U40" if spec.dtype == "str" else spec.dtype
        arrays[name] = np.zeros((n, *spec.shape), dtype)
    arrays["model"][:] = MODELS.index(model)
    arrays["cgb_mode"][:] = cgb if cgb_mode is None else cgb_mode
    arrays["dmg_colors"][:] = pyboy_default_colors(cgb)
    arrays["frame"][:] = -1
    return MemoryDump(**arrays)


def concatenate(dumps: Sequence[MemoryDump]) -> MemoryDump:
    """One batch from several."""
    if not dumps:
        raise DumpError("concatenate needs at least one dump")
    return MemoryDump(**{f.name: np.concatenate([getattr(d, f.name) for d in dumps]) for f in fields(MemoryDump)})


# --- validation -----------------------------------------------------------------------------------------------


def validate(dump: MemoryDump, where: str = "dump") -> None:
    """Raises DumpError naming the first field that is missing, of the wrong size or type, or inconsistent."""
    arrays = {f.name: getattr(dump, f.name, None) for f in fields(MemoryDump)}
    _check_arrays(arrays, where)


def _check_arrays(arrays: dict, where: str) -> int:
    missing = [name for name in FIELDS if arrays.get(name) is None]
    if missing:
        raise DumpError(
            f"{where} lacks the regions {missing}; a dump holds {list(FIELDS)} (see gbc.dump). "
            "Write dumps with gbc.dump.dump_pyboy / GameBoy.dump() and gbc.dump.save_dumps"
        )
    n = None
    for name, spec in FIELDS.items():
        array = np.asarray(arrays[name])
        if array.ndim != len(spec.shape) + 1 or array.shape[1:] != spec.shape:
            expected = str((("N",) + spec.shape)).replace("'", "")
            raise DumpError(
                f"{where}: region {name!r} has shape {array.shape}, expected {expected} for a batch of N dumps; "
                f"it is not a dump of this format ({FORMAT_NAME} v{FORMAT_VERSION}) or it was truncated"
            )
        kind_ok = array.dtype.kind == "U" if spec.dtype == "str" else array.dtype == np.dtype(spec.dtype)
        if not kind_ok:
            raise DumpError(f"{where}: region {name!r} has dtype {array.dtype}, expected {spec.dtype}")
        if n is None:
            n = array.shape[0]
        elif array.shape[0] != n:
            raise DumpError(f"{where}: region {name!r} holds {array.shape[0]} dumps but 'vram' holds {n}")
    if n == 0:
        raise DumpError(f"{where} holds no dumps")
    model = np.asarray(arrays["model"])
    bad = np.flatnonzero(model >= len(MODELS))
    if bad.size:
        raise DumpError(f"{where}: dump {bad[0]} has model {model[bad[0]]}; models are {dict(enumerate(MODELS))}")
    colour_on_dmg = np.flatnonzero(np.asarray(arrays["cgb_mode"]) & (model == MODELS.index("DMG")))
    if colour_on_dmg.size:
        raise DumpError(f"{where}: dump {colour_on_dmg[0]} is a DMG dump with cgb_mode set; only a CGB draws in colour")
    return n


# --- files -------------------------------------------------------------------------------------------------


@dataclass
class Recording:
    """Dumps with, optionally, the emulator's own output for each: `screens` (N, 144, 160, 3) uint8, the screen
    drawn from the dump (after the next tick), and `scanline_registers` (N, 144, 4) uint8, SCX, SCY, WX, WY as the
    PPU used them on each line of that screen."""

    dumps: MemoryDump
    screens: np.ndarray | None = None
    scanline_registers: np.ndarray | None = None
    raster_lines: np.ndarray | None = None
    raster_registers: np.ndarray | None = None
    raster_palettes: np.ndarray | None = None

    def __post_init__(self):
        n = len(self.dumps)
        for name, shape in (("screens", SCREEN_SHAPE), ("scanline_registers", SCANLINE_SHAPE)):
            value = getattr(self, name)
            if value is not None and (value.shape != (n, *shape) or value.dtype != np.uint8):
                raise DumpError(f"{name} must be uint8 {(n, *shape)} for {n} dumps, got {value.dtype} {value.shape}")
        given = [name for name in RASTER_SHAPES if getattr(self, name) is not None]
        if given and len(given) != len(RASTER_SHAPES):
            raise DumpError(f"raster segments need all of {list(RASTER_SHAPES)}, got only {given}")
        for name in given:
            shape, dtype = RASTER_SHAPES[name]
            value = getattr(self, name)
            if value.shape != (n, *shape) or value.dtype != dtype:
                raise DumpError(f"{name} must be {np.dtype(dtype)} {(n, *shape)} for {n} dumps, got {value.dtype} "
                                f"{value.shape}")

    @property
    def has_raster(self) -> bool:
        return self.raster_lines is not None

    def raster(self) -> dict[str, np.ndarray]:
        """The raster arrays by name (empty without them)."""
        return {name: getattr(self, name) for name in RASTER_SHAPES if getattr(self, name) is not None}


def save_dumps(
    path: str | Path,
    dumps: MemoryDump,
    screens: np.ndarray | None = None,
    scanline_registers: np.ndarray | None = None,
    raster: dict[str, np.ndarray] | None = None,
) -> Path:
    """Writes a batch, and optionally the emulator's screens, per-line registers and raster segments (see
    `Recording`), to one compressed .npz, atomically."""
    path = Path(path)
    if path.suffix != ".npz":
        raise DumpError(f"dump files end in .npz, got {path}")
    validate(dumps)
    Recording(dumps, screens, scanline_registers, **(raster or {}))  # checks the shapes
    arrays = {f.name: getattr(dumps, f.name) for f in fields(MemoryDump)}
    for name, value in (("screen", screens), ("scanline_registers", scanline_registers), *(raster or {}).items()):
        if value is not None:
            arrays[name] = value
    with atomic_path(path) as tmp:
        np.savez_compressed(tmp, format=np.array(FORMAT_NAME), version=np.array(FORMAT_VERSION), **arrays)
    return path


def load_recording(path: str | Path, *, model: str | None = None, rom_sha1: str | None = None) -> Recording:
    """Dumps (and the screens and per-line registers, where the file has them) from a file written by save_dumps.
    `model` ("DMG"/"CGB") and `rom_sha1`, when given, must match every dump."""
    path = Path(path)
    if not path.is_file():
        raise DumpError(f"dump file {path} does not exist")
    with open(path, "rb") as file:
        magic = file.read(4)
    if magic != NPZ_MAGIC:  # np.load would blame "pickled data" for a text file
        raise DumpError(f"{path} is not a readable .npz dump file: it starts with {magic!r}, not a zip archive's "
                        f"{NPZ_MAGIC!r}; pass files written by gbc.dump.save_dumps or 05 --record")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as err:
        raise DumpError(f"{path} is not a readable .npz dump file, truncated or damaged ({type(err).__name__}: "
                        f"{err}); write it again with gbc.dump.save_dumps or 05 --record") from None
    if "format" not in arrays or str(arrays["format"]) != FORMAT_NAME:
        raise DumpError(f"{path} is not a {FORMAT_NAME} file (no 'format' entry); write dumps with gbc.dump.save_dumps")
    if int(arrays.get("version", -1)) != FORMAT_VERSION:
        raise DumpError(f"{path} has dump format version {arrays.get('version')}, this code reads {FORMAT_VERSION}")
    _check_arrays(arrays, str(path))
    dumps = MemoryDump(**{name: arrays[name] for name in FIELDS})
    if model is not None:
        if model not in MODELS:
            raise DumpError(f"model must be one of {MODELS}, got {model!r}")
        wrong = np.flatnonzero(dumps.model != MODELS.index(model))
        if wrong.size:
            raise DumpError(
                f"{path}: dump {wrong[0]} is a {MODELS[dumps.model[wrong[0]]]} dump, expected {model}; "
                f"dump the emulator in {model} mode"
            )
    if rom_sha1 is not None:
        wrong = np.flatnonzero(dumps.rom_sha1 != rom_sha1.lower())
        if wrong.size:
            raise DumpError(
                f"{path}: dump {wrong[0]} comes from the ROM with SHA-1 {dumps.rom_sha1[wrong[0]] or '(unknown)'}, "
                f"expected {rom_sha1.lower()}"
            )
    try:
        return Recording(dumps, arrays.get("screen"), arrays.get("scanline_registers"),
                         **{name: arrays[name] for name in RASTER_SHAPES if name in arrays})
    except DumpError as err:
        raise DumpError(f"{path}: {err}") from None


def load_dumps(path: str | Path, *, model: str | None = None, rom_sha1: str | None = None) -> MemoryDump:
    """The dumps of a file written by save_dumps (see load_recording)."""
    return load_recording(path, model=model, rom_sha1=rom_sha1).dumps


# --- from a running PyBoy ----------------------------------------------------------------------------------


def pyboy_default_colors(cgb_hardware: bool) -> np.ndarray:
    """PyBoy 2.8.1's default RGB for the 4 shades of BGP, OBP0, OBP1: `color_palette` (Grey) on a DMG, and
    `cgb_color_palette` on a CGB (used there for DMG-mode programs and for the blank screen), (3, 4, 3) uint8."""
    from pyboy.pyboy import defaults

    palettes = defaults["cgb_color_palette"] if cgb_hardware else (defaults["color_palette"],) * 3
    return np.array([[[(c >> 16) & 0xFF, (c >> 8) & 0xFF, c & 0xFF] for c in p] for p in palettes], np.uint8)


def _motherboard(pyboy):
    for part in gc.get_referents(pyboy):
        if type(part).__name__ == "Motherboard":
            return part
    raise DumpError("could not find PyBoy's motherboard object; gbc.dump is written for PyBoy 2.8.1")


def _read_palette_ram(memory, index_register: int, data_register: int) -> list[int]:
    """The 64 bytes of one CGB palette RAM through its index/data registers; the index register is restored."""
    saved = memory[index_register] & ~PALETTE_INDEX_READ_BIT & 0xFF
    out = []
    for i in range(PALETTE_RAM_SIZE):
        memory[index_register] = i  # no auto-increment
        out.append(memory[data_register])
    memory[index_register] = saved
    return out


def dump_pyboy(pyboy, rom_sha1: str = "", colors: np.ndarray | None = None) -> MemoryDump:
    """One dump (N = 1) of a PyBoy 2.8.1 between two ticks. `colors`: the (3, 4, 3) RGB the emulator was built with
    (color_palette / cgb_color_palette), PyBoy's defaults when None.

    Reads go through PyBoy's public memory API (bank-indexed for VRAM and WRAM). The CGB palette RAM is only
    reachable through BCPS/BCPD and OCPS/OCPD: the index registers are set, the data read, and the index registers
    written back (their unused bit 6 reads as 1 and is written back as 0)."""
    mb = _motherboard(pyboy)
    memory = pyboy.memory
    cgb = bool(mb.cgb)
    if cgb and not mb.cgb_mode:
        raise DumpError(
            "this is a DMG-only ROM on CGB hardware: PyBoy 2.8.1 exposes the CGB palette RAM only to CGB programs, "
            "so the dump would be incomplete; run the emulator with cgb=False"
        )
    d = empty_dumps(1, MODELS[int(cgb)])
    for bank in range(VRAM_BANKS if cgb else 1):
        # PyBoy's bank reads stop one byte short of a region's end: read the last byte alone.
        d.vram[0, bank, :-1] = memory[bank, VRAM_START : VRAM_START + VRAM_BANK_SIZE - 1]
        d.vram[0, bank, -1] = memory[bank, VRAM_START + VRAM_BANK_SIZE - 1]
    if cgb:
        for bank in range(WRAM_BANKS):
            d.wram[0, bank, :-1] = memory[bank, WRAM_START : WRAM_START + WRAM_BANK_SIZE - 1]
            d.wram[0, bank, -1] = memory[bank, WRAM_START + WRAM_BANK_SIZE - 1]
    else:
        d.wram[0, :2] = np.array(memory[WRAM_START : WRAM_START + 2 * WRAM_BANK_SIZE], np.uint8).reshape(2, -1)
    d.oam[0] = memory[OAM_START : OAM_START + OAM_SIZE]
    d.io[0] = memory[IO_START : IO_START + IO_SIZE]
    d.hram[0] = memory[HRAM_START:HRAM_END]
    d.ie[0] = memory[IE]
    if cgb:
        d.bg_palette_ram[0] = _read_palette_ram(memory, BCPS, BCPD)
        d.obj_palette_ram[0] = _read_palette_ram(memory, OCPS, OCPD)
        d.io[0, BCPS - IO_START] = memory[BCPS]
        d.io[0, OCPS - IO_START] = memory[OCPS]
    d.cgb_mode[0] = cgb
    # Between ticks a running LCD is at LY 0 in mode 2 (OAM scan); right after being switched on it is in mode 0
    # and shows nothing for a frame (PyBoy 2.8.1's LCD.tick, as Pan Docs describe the hardware).
    lcd_on = bool(d.io[0, LCDC - IO_START] & LCDC_ENABLE)
    d.lcd_first_frame[0] = lcd_on and (d.io[0, STAT - IO_START] & STAT_MODE_MASK) == 0
    if colors is not None:
        d.dmg_colors[0] = np.asarray(colors, np.uint8).reshape(3, 4, 3)
    d.frame[0] = pyboy.frame_count
    d.rom_sha1[0] = rom_sha1.lower()
    return d


def scanline_registers_pyboy(pyboy) -> np.ndarray:
    """SCX, SCY, WX, WY as PyBoy's PPU used them on each line of its last frame, (144, 4) uint8 (from
    `pyboy.screen.tilemap_position_list`, which gives WX - 7; zeros while the LCD is off)."""
    lines = np.array(pyboy.screen.tilemap_position_list, np.int32)
    lines[:, 2] += WINDOW_X_OFFSET
    return (lines & 0xFF).astype(np.uint8)



# Registers whose writes while a frame is drawn `Recorder` draws as raster segments: LCDC, BGP, OBP0, OBP1 and the
# CGB palette data (SCX, SCY, WX, WY come per line from PyBoy itself: `scanline_registers_pyboy`).
RASTER_WRITE_REGISTERS = frozenset({*RASTER_REGISTERS, BCPD, OCPD})
ROM_BANK_SIZE = 0x4000
ROM_SIZE_HEADER = 0x0148  # cartridge header: ROM size is 32 KiB << this byte
STAT_MODE_HBLANK, STAT_MODE_VBLANK = 0, 1


def rom_pyboy(pyboy) -> bytes:
    """The ROM code that runs without bank switching, read from a running PyBoy: bank 0 and, for a 32 KiB ROM,
    bank 1 (what `gbc.sm83` disassembles). Read before any hook is registered (a hook patches its ROM byte)."""
    def bank(number: int, base: int) -> bytes:  # PyBoy's bank reads stop one byte short of a bank's end
        return bytes(pyboy.memory[number, base : base + ROM_BANK_SIZE - 1]) + bytes(
            [pyboy.memory[number, base + ROM_BANK_SIZE - 1]])

    rom = bank(0, 0)
    return rom + bank(1, ROM_BANK_SIZE) if rom[ROM_SIZE_HEADER] == 0 else rom


def first_line_drawn_after(ly: int, mode: int) -> int:
    """The first screen line PyBoy 2.8.1 draws with a register value written at (LY, STAT mode): it draws a whole
    line at the end of mode 3, so a write in mode 2 or 3 shows from line LY, one in HBlank (mode 0) from LY + 1;
    one in VBlank (mode 1) shows in the next frame (>= 144). Measured in tests/test_raster_writes.py."""
    if mode == STAT_MODE_VBLANK:
        return SCREEN_HEIGHT
    return ly + 1 if mode == STAT_MODE_HBLANK else ly


def _no_segments() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One frame's raster arrays with no segment (see RASTER_SHAPES)."""
    return (np.full(RASTER_SEGMENTS, -1, np.int16), np.zeros((RASTER_SEGMENTS, len(RASTER_REGISTERS)), np.uint8),
            np.zeros((RASTER_SEGMENTS, 2 * PALETTE_RAM_SIZE), np.uint8))


class Recorder:
    """Records a running PyBoy frame by frame: the dump before each tick, and the screen and per-line registers
    after it, so that `screens[k]` is the frame drawn from `dumps[k]` (see gbc.render's timing contract), and the
    raster segments: what any code (main loop or interrupt handler) wrote to LCDC, BGP, OBP0, OBP1 and the CGB
    palette RAM while the frame was drawn.

    The writes are caught with PyBoy hooks on every instruction that can write those registers, found by a
    recursive-descent disassembly of the ROM (`gbc.sm83`: `LDH (n),A`, `LD (a16),A`, and `LD (C),A` with C checked
    when it runs), logged as (LY, STAT mode) before they run and drawn from the line `first_line_drawn_after` gives.
    Limits: code run from RAM or from a switchable ROM bank of a ROM with a mapper, and code reached only through
    `JP (HL)`, is not hooked; nor are writes through a pointer (`LD (HL),A`, ...)."""

    def __init__(self, pyboy, rom_sha1: str = ""):
        self.pyboy = pyboy
        self.rom_sha1 = rom_sha1
        self._held: set[str] = set()
        self._dumps: list[MemoryDump] = []
        self._screens: list[np.ndarray] = []
        self._lines: list[np.ndarray] = []
        self._raster: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        # This frame's writes: (LY, STAT mode, register, value, CGB palette index), in the order they ran.
        self._writes: list[tuple[int, int, int, int, int]] = []
        self._cgb = bool(_motherboard(pyboy).cgb)
        self.write_instructions = register_writes(rom_pyboy(pyboy), RASTER_WRITE_REGISTERS)
        for write in self.write_instructions:
            bank = 0 if write.address < ROM_BANK_SIZE else 1
            pyboy.hook_register(bank, write.address, self._on_write, write.register)

    def _on_write(self, register: int | None) -> None:
        """Called before a hooked instruction runs: A is the value it is about to write."""
        memory, cpu = self.pyboy.memory, self.pyboy.register_file
        if register is None:  # LD (C),A
            register = IO_START + cpu.C
            if register not in RASTER_WRITE_REGISTERS:
                return
        index = 0
        if register in (BCPD, OCPD):
            if not self._cgb:
                return
            index = memory[BCPS if register == BCPD else OCPS] & (PALETTE_RAM_SIZE - 1)
        self._writes.append((memory[LY], memory[STAT] & STAT_MODE_MASK, register, cpu.A, index))

    def _segments(self, dump: MemoryDump) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """This frame's raster segments from the writes during it: a segment starts on the first line a write
        changed, with the registers and palettes as they were then; lines above the first use the dump's. Writes
        on more than RASTER_SEGMENTS lines go into the last segment (that frame is then drawn only in part).

        PyBoy paints a frame blank, in BGP's colour 0, when the LCD is switched off during it (with BGP as it is
        then: a last segment with the LCD off) and at the end of a frame the LCD is off throughout (all its writes
        go to line 0); a frame in which the LCD comes on keeps the last frame's blank (no segments)."""
        lines, registers, palettes = _no_segments()
        registers_drawn = dump.io[0, np.array(RASTER_REGISTERS) - IO_START]  # by the current segment
        palettes_drawn = np.concatenate([dump.bg_palette_ram[0], dump.obj_palette_ram[0]])
        state, palette_state = registers_drawn.copy(), palettes_drawn.copy()
        lcd_was_on = bool(registers_drawn[RASTER_REGISTERS.index(LCDC)] & LCDC_ENABLE)
        segment = -1
        for ly, mode, register, value, index in self._writes:
            switched = register == LCDC and bool(value & LCDC_ENABLE) != lcd_was_on
            if not lcd_was_on:
                if switched:
                    return _no_segments()
                line = 0
            elif switched:  # off: the frame ends here
                line = min(first_line_drawn_after(ly, mode), SCREEN_HEIGHT - 1)
            else:
                line = first_line_drawn_after(ly, mode)
                if line >= SCREEN_HEIGHT:
                    continue  # the next dump holds it
            if register in RASTER_REGISTERS:
                state[RASTER_REGISTERS.index(register)] = value
            else:
                palette_state[index + (PALETTE_RAM_SIZE if register == OCPD else 0)] = value
            if (state == registers_drawn).all() and (palette_state == palettes_drawn).all():
                continue
            if segment < 0 or (line > lines[segment] and segment < RASTER_SEGMENTS - 1):
                segment += 1
                lines[segment] = line
            registers[segment], palettes[segment] = state, palette_state
            registers_drawn, palettes_drawn = registers[segment], palettes[segment]
            if switched:
                break
        return lines, registers, palettes

    def __len__(self) -> int:
        return len(self._dumps)

    def step(self, buttons: Sequence[str] = ()) -> None:
        """One frame with exactly `buttons` held."""
        wanted = set(buttons)
        for button in self._held - wanted:
            self.pyboy.button_release(button)
        for button in wanted - self._held:
            self.pyboy.button_press(button)
        self._held = wanted
        dump = dump_pyboy(self.pyboy, self.rom_sha1)
        self._dumps.append(dump)
        self._writes.clear()
        self.pyboy.tick(1, True)
        self._screens.append(self.pyboy.screen.ndarray[:, :, :3].copy())
        self._lines.append(scanline_registers_pyboy(self.pyboy))
        self._raster.append(self._segments(dump))

    def recording(self) -> Recording:
        if not self._dumps:
            raise DumpError("nothing recorded yet: call step() first")
        lines, registers, palettes = (np.stack(part) for part in zip(*self._raster))
        return Recording(concatenate(self._dumps), np.stack(self._screens), np.stack(self._lines),
                         raster_lines=lines, raster_registers=registers, raster_palettes=palettes)


def show_in_pyboy(pyboy, dump: MemoryDump) -> None:
    """Writes what the picture of a one-dump batch depends on (VRAM banks, OAM, the PPU registers, CGB palette RAM)
    into a PyBoy of the same model, between ticks. For viewing dumps in PyBoy and for checking the renderer against
    it: the frame after the next (the next one started before the writes) shows the dump, provided the running
    program leaves video memory alone (e.g. it loops forever)."""
    if len(dump) != 1:
        raise DumpError(f"show_in_pyboy takes one dump, got {len(dump)}")
    mb = _motherboard(pyboy)
    model = MODELS[int(dump.model[0])]
    if MODELS[int(bool(mb.cgb))] != model:
        raise DumpError(f"this is a {model} dump but the PyBoy emulates a {MODELS[int(bool(mb.cgb))]}")
    memory = pyboy.memory
    cgb = model == "CGB"
    for bank in range(VRAM_BANKS if cgb else 1):
        if cgb:
            memory[VBK] = bank
        memory[VRAM_START : VRAM_START + VRAM_BANK_SIZE] = dump.vram[0, bank].tolist()
    memory[OAM_START : OAM_START + OAM_SIZE] = dump.oam[0].tolist()
    if cgb:
        memory[VBK] = int(dump.register(VBK)[0])
        for index, data, ram in ((BCPS, BCPD, dump.bg_palette_ram), (OCPS, OCPD, dump.obj_palette_ram)):
            memory[index] = PALETTE_AUTO_INCREMENT
            for byte in ram[0].tolist():
                memory[data] = byte
            memory[index] = int(dump.register(index)[0]) & ~PALETTE_INDEX_READ_BIT & 0xFF
    for register in (SCY, SCX, BGP, OBP0, OBP1, WY, WX, LCDC):
        memory[register] = int(dump.register(register)[0])
