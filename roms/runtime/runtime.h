/* Shared runtime for the ROMs in roms/: VBlank waiting, joypad, OAM DMA,
 * a seeded random number generator and LCD/VRAM helpers. */
#ifndef RUNTIME_H
#define RUNTIME_H

#include <stdint.h>
#include "hardware.h"

/* Defined in crt0.s */
extern uint8_t shadow_oam[OAM_SPRITES * 4];  /* copied to OAM by oam_dma() */
extern uint8_t boot_cpu_type;                /* CPU_TYPE_CGB on a Game Boy Color */
extern volatile uint8_t vblank_count;        /* incremented by the VBlank interrupt */
void oam_dma(void);

/* Joypad bits as returned by joypad_update() */
#define J_RIGHT  0x01
#define J_LEFT   0x02
#define J_UP     0x04
#define J_DOWN   0x08
#define J_A      0x10
#define J_B      0x20
#define J_SELECT 0x40
#define J_START  0x80

extern uint8_t joypad_held;      /* buttons down this frame */
extern uint8_t joypad_previous;  /* buttons down the frame before */
/* Read the joypad once per frame; returns the buttons pressed since the last call. */
uint8_t joypad_update(void);

/* Sleep (halt) until the next VBlank interrupt (LY 144). */
void wait_vblank(void);
/* Sleep until the LCD starts the next frame (LY 0): VBlank is over. PyBoy's
 * tick() returns at this point, so game logic that runs after it is never
 * seen half done by an emulator that reads RAM between frames. */
void wait_frame_start(void);

/* xorshift16 (7, 9, 8); rng_state is never 0. */
extern uint16_t rng_state;
void rng_seed(uint16_t seed);
uint8_t rng_next(void);

/* LCD off (waits for VBlank first, as required) and on. */
void lcd_off(void);
void lcd_on(uint8_t lcdc_flags);

/* VRAM access with the LCD off. */
void vram_fill(volatile uint8_t *dst, uint8_t value, uint16_t count);
void vram_copy(volatile uint8_t *dst, const uint8_t *src, uint16_t count);
/* Expand 1-bit-per-pixel 8x8 glyphs to 2bpp tiles drawn in colour index `colour` (0-3). */
void vram_load_1bpp(volatile uint8_t *dst, const uint8_t *glyphs, uint16_t count, uint8_t colour);

uint8_t is_cgb(void);
/* Set CGB palette `index` (0-7) to 4 colours. */
void cgb_set_bg_palette(uint8_t index, const uint16_t *colours);
void cgb_set_obj_palette(uint8_t index, const uint16_t *colours);

#endif
