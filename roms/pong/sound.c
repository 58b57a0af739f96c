/* Pong's sound driver (see sound.h). Its whole state lives in RAM (kind
 * runtime): a pattern position and a frame counter per channel. Patterns are
 * (note, frames) pairs ending with frames 0; note 0 is a rest. Every frame
 * sound_update() writes the master registers NR50-NR52 and, when a note
 * starts, the registers of its channel (channel 2 the tune, channel 1 the
 * effects). */
#include <stdint.h>
#include "pong.h"
#include "sound.h"

#define NOTE_REST 0
#define NOTE_G4   1
#define NOTE_C5   2
#define NOTE_D5   3
#define NOTE_E5   4
#define NOTE_F5   5
#define NOTE_G5   6
#define NOTE_A5   7
#define NOTE_C6   8
#define NOTE_E6   9
#define NOTE_G6   10
#define NOTE_C4   11
#define NOTE_G3   12
#define NOTES     13

#define NR52_SOUND_ON   0x80
#define NR50_FULL       0x77  /* both outputs at volume 7 */
#define NR51_ALL        0xFF  /* every channel to both outputs */
#define DUTY_HALF       0x80  /* NRx1: 50% square wave */
#define DUTY_QUARTER    0x40
#define ENVELOPE_TUNE   0x92  /* NRx2: volume 9, fading every 2/64 s */
#define ENVELOPE_SFX    0xF1  /* volume 15, fading fast */
#define TRIGGER         0x80  /* NRx4 bit 7: restart the channel */
#define PATTERN_END     0     /* frames 0 ends a pattern */

/* Period values 2048 - 131072 / Hz, split in low byte and high 3 bits */
static const uint8_t note_period_low[NOTES] = {
    0, 0xB2, 0x06, 0x21, 0x39, 0x44, 0x59, 0x6B, 0x83, 0x9D, 0xAC, 0x0B, 0x63,
};
static const uint8_t note_period_high[NOTES] = {
    0, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 6, 5,
};

/* The title tune: a bouncing arpeggio, looped */
static const uint8_t tune_title[] = {
    NOTE_C5, 8, NOTE_E5, 8, NOTE_G5, 8, NOTE_C6, 16, NOTE_G5, 8, NOTE_E5, 8, NOTE_C5, 16,
    NOTE_D5, 8, NOTE_F5, 8, NOTE_A5, 8, NOTE_F5, 16, NOTE_G4, 8, NOTE_REST, 24,
    PATTERN_END, PATTERN_END,
};
static const uint8_t sfx_paddle[] = {NOTE_C6, 4, NOTE_G6, 3, PATTERN_END, PATTERN_END};
static const uint8_t sfx_wall[] = {NOTE_G4, 4, PATTERN_END, PATTERN_END};
static const uint8_t sfx_player_point[] = {NOTE_E5, 5, NOTE_G5, 5, NOTE_C6, 5, NOTE_E6, 10, PATTERN_END, PATTERN_END};
static const uint8_t sfx_cpu_point[] = {NOTE_G5, 5, NOTE_E5, 5, NOTE_C5, 5, NOTE_G4, 10, PATTERN_END, PATTERN_END};
static const uint8_t sfx_game_over[] = {
    NOTE_C5, 10, NOTE_G4, 10, NOTE_C4, 10, NOTE_G3, 30, PATTERN_END, PATTERN_END,
};
static const uint8_t *const sfx_patterns[] = {
    0, sfx_paddle, sfx_wall, sfx_player_point, sfx_cpu_point, sfx_game_over,
};

uint8_t music_on;        /* runtime: 1 while the title tune plays on channel 2 */
uint8_t music_position;  /* runtime: byte offset of the next (note, frames) pair in the tune */
uint8_t music_tick;      /* runtime: frames left of the tune's current note (0: start the next) */
uint8_t sfx_id;          /* runtime: sound effect playing on channel 1 (SFX_* of pong.h, 0: none) */
uint8_t sfx_position;    /* runtime: byte offset of the next (note, frames) pair of the effect */
uint8_t sfx_tick;        /* runtime: frames left of the effect's current note (0: start the next) */

void sound_init(void)
{
    NR52_REG = NR52_SOUND_ON;  /* first: the other registers ignore writes while sound is off */
    NR10_REG = 0;              /* no sweep */
    NR12_REG = 0;
    NR22_REG = 0;
    music_on = 0;
    sfx_id = SFX_NONE;
}

void music_start(void)
{
    music_on = 1;
    music_position = 0;
    music_tick = 0;
}

void music_stop(void)
{
    music_on = 0;
    NR22_REG = 0;  /* volume 0 with the DAC off silences the channel at once */
}

void sfx_play(uint8_t id)
{
    sfx_id = id;
    sfx_position = 0;
    sfx_tick = 0;
}

static void start_note(uint8_t note, uint8_t channel)
{
    if (channel == 1) {
        if (note == NOTE_REST) {
            NR12_REG = 0;
            return;
        }
        NR11_REG = DUTY_QUARTER;
        NR12_REG = ENVELOPE_SFX;
        NR13_REG = note_period_low[note];
        NR14_REG = TRIGGER | note_period_high[note];
    } else {
        if (note == NOTE_REST) {
            NR22_REG = 0;
            return;
        }
        NR21_REG = DUTY_HALF;
        NR22_REG = ENVELOPE_TUNE;
        NR23_REG = note_period_low[note];
        NR24_REG = TRIGGER | note_period_high[note];
    }
}

void sound_update(void)
{
    const uint8_t *pattern;
    NR52_REG = NR52_SOUND_ON;
    NR50_REG = NR50_FULL;
    NR51_REG = NR51_ALL;
    if (music_on) {
        if (music_tick == 0) {
            if (tune_title[music_position + 1] == PATTERN_END) {
                music_position = 0;  /* loop */
            }
            start_note(tune_title[music_position], 2);
            music_tick = tune_title[music_position + 1];
            music_position += 2;
        }
        music_tick--;
    }
    if (sfx_id != SFX_NONE) {
        if (sfx_tick == 0) {
            pattern = sfx_patterns[sfx_id];
            if (pattern[sfx_position + 1] == PATTERN_END) {
                sfx_id = SFX_NONE;
                NR12_REG = 0;
                return;
            }
            start_note(pattern[sfx_position], 1);
            sfx_tick = pattern[sfx_position + 1];
            sfx_position += 2;
        }
        sfx_tick--;
    }
}
