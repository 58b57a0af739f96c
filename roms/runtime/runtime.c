/* Shared runtime, see runtime.h. */
#include <string.h>
#include "runtime.h"

/* Each global's comment "kind: description" goes into the symbols file. */
uint8_t joypad_held;         /* runtime: buttons down this frame (J_* bits of runtime.h) */
uint8_t joypad_previous;     /* runtime: buttons down the frame before */
uint16_t rng_state = 1;      /* state: xorshift16 random number generator state, never 0; decides every serve */

uint8_t joypad_update(void)
{
    uint8_t dpad, buttons;
    P1_REG = P1_SELECT_DPAD;
    dpad = P1_REG;             /* the lines settle after a few reads */
    dpad = P1_REG;
    P1_REG = P1_SELECT_BUTTONS;
    buttons = P1_REG;
    buttons = P1_REG;
    buttons = P1_REG;
    buttons = P1_REG;
    P1_REG = P1_SELECT_NONE;
    joypad_previous = joypad_held;
    /* the hardware reads 0 for a pressed button */
    joypad_held = (uint8_t)(~((dpad & 0x0F) | (uint8_t)(buttons << 4)));
    return joypad_held & (uint8_t)~joypad_previous;
}

void wait_vblank(void)
{
    uint8_t start = vblank_count;
    while (vblank_count == start) {
        __asm__("halt");
    }
}

void wait_frame_start(void)
{
    /* the LY == LYC (0) interrupt, enabled by crt0.s, ends the halt */
    while (LY_REG >= LY_VBLANK_START) {
        __asm__("halt");
    }
}

void rng_seed(uint16_t seed)
{
    rng_state = seed ? seed : 1;
}

uint8_t rng_next(void)
{
    uint16_t x = rng_state;
    if (x == 0) {
        x = 1;  /* a zero state would stay zero forever */
    }
    x ^= x << 7;
    x ^= x >> 9;
    x ^= x << 8;
    rng_state = x;
    return (uint8_t)x;
}

void lcd_off(void)
{
    if (!(LCDC_REG & LCDC_ON)) {
        return;
    }
    /* turning the LCD off outside VBlank can damage a real DMG */
    while (LY_REG < LY_VBLANK_START) {
    }
    LCDC_REG = 0;
}

void lcd_on(uint8_t lcdc_flags)
{
    LCDC_REG = LCDC_ON | lcdc_flags;
}

void vram_fill(volatile uint8_t *dst, uint8_t value, uint16_t count)
{
    memset((uint8_t *)dst, value, count);
}

void vram_copy(volatile uint8_t *dst, const uint8_t *src, uint16_t count)
{
    memcpy((uint8_t *)dst, src, count);
}

void vram_load_1bpp(volatile uint8_t *dst, const uint8_t *glyphs, uint16_t count, uint8_t colour)
{
    uint8_t low = (colour & 1) ? 0xFF : 0x00;
    uint8_t high = (colour & 2) ? 0xFF : 0x00;
    count *= 8;
    while (count--) {
        uint8_t row = *glyphs++;
        *dst++ = row & low;
        *dst++ = row & high;
    }
}

uint8_t is_cgb(void)
{
    return boot_cpu_type == CPU_TYPE_CGB;
}

void cgb_set_bg_palette(uint8_t index, const uint16_t *colours)
{
    /* byte by byte: the colours are little-endian, as the hardware takes them
     * (SDCC 4.2 miscompiles the loop that splits each uint16_t into two writes) */
    const uint8_t *bytes = (const uint8_t *)colours;
    uint8_t i;
    BCPS_REG = CGB_PALETTE_AUTO_INCREMENT | (uint8_t)(index * 8);
    for (i = 0; i < 8; i++) {
        BCPD_REG = *bytes++;
    }
}

void cgb_set_obj_palette(uint8_t index, const uint16_t *colours)
{
    /* byte by byte: the colours are little-endian, as the hardware takes them
     * (SDCC 4.2 miscompiles the loop that splits each uint16_t into two writes) */
    const uint8_t *bytes = (const uint8_t *)colours;
    uint8_t i;
    OCPS_REG = CGB_PALETTE_AUTO_INCREMENT | (uint8_t)(index * 8);
    for (i = 0; i < 8; i++) {
        OCPD_REG = *bytes++;
    }
}
