/* Pong's sound driver: a looping tune on channel 2 and one-shot sound
 * effects on channel 1, advanced once per frame by sound_update(). */
#ifndef SOUND_H
#define SOUND_H

#include <stdint.h>

/* Sound registers (Pan Docs, "Audio Registers"), reached with ldh */
static volatile __sfr __at(0x10) NR10_REG;  /* 0xFF10 channel 1 sweep */
static volatile __sfr __at(0x11) NR11_REG;  /* 0xFF11 channel 1 duty and length */
static volatile __sfr __at(0x12) NR12_REG;  /* 0xFF12 channel 1 volume envelope (0: DAC off) */
static volatile __sfr __at(0x13) NR13_REG;  /* 0xFF13 channel 1 period, low byte */
static volatile __sfr __at(0x14) NR14_REG;  /* 0xFF14 channel 1 trigger and period, high 3 bits */
static volatile __sfr __at(0x16) NR21_REG;  /* 0xFF16 channel 2 duty and length */
static volatile __sfr __at(0x17) NR22_REG;  /* 0xFF17 channel 2 volume envelope */
static volatile __sfr __at(0x18) NR23_REG;  /* 0xFF18 channel 2 period, low byte */
static volatile __sfr __at(0x19) NR24_REG;  /* 0xFF19 channel 2 trigger and period, high 3 bits */
static volatile __sfr __at(0x24) NR50_REG;  /* 0xFF24 master volume */
static volatile __sfr __at(0x25) NR51_REG;  /* 0xFF25 channel panning */
static volatile __sfr __at(0x26) NR52_REG;  /* 0xFF26 sound on/off */

void sound_init(void);
void sound_update(void);   /* once per frame */
void music_start(void);    /* the title tune, looping */
void music_stop(void);
void sfx_play(uint8_t id); /* SFX_* of pong.h; replaces the effect playing, if any */

#endif
