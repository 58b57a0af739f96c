/* 5x7 font for digits and capital letters, stored 1 bit per pixel. */
#ifndef FONT_H
#define FONT_H

#include <stdint.h>

#define FONT_GLYPHS 36   /* '0'-'9' then 'A'-'Z' */
extern const uint8_t font_glyphs[FONT_GLYPHS * 8];

#endif
