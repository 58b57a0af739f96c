"""Code discovery in a Game Boy ROM: a recursive-descent disassembly of the SM83 CPU's instructions, and the
instructions in it that can write chosen I/O registers (0xFF00-0xFF7F).

The disassembly starts at the entry point (0x0100) and the interrupt vectors (0x0040-0x0060) and follows every
jump, call, restart and fall-through it can resolve; `JP (HL)` (a computed jump) ends a path, and so do invalid
opcodes. A linear scan is not safe for hooks: PyBoy's `hook_register` patches the byte at an address with its
breakpoint opcode, so a hook on an operand byte or a data byte that looks like `E0 40` would change what the
game reads. Only what the disassembly reaches is reported.

Writes to I/O registers: `LDH (n),A` (E0 nn) and `LD (a16),A` (EA nn FF) name the register in the instruction;
`LD (C),A` (E2) writes 0xFF00 + C, known only when it runs, so it is reported with `register=None`.
Opcode lengths and flow: https://gbdev.io/pandocs/CPU_Instruction_Set.html (and gbdev.io/gb-opcodes).
"""

from __future__ import annotations

from dataclasses import dataclass

ENTRY_POINT = 0x0100
INTERRUPT_VECTORS = (0x0040, 0x0048, 0x0050, 0x0058, 0x0060)  # VBlank, LCD STAT, timer, serial, joypad
BANK_SIZE = 0x4000
IO_START = 0xFF00

LDH_N_A = 0xE0
LD_C_A = 0xE2
LD_A16_A = 0xEA
CB_PREFIX = 0xCB

_TWO_BYTES = {0x06, 0x0E, 0x10, 0x16, 0x18, 0x1E, 0x20, 0x26, 0x28, 0x2E, 0x30, 0x36, 0x38, 0x3E,
              0xC6, 0xCB, 0xCE, 0xD6, 0xDE, 0xE0, 0xE6, 0xE8, 0xEE, 0xF0, 0xF6, 0xF8, 0xFE}
_THREE_BYTES = {0x01, 0x08, 0x11, 0x21, 0x31, 0xC2, 0xC3, 0xC4, 0xCA, 0xCC, 0xCD, 0xD2, 0xD4, 0xDA, 0xDC, 0xEA, 0xFA}
INVALID_OPCODES = frozenset({0xD3, 0xDB, 0xDD, 0xE3, 0xE4, 0xEB, 0xEC, 0xED, 0xF4, 0xFC, 0xFD})
# Instruction length in bytes, by opcode (0 for the invalid opcodes: no instruction there).
INSTRUCTION_LENGTHS = tuple(0 if op in INVALID_OPCODES else 3 if op in _THREE_BYTES else 2 if op in _TWO_BYTES else 1
                            for op in range(256))

JR, JR_CONDITIONAL = 0x18, (0x20, 0x28, 0x30, 0x38)
JP, JP_CONDITIONAL = 0xC3, (0xC2, 0xCA, 0xD2, 0xDA)
CALL, CALL_CONDITIONAL = 0xCD, (0xC4, 0xCC, 0xD4, 0xDC)
RST = (0xC7, 0xCF, 0xD7, 0xDF, 0xE7, 0xEF, 0xF7, 0xFF)
RET, RETI, JP_HL = 0xC9, 0xD9, 0xE9
_ENDS_PATH = {JR, JP, RET, RETI, JP_HL}  # no fall-through


@dataclass(frozen=True)
class RegisterWrite:
    """An instruction at `address` (CPU address space; bank 0 or the switchable bank of a 32 KiB ROM) that writes
    `register` (an address 0xFF00-0xFF7F), or any of 0xFF00 + C (`register` None: `LD (C),A`)."""

    address: int
    opcode: int
    register: int | None


def _rom_offset(address: int, rom_size: int) -> int | None:
    """Where a CPU address's byte is in the ROM file, for code that runs from ROM without bank switching: bank 0
    (0x0000-0x3FFF) and, for a 32 KiB ROM (no mapper), 0x4000-0x7FFF. Banked code is not followed (the bank
    selected when it runs is not known statically)."""
    if address < BANK_SIZE or (address < 2 * BANK_SIZE and rom_size <= 2 * BANK_SIZE):
        return address if address < rom_size else None
    return None


def code_addresses(rom: bytes, entries: tuple[int, ...] = (ENTRY_POINT, *INTERRUPT_VECTORS)) -> dict[int, int]:
    """The start address of every instruction reachable from `entries`, with its opcode (a recursive descent)."""
    found: dict[int, int] = {}
    todo = list(entries)
    while todo:
        address = todo.pop()
        while address not in found:
            offset = _rom_offset(address, len(rom))
            if offset is None:
                break
            opcode = rom[offset]
            length = INSTRUCTION_LENGTHS[opcode]
            if length == 0 or _rom_offset(address + length - 1, len(rom)) is None:
                break  # data, or an instruction running off the ROM
            found[address] = opcode
            operand = rom[offset + 1 : offset + length]
            if opcode == JR or opcode in JR_CONDITIONAL:
                todo.append((address + 2 + int.from_bytes(operand, "little", signed=True)) & 0xFFFF)
            elif opcode in (JP, CALL) or opcode in JP_CONDITIONAL or opcode in CALL_CONDITIONAL:
                todo.append(int.from_bytes(operand, "little"))
            elif opcode in RST:
                todo.append(opcode & 0x38)
            if opcode in _ENDS_PATH:
                break
            address += length
    return found


def register_writes(rom: bytes, registers: set[int] | frozenset[int]) -> list[RegisterWrite]:
    """The instructions the disassembly reaches that write one of `registers` (I/O addresses), and every
    `LD (C),A`, in address order."""
    writes = []
    for address, opcode in sorted(code_addresses(rom).items()):
        if opcode == LD_C_A:
            writes.append(RegisterWrite(address, opcode, None))
        elif opcode == LDH_N_A and IO_START + rom[address + 1] in registers:
            writes.append(RegisterWrite(address, opcode, IO_START + rom[address + 1]))
        elif opcode == LD_A16_A:
            target = int.from_bytes(rom[address + 1 : address + 3], "little")
            if target in registers:
                writes.append(RegisterWrite(address, opcode, target))
    return writes
