"""Reads what the state extractor needs beyond RAM from PyBoy, fast: VRAM (both CGB banks), OAM, the OAM DMA
register and the stack pointer.

PyBoy 2.8.1 offers VRAM and OAM only through `pyboy.memory[...]`, which builds a Python list one byte at a time
(about 0.6 ms for one 8 KiB VRAM bank), too slow to read every frame of a 100,000-frame recording. As
`gbc.memory.RamReader` does for WRAM, `VideoMemory` maps the byte arrays inside PyBoy's LCD object as NumPy
views, after checking the object's size against the layout below and the views byte for byte against
`pyboy.memory`. When a check fails (another PyBoy version) it falls back to the public API.
"""

from __future__ import annotations

import ctypes
import gc
import warnings

import numpy as np
from pyboy import PyBoy

from gbc.hardware import DMA, OAM_END, OAM_SIZE, OAM_START, VRAM_BANK_SIZE, VRAM_END, VRAM_START

# Layout of PyBoy 2.8.1's Cython object `pyboy.core.lcd.LCD` (pyboy/core/lcd.c, struct __pyx_obj_5pyboy_4core_3lcd_LCD).
_POINTER = ctypes.c_void_p


class _LcdLayout(ctypes.Structure):
    _fields_ = [
        ("ob_refcnt", ctypes.c_ssize_t), ("ob_type", _POINTER), ("vtab", _POINTER),
        ("disable_renderer", ctypes.c_int),
        ("VRAM0", ctypes.c_uint8 * VRAM_BANK_SIZE), ("OAM", ctypes.c_uint8 * OAM_SIZE),
        ("SCY", ctypes.c_uint8), ("SCX", ctypes.c_uint8), ("WY", ctypes.c_uint8), ("WX", ctypes.c_uint8),
        ("object_priority_mode", ctypes.c_uint8), ("next_stat_mode", ctypes.c_uint8),
        ("stat_transition", ctypes.c_uint8),
        ("frame_done", ctypes.c_int), ("first_frame", ctypes.c_int), ("reset", ctypes.c_int),
        ("stat_mode_override", ctypes.c_int), ("lyc_changed_while_disabled", ctypes.c_int),
        ("LY", ctypes.c_uint8), ("LYC", ctypes.c_uint8), ("mode3_adjustment", ctypes.c_int16),
        ("clock", ctypes.c_uint64), ("clock_target", ctypes.c_uint64),
        ("_LCDC", _POINTER), ("_STAT", _POINTER), ("BGP", _POINTER), ("OBP0", _POINTER), ("OBP1", _POINTER),
        ("renderer", _POINTER),
        ("_scanlineparameters", ctypes.c_uint8 * (144 * 5)),
        ("last_cycles", ctypes.c_uint64), ("_cycles_to_interrupt", ctypes.c_int64),
        ("_cycles_to_frame", ctypes.c_int64),
        ("cgb", ctypes.c_int), ("_downgraded_to_dmg", ctypes.c_int), ("speed_shift", ctypes.c_uint8),
        ("VRAM1", ctypes.c_uint8 * VRAM_BANK_SIZE),
        ("vbk", _POINTER), ("bcps", _POINTER), ("bcpd", _POINTER), ("ocps", _POINTER), ("ocpd", _POINTER),
    ]


def _find_lcd_object(pyboy: PyBoy):
    """PyBoy's internal LCD object, reached through the garbage collector's view of the motherboard."""
    for motherboard in gc.get_referents(pyboy):
        if type(motherboard).__name__ == "Motherboard":
            for part in gc.get_referents(motherboard):
                if type(part).__name__ == "LCD":
                    return part
    return None


def _public_vram(pyboy: PyBoy, bank: int) -> np.ndarray:
    # PyBoy 2.8.1 refuses a banked slice that reaches VRAM_END, so the last byte is read on its own.
    head = pyboy.memory[bank, VRAM_START : VRAM_END - 1]
    return np.array(head + [pyboy.memory[bank, VRAM_END - 1]], dtype=np.uint8)


class VideoMemory:
    """VRAM (one row per bank: 1 on DMG, 2 on CGB), OAM, the DMA register and SP of one PyBoy."""

    def __init__(self, pyboy: PyBoy, *, allow_fast: bool = True):
        self._pyboy = pyboy  # keeps the emulator (and so the mapped buffers) alive as long as this reader
        self._register_file = pyboy.register_file
        self._memory = pyboy.memory
        try:
            pyboy.memory[1, VRAM_START]
            self.banks = 2
        except Exception:  # PyBoy refuses bank 1 outside CGB mode
            self.banks = 1
        self._views = self._map(pyboy) if allow_fast else None
        if self._views is not None and not all(
            np.array_equal(mapped, public) for mapped, public in zip(self._read_mapped(), self._read_public())
        ):
            warnings.warn("gbc: PyBoy's LCD layout is not the expected one; reading VRAM through the slower public API")
            self._views = None
        elif self._views is None and allow_fast:
            warnings.warn("gbc: could not map PyBoy's VRAM and OAM; reading them through the slower public API")

    def _map(self, pyboy: PyBoy):
        lcd = _find_lcd_object(pyboy)
        if lcd is None or type(lcd).__basicsize__ != ctypes.sizeof(_LcdLayout):
            return None
        layout = _LcdLayout.from_address(id(lcd))
        banks = [np.ctypeslib.as_array(layout.VRAM0), np.ctypeslib.as_array(layout.VRAM1)][: self.banks]
        return banks, np.ctypeslib.as_array(layout.OAM), lcd  # the LCD object itself keeps the memory alive

    @property
    def fast(self) -> bool:
        """Whether reads go through mapped buffers (True) or `pyboy.memory` (False)."""
        return self._views is not None

    def vram(self) -> np.ndarray:
        """(banks, 8192) uint8, a fresh copy: VRAM 0x8000-0x9FFF of each bank."""
        return self._read_mapped()[0] if self._views is not None else self._read_public()[0]

    def oam(self) -> np.ndarray:
        """(160,) uint8 object attribute memory: live when mapped (copy it to keep it)."""
        return self._views[1] if self._views is not None else self._read_public()[1]

    def dma_register(self) -> int:
        """The last value written to the OAM DMA register: the high byte (page) of the DMA source."""
        return self._memory[DMA]

    def stack_pointer(self) -> int:
        return self._register_file.SP

    def _read_mapped(self) -> tuple[np.ndarray, np.ndarray]:
        banks, oam, _ = self._views
        return np.stack(banks), oam

    def _read_public(self) -> tuple[np.ndarray, np.ndarray]:
        vram = np.stack([_public_vram(self._pyboy, bank) for bank in range(self.banks)])
        return vram, np.array(self._memory[OAM_START:OAM_END], dtype=np.uint8)
