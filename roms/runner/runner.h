/* Side-scrolling runner for the Game Boy Color: constants shared by the game
 * code and copied into runner.symbols.json ("constants") for tools and tests. */
#ifndef RUNNER_H
#define RUNNER_H

#include "font.h"

/* game_state values */
#define GAME_STATE_TITLE     0   /* title screen, waits for START or A */
#define GAME_STATE_PLAY      1   /* running */
#define GAME_STATE_GAME_OVER 2   /* hit an obstacle; START or A returns to the title */

/* Screen layout: background tile rows of 8 px and the lines they cover */
#define BAR_ROW           13     /* overhead bars: lines 104-111 */
#define BLOCK_ROW         14     /* ground blocks: lines 112-119 */
#define GROUND_ROW        15     /* the ground: lines 120-127 */
#define BAR_TOP           (BAR_ROW * 8)
#define BLOCK_TOP         (BLOCK_ROW * 8)
#define GROUND_TOP        (GROUND_ROW * 8)
#define OBSTACLE_HEIGHT   8
/* The window layer is the HUD (distance and speed) from line HUD_TOP down. The
 * LY == LYC STAT interrupt on STATUS_SPLIT_LINE waits for its HBlank, then turns
 * sprites off and switches the palette (DMG BGP; CGB BG palette 0 colours 0
 * and 3), so the status bar below is drawn differently; VBlank restores both. */
#define HUD_TOP           128
#define STATUS_SPLIT_LINE (HUD_TOP - 1)
#define HUD_WINDOW_X      7      /* WX: window from screen x 0 */
#define HUD_TEXT_ROW      0      /* window tile rows */
#define HUD_MESSAGE_ROW   1
#define DISTANCE_DIGITS_COL 6    /* five digits */
#define SPEED_DIGITS_COL  18     /* two digits */
#define DISTANCE_MAX      65535  /* the distance saturates here */

/* Player (screen pixels): a 8x16 runner at a fixed screen x, 8x8 when ducking */
#define PLAYER_X          24
#define PLAYER_WIDTH      8
#define PLAYER_HEIGHT     16
#define DUCK_HEIGHT       8
#define STAND_Y           (GROUND_TOP - PLAYER_HEIGHT)   /* player_y on the ground */
#define DUCK_Y            (GROUND_TOP - DUCK_HEIGHT)     /* top of the ducking player */
#define HITBOX_INSET      1      /* px left out of each side of the player for collisions */

/* Vertical motion in 1/256 px per frame: each frame player_y moves by player_vy,
 * then gravity adds GRAVITY (down is positive) up to MAX_FALL_SPEED.
 * A jump reaches 34 px and lands after 33 frames. */
#define GRAVITY           64
#define JUMP_VELOCITY     1024
#define MAX_FALL_SPEED    1024

/* Scrolling speed in 1/256 px per frame: SPEED_BASE + speed_level * SPEED_STEP,
 * one level more every SPEED_LEVEL_FRAMES frames of play (1.5 to 4 px per frame). */
#define SPEED_BASE         384
#define SPEED_STEP         64
#define SPEED_LEVEL_MAX    10
#define SPEED_LEVEL_FRAMES 600

/* The column ring: the kind of each upcoming world column (8 px wide), indexed
 * by world column mod RING_SIZE. Columns are generated RING_AHEAD columns ahead
 * of the camera's left column and drawn into the BG map through the tile queue. */
#define COLUMN_EMPTY       0
#define COLUMN_BLOCK       1     /* a ground block on BLOCK_ROW: jump over it */
#define COLUMN_BAR         2     /* an overhead bar on BAR_ROW: duck under it */
#define RING_SIZE          32
#define RING_AHEAD         24    /* > the 21 columns on screen, < RING_SIZE */
#define SAFE_START_COLUMNS RING_AHEAD   /* the columns drawn at the start are empty */
/* After an obstacle, GAP_BASE + (speed >> GAP_SPEED_SHIFT) columns stay empty
 * (room to land from a jump); then each column holds an obstacle with
 * probability SPAWN_CHANCE / 256, a block or a bar with equal odds. */
#define GAP_BASE           4
#define GAP_SPEED_SHIFT    6
#define SPAWN_CHANCE       64
#define NO_OBSTACLE        255   /* next_obstacle_x when no obstacle is generated ahead */

/* Background and sprite tiles (tile data at 0x8000) */
#define TILE_EMPTY        0
#define TILE_GROUND       1
#define TILE_BLOCK        2
#define TILE_BAR          3
#define TILE_FONT         4      /* FONT_GLYPHS tiles: '0'-'9', 'A'-'Z' */
#define TILE_PLAYER_HEAD  (TILE_FONT + FONT_GLYPHS)
#define TILE_PLAYER_LEGS  (TILE_PLAYER_HEAD + 1)
#define TILE_PLAYER_DUCK  (TILE_PLAYER_HEAD + 2)

/* CGB WRAM bank of the level data (column_ring) and the bank restored after */
#define LEVEL_WRAM_BANK   2
#define MAIN_WRAM_BANK    1

#endif
