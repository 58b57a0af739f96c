"""Game Boy (Color) hardware constants, from the Pan Docs (https://gbdev.io/pandocs/Memory_Map.html)."""

# Work RAM: 0xC000-0xCFFF is bank 0, 0xD000-0xDFFF is the switchable bank (1-7 on the CGB, chosen by SVBK).
WRAM_START = 0xC000
WRAM_END = 0xE000  # exclusive
WRAM_BANK_SIZE = 0x1000
# High RAM: 0xFF80-0xFFFE (0xFFFF is the interrupt-enable register, not RAM).
HRAM_START = 0xFF80
HRAM_END = 0xFFFF  # exclusive
# CGB WRAM bank select register (https://gbdev.io/pandocs/CGB_Registers.html#ff70--svbk-cgb-mode-only-wram-bank).
SVBK = 0xFF70

# Video RAM: tile data 0x8000-0x97FF, tile maps 0x9800-0x9BFF and 0x9C00-0x9FFF; the CGB has two banks
# (bank 1: tile attributes and more tile data) (https://gbdev.io/pandocs/Memory_Map.html).
VRAM_START = 0x8000
VRAM_END = 0xA000  # exclusive
VRAM_BANK_SIZE = VRAM_END - VRAM_START
TILE_MAP_STARTS = (0x9800, 0x9C00)
# Object attribute memory: 40 sprites x 4 bytes (https://gbdev.io/pandocs/OAM.html).
OAM_START = 0xFE00
OAM_SIZE = 160
OAM_END = OAM_START + OAM_SIZE  # exclusive
# OAM DMA: writing page P to this register copies P00-P9F into OAM (https://gbdev.io/pandocs/OAM_DMA_Transfer.html).
DMA = 0xFF46
PAGE_SIZE = 0x100

# LCD control register; bit 7 switches the LCD on (https://gbdev.io/pandocs/LCDC.html).
LCDC = 0xFF40
LCDC_ENABLE = 0x80

RAM_OBS_SIZE = (WRAM_END - WRAM_START) + (HRAM_END - HRAM_START)  # 8192 + 127 = 8319 bytes

# CGB WRAM banks 1-7 at 0xD000-0xDFFF, each whatever bank SVBK switches in. The extractor records them beside the
# RAM observation (which sees only the bank switched in): bank b's byte at address a has the index
# RAM_OBS_SIZE + (b - 1) * WRAM_BANK_SIZE + (a - WRAM_SWITCHED_START) (`banked_index`) in its recordings and specs.
WRAM_SWITCHED_START = WRAM_START + WRAM_BANK_SIZE
CGB_WRAM_BANKS = 8
BANKED_OBS_SIZE = RAM_OBS_SIZE + (CGB_WRAM_BANKS - 1) * WRAM_BANK_SIZE

SCREEN_WIDTH = 160
SCREEN_HEIGHT = 144
# The LCD refreshes at 4194304 / 70224 Hz (https://gbdev.io/pandocs/Rendering.html).
FRAMES_PER_SECOND = 4194304 / 70224

BUTTONS = ("a", "b", "start", "select", "up", "down", "left", "right")


def ram_obs_index(address: int) -> int:
    """Index of a WRAM or HRAM address in the `obs_type="ram"` observation (WRAM first, then HRAM)."""
    if WRAM_START <= address < WRAM_END:
        return address - WRAM_START
    if HRAM_START <= address < HRAM_END:
        return (WRAM_END - WRAM_START) + address - HRAM_START
    raise ValueError(
        f"address {address:#06x} is neither in WRAM ({WRAM_START:#06x}-{WRAM_END - 1:#06x}) "
        f"nor in HRAM ({HRAM_START:#06x}-{HRAM_END - 1:#06x}), so it is not part of the RAM observation"
    )


def banked_index(bank: int, address: int) -> int:
    """Index of CGB WRAM bank `bank`'s byte at `address` (0xD000-0xDFFF) beside the RAM observation (see above)."""
    if not (1 <= bank < CGB_WRAM_BANKS and WRAM_SWITCHED_START <= address < WRAM_END):
        raise ValueError(f"bank {bank} address {address:#06x} is not in a switchable CGB WRAM bank (1-7, "
                         f"{WRAM_SWITCHED_START:#06x}-{WRAM_END - 1:#06x})")
    return RAM_OBS_SIZE + (bank - 1) * WRAM_BANK_SIZE + (address - WRAM_SWITCHED_START)


def banked_location(index: int) -> tuple[int, int]:
    """(bank, address) of a banked index (inverse of `banked_index`)."""
    if not RAM_OBS_SIZE <= index < BANKED_OBS_SIZE:
        raise ValueError(f"index {index} is not a banked WRAM index ({RAM_OBS_SIZE}..{BANKED_OBS_SIZE - 1})")
    offset = index - RAM_OBS_SIZE
    return 1 + offset // WRAM_BANK_SIZE, WRAM_SWITCHED_START + offset % WRAM_BANK_SIZE
