/* Pong for the Game Boy Color: constants shared by the game code and
 * copied into pong.symbols.json ("constants") for tools and tests. */
#ifndef PONG_H
#define PONG_H

#include "font.h"

/* game_state values */
#define GAME_STATE_TITLE     0   /* title screen with its tune, waits for START or A */
#define GAME_STATE_PLAY      1   /* playing (serve_timer > 0: the ball rests before it moves) */
#define GAME_STATE_GAME_OVER 2   /* one side reached WIN_SCORE; START or A returns to title */

#define WIN_SCORE 7              /* the first side to this many points wins */

/* Screen layout: tile rows and columns of 8 px, pixel bounds of the playfield */
#define HUD_ROW          0     /* text line 0: both scores */
#define TOP_WALL_ROW     1
#define BOTTOM_WALL_ROW  17
#define MESSAGE_ROW      6     /* text line 1: "PONG", "SERVE", "GAME OVER" */
#define PROMPT_ROW       11    /* text line 2: "PRESS START", "YOU WIN", "CPU WINS" */
#define NET_COL          9     /* the net: a dashed 2-px line at pixels 6-7 of this tile column (x 78-79) */
#define PLAYER_SCORE_COL 5     /* HUD digit of the player's score ("YOU" before it) */
#define CPU_SCORE_COL    18    /* HUD digit of the CPU's score ("CPU" before it) */
#define PLAYFIELD_TOP    16    /* first pixel row below the top wall */
#define PLAYFIELD_BOTTOM 136   /* first pixel row of the bottom wall */

/* Text buffer: TEXT_LINES lines of SCREEN_TILES_W tiles, each shown on one tile row */
#define TEXT_LINES       3
#define TEXT_LINE_HUD     0
#define TEXT_LINE_MESSAGE 1
#define TEXT_LINE_PROMPT  2

/* Background and sprite tiles (tile data at 0x8000) */
#define TILE_EMPTY   0
#define TILE_WALL    1
#define TILE_NET     2
#define TILE_FONT    3     /* FONT_GLYPHS tiles: '0'-'9', 'A'-'Z' */
#define TILE_BALL    (TILE_FONT + FONT_GLYPHS)
#define TILE_PADDLE  (TILE_BALL + 1)

/* Paddles: vertical, 4 x 24 px, three 8-px-high sprites each */
#define PADDLE_WIDTH     4
#define PADDLE_HEIGHT    24
#define PADDLE_SPRITES   3
#define PLAYER_X         8     /* left edge of the player's paddle (left side) */
#define CPU_X            148   /* left edge of the CPU's paddle (right side) */
#define PADDLE_Y_MIN     PLAYFIELD_TOP
#define PADDLE_Y_MAX     (PLAYFIELD_BOTTOM - PADDLE_HEIGHT)
#define PADDLE_START_Y   ((PLAYFIELD_TOP + PLAYFIELD_BOTTOM - PADDLE_HEIGHT) / 2)
#define PLAYER_SPEED     2     /* px per frame while UP or DOWN is held */
#define CPU_SPEED        1     /* px per frame: the CPU cannot follow steep shots */
#define CPU_DEAD_ZONE    2     /* the CPU rests when its centre is this close to its target */
#define CPU_REACT_X      64    /* the CPU follows the ball only once the ball's left edge is past this x */

/* Ball: 4x4 px; velocity in 1/32 px per frame (int8_t), moved one pixel at a time */
#define BALL_SIZE        4
#define SUBPIXEL_SHIFT   5
#define SUBPIXEL_MASK    31
#define BALL_SPEED_BASE  40    /* |ball_dx| of a serve: 1.25 px per frame */
#define BALL_SPEED_STEP  8     /* +0.25 px per frame every SPEEDUP_HITS paddle hits */
#define BALL_SPEED_MAX   88    /* 2.75 px per frame */
#define SPEEDUP_HITS     2
#define HIT_COUNT_MAX    255
/* A paddle hit sends the ball back with ball_dy = BALL_DY_PER_PX x (ball centre - paddle centre),
 * the offset being -13..13 px: the paddle's ends give the steepest shots. */
#define BALL_DY_PER_PX   4
#define PADDLE_REACH     ((PADDLE_HEIGHT + BALL_SIZE) / 2)

/* Serve: the ball rests SERVE_DELAY frames on the centre line at a random height,
 * then leaves toward a random side with a random ball_dy in -SERVE_DY_MAX..SERVE_DY_MAX. */
#define SERVE_X          78
#define SERVE_Y_MIN      (PLAYFIELD_TOP + 16)
#define SERVE_Y_MAX      (PLAYFIELD_BOTTOM - 16 - BALL_SIZE)
#define SERVE_DY_MAX     24
#define SERVE_DELAY      48

/* Sound effects (sfx_id of sound.c), played on channel 1 */
#define SFX_NONE         0
#define SFX_PADDLE       1   /* the ball meets a paddle */
#define SFX_WALL         2   /* the ball bounces off the top or bottom wall */
#define SFX_PLAYER_POINT 3   /* the player scores: rising */
#define SFX_CPU_POINT    4   /* the CPU scores: falling */
#define SFX_GAME_OVER    5

#endif
