/* Game Boy / Game Boy Color hardware: I/O registers and memory regions.
 * Addresses and bit meanings from Pan Docs (https://gbdev.io/pandocs/).
 * __sfr __at(n) names the I/O register at 0xFF00 + n, reached with ldh. */
#ifndef HARDWARE_H
#define HARDWARE_H

#include <stdint.h>

/* Joypad */
static volatile __sfr __at(0x00) P1_REG;    /* 0xFF00 joypad select / read */
#define P1_SELECT_DPAD    0x20              /* bit 4 low: read the d-pad */
#define P1_SELECT_BUTTONS 0x10              /* bit 5 low: read A, B, Select, Start */
#define P1_SELECT_NONE    0x30

/* Interrupts */
static volatile __sfr __at(0x0F) IF_REG;    /* 0xFF0F interrupt flags */
static volatile __sfr __at(0xFF) IE_REG;    /* 0xFFFF interrupt enable */
#define IRQ_VBLANK 0x01

/* LCD */
static volatile __sfr __at(0x40) LCDC_REG;  /* 0xFF40 LCD control */
static volatile __sfr __at(0x41) STAT_REG;  /* 0xFF41 LCD status */
static volatile __sfr __at(0x42) SCY_REG;   /* 0xFF42 background scroll Y */
static volatile __sfr __at(0x43) SCX_REG;   /* 0xFF43 background scroll X */
static volatile __sfr __at(0x44) LY_REG;    /* 0xFF44 current scan line */
static volatile __sfr __at(0x47) BGP_REG;   /* 0xFF47 DMG background palette */
static volatile __sfr __at(0x48) OBP0_REG;  /* 0xFF48 DMG sprite palette 0 */
static volatile __sfr __at(0x49) OBP1_REG;  /* 0xFF49 DMG sprite palette 1 */
static volatile __sfr __at(0x4A) WY_REG;    /* 0xFF4A window Y */
static volatile __sfr __at(0x4B) WX_REG;    /* 0xFF4B window X + 7 */

#define LCDC_ON            0x80
#define LCDC_WIN_MAP_9C00  0x40
#define LCDC_WIN_ON        0x20
#define LCDC_TILES_8000    0x10             /* BG/window tiles at 0x8000, unsigned index */
#define LCDC_BG_MAP_9C00   0x08
#define LCDC_OBJ_8X16      0x04
#define LCDC_OBJ_ON        0x02
#define LCDC_BG_ON         0x01             /* on CGB: BG/window master priority */
#define LY_VBLANK_START    144

/* Game Boy Color only */
static volatile __sfr __at(0x4F) VBK_REG;   /* 0xFF4F VRAM bank select (bank 1: BG attributes) */
static volatile __sfr __at(0x68) BCPS_REG;  /* 0xFF68 BG palette index (bit 7: auto-increment) */
static volatile __sfr __at(0x69) BCPD_REG;  /* 0xFF69 BG palette data */
static volatile __sfr __at(0x6A) OCPS_REG;  /* 0xFF6A OBJ palette index */
static volatile __sfr __at(0x6B) OCPD_REG;  /* 0xFF6B OBJ palette data */
#define CGB_PALETTE_AUTO_INCREMENT 0x80
#define CPU_TYPE_CGB 0x11                   /* value of A at boot on a Game Boy Color */

/* Memory regions */
#define VRAM_TILES   ((volatile uint8_t *)0x8000)  /* tile data, 16 bytes per tile */
#define VRAM_BG_MAP  ((volatile uint8_t *)0x9800)  /* 32x32 background tile map */
#define BG_MAP_WIDTH 32
#define TILE_BYTES   16

/* Screen and sprites */
#define SCREEN_WIDTH     160
#define SCREEN_HEIGHT    144
#define SCREEN_TILES_W   20
#define SCREEN_TILES_H   18
#define OAM_SPRITES      40
#define OAM_Y_OFFSET     16   /* OAM y = screen y + 16 */
#define OAM_X_OFFSET     8    /* OAM x = screen x + 8 */
#define OAM_ATTR_CGB_PALETTE_MASK 0x07
#define OAM_ATTR_DMG_OBP1 0x10

/* CGB colours: 5 bits per channel, little-endian 0bbbbbgggggrrrrr */
#define RGB15(r, g, b) ((uint16_t)((r) | ((g) << 5) | ((b) << 10)))

#endif
