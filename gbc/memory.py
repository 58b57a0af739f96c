"""Reads the Game Boy's WRAM and HRAM into NumPy, fast.

PyBoy 2.8.1 offers RAM only through `pyboy.memory[a:b]`, which builds a Python list one byte at a time
(about 0.3 ms for the 8 KiB of WRAM, more than emulating the 4 frames of an agent step). `RamReader` maps
PyBoy's own WRAM and HRAM buffers as NumPy views instead, after checking the object layout of the pinned
PyBoy build and checking the views byte for byte against `pyboy.memory`. When any check fails (another PyBoy
version), it falls back to the public slice API, so the values are the same either way, only slower.
"""

from __future__ import annotations

import ctypes
import gc
import warnings

import numpy as np
from pyboy import PyBoy

from gbc.hardware import (
    CGB_WRAM_BANKS,
    HRAM_END,
    HRAM_START,
    RAM_OBS_SIZE,
    SVBK,
    WRAM_BANK_SIZE,
    WRAM_END,
    WRAM_START,
    WRAM_SWITCHED_START,
)

# Layout of PyBoy 2.8.1's Cython object `pyboy.core.ram.RAM` (pyboy/core/ram.c, struct __pyx_obj_5pyboy_4core_3ram_RAM):
#   PyObject_HEAD (16 bytes), vtable pointer (8), __Pyx_memviewslice internal_ram0 (memview*, data*, shape[8],
#   strides[8], suboffsets[8] = 208 bytes), uint8 non_io_internal_ram0[96], uint8 io_ports[76],
#   uint8 internal_ram1[127] (HRAM), int cgb.
_RAM_TYPE_NAME = "RAM"
_RAM_BASICSIZE = 536
_WRAM_SLICE_OFFSET = 16 + 8
_WRAM_DATA_OFFSET = _WRAM_SLICE_OFFSET + 8
_WRAM_SHAPE_OFFSET = _WRAM_SLICE_OFFSET + 16
_WRAM_STRIDE_OFFSET = _WRAM_SHAPE_OFFSET + 8 * 8
_HRAM_OFFSET = _WRAM_SLICE_OFFSET + 208 + 96 + 76
_WRAM_SIZES = (0x2000, 0x8000)  # DMG: 2 banks, CGB: 8 banks

_WRAM_SIZE = WRAM_END - WRAM_START
_HRAM_SIZE = HRAM_END - HRAM_START


def _find_ram_object(pyboy: PyBoy):
    """PyBoy's internal RAM object, reached through the garbage collector's view of the motherboard."""
    for motherboard in gc.get_referents(pyboy):
        if type(motherboard).__name__ == "Motherboard":
            for part in gc.get_referents(motherboard):
                if type(part).__name__ == _RAM_TYPE_NAME:
                    return part
    return None


def _has_wram_banks(pyboy: PyBoy) -> bool:
    """Whether PyBoy emulates CGB hardware (8 WRAM banks): it refuses a bank above 1 otherwise."""
    try:
        pyboy.memory[CGB_WRAM_BANKS - 1, WRAM_SWITCHED_START]
    except Exception:  # PyBoy raises a bare Exception for a bank the cartridge's hardware lacks
        return False
    return True


def _map_buffers(pyboy: PyBoy) -> tuple[np.ndarray, np.ndarray] | None:
    """Zero-copy views of (all WRAM banks, HRAM), or None where the layout is not the one described above."""
    ram = _find_ram_object(pyboy)
    if ram is None or type(ram).__basicsize__ != _RAM_BASICSIZE:
        return None
    base = id(ram)
    wram_len = ctypes.c_ssize_t.from_address(base + _WRAM_SHAPE_OFFSET).value
    stride = ctypes.c_ssize_t.from_address(base + _WRAM_STRIDE_OFFSET).value
    data = ctypes.c_void_p.from_address(base + _WRAM_DATA_OFFSET).value
    if wram_len not in _WRAM_SIZES or stride != 1 or not data:
        return None
    wram = np.ctypeslib.as_array((ctypes.c_uint8 * wram_len).from_address(data))
    hram = np.ctypeslib.as_array((ctypes.c_uint8 * _HRAM_SIZE).from_address(base + _HRAM_OFFSET))
    return wram, hram


class RamReader:
    """Copies WRAM (0xC000-0xDFFF, as the CPU sees it) then HRAM (0xFF80-0xFFFE) into one uint8 array; on CGB
    hardware it also reads every WRAM bank (`wram_banks`, `read_wram`), switched in or not."""

    def __init__(self, pyboy: PyBoy, *, allow_fast: bool = True):
        self._pyboy = pyboy  # keeps the emulator (and so the mapped buffers) alive as long as this reader
        self._cgb = _has_wram_banks(pyboy)
        self._wram = self._hram = None
        mapped = _map_buffers(pyboy) if allow_fast else None
        if mapped is not None:
            self._wram, self._hram = mapped
            self._cgb = len(self._wram) == CGB_WRAM_BANKS * WRAM_BANK_SIZE
            if not np.array_equal(self._read_mapped(), self._read_public()):
                warnings.warn("gbc: PyBoy's RAM layout is not the expected one; using the slower public memory API")
                self._wram = self._hram = None
        elif allow_fast:
            warnings.warn("gbc: could not map PyBoy's RAM buffers; using the slower public memory API")

    @property
    def fast(self) -> bool:
        """Whether reads go through the mapped buffers (True) or `pyboy.memory` slices (False)."""
        return self._wram is not None

    def read(self) -> np.ndarray:
        """A fresh uint8 array of RAM_OBS_SIZE bytes."""
        return self._read_mapped() if self._wram is not None else self._read_public()

    @property
    def cgb(self) -> bool:
        """Whether the emulator runs CGB hardware, with WRAM banks 1-7 behind 0xD000-0xDFFF."""
        return self._cgb

    def switched_bank(self) -> int:
        """The WRAM bank the CPU sees at 0xD000-0xDFFF now (always 1 on DMG hardware)."""
        return ((self._pyboy.memory[SVBK] & 0x07) or 1) if self._cgb else 1

    def wram_banks(self) -> np.ndarray:
        """(8, 4096) uint8, CGB only: WRAM bank 0 (0xC000-0xCFFF) then banks 1-7 (0xD000-0xDFFF). Mapped: a live
        view of PyBoy's memory (copy what you keep); otherwise a copy read bank by bank (slow)."""
        if not self._cgb:
            raise ValueError("WRAM banks 1-7 exist on CGB hardware only; this emulator runs a DMG")
        if self._wram is not None:
            return self._wram.reshape(CGB_WRAM_BANKS, WRAM_BANK_SIZE)
        memory = self._pyboy.memory
        banks = [memory[WRAM_START:WRAM_SWITCHED_START]]
        # PyBoy 2.8.1 refuses a banked slice that reaches WRAM_END, so the last byte is read on its own.
        banks += [memory[b, WRAM_SWITCHED_START : WRAM_END - 1] + [memory[b, WRAM_END - 1]]
                  for b in range(1, CGB_WRAM_BANKS)]
        return np.array(banks, dtype=np.uint8)

    def read_wram(self, offsets: np.ndarray) -> np.ndarray:
        """The bytes at `offsets` into `wram_banks()` flattened (bank * 4096 + address - 0xC000 for bank 0,
        bank * 4096 + address - 0xD000 for banks 1-7), a fresh uint8 array."""
        if self._wram is not None:
            return self._wram[offsets]
        return self.wram_banks().reshape(-1)[offsets]

    def snapshot(self) -> "RamSnapshot":
        """A copy of the RAM as it is now, read as this reader reads it (about 40 KB; a dump copies all memory)."""
        return RamSnapshot(self.read(), self.wram_banks().reshape(-1).copy() if self._cgb else None)

    def _read_mapped(self) -> np.ndarray:
        out = np.empty(RAM_OBS_SIZE, dtype=np.uint8)
        bank = 1
        if self._cgb:
            bank = (self._pyboy.memory[SVBK] & 0x07) or 1  # bank 0 selects bank 1 (Pan Docs)
        out[:WRAM_BANK_SIZE] = self._wram[:WRAM_BANK_SIZE]
        offset = bank * WRAM_BANK_SIZE
        out[WRAM_BANK_SIZE:_WRAM_SIZE] = self._wram[offset : offset + WRAM_BANK_SIZE]
        out[_WRAM_SIZE:] = self._hram
        return out

    def _read_public(self) -> np.ndarray:
        memory = self._pyboy.memory
        out = np.empty(RAM_OBS_SIZE, dtype=np.uint8)
        out[:_WRAM_SIZE] = memory[WRAM_START:WRAM_END]
        out[_WRAM_SIZE:] = memory[HRAM_START:HRAM_END]
        return out


class RamSnapshot:
    """The RAM a `RamReader` saw at one moment, with the same reads (`read`, `read_wram`)."""

    def __init__(self, ram: np.ndarray, wram_banks: np.ndarray | None):
        self._ram, self._banks = ram, wram_banks  # RAM_OBS_SIZE bytes; all WRAM banks flattened (CGB only)

    def read(self) -> np.ndarray:
        """A fresh uint8 array of RAM_OBS_SIZE bytes."""
        return self._ram.copy()

    def read_wram(self, offsets: np.ndarray) -> np.ndarray:
        """The bytes at `offsets` into the WRAM banks flattened, as `RamReader.read_wram`."""
        if self._banks is None:
            raise ValueError("WRAM banks 1-7 exist on CGB hardware only; this snapshot is of a DMG")
        return self._banks[offsets]
