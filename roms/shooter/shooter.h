/* Shooter (a fixed shooter in the manner of Space Invaders) for the Game Boy
 * Color: constants shared by the game code and copied into
 * shooter.symbols.json ("constants") for tools and tests. */
#ifndef SHOOTER_H
#define SHOOTER_H

#include "font.h"

/* game_state values */
#define GAME_STATE_TITLE     0   /* title screen, waits for START or A */
#define GAME_STATE_PLAY      1   /* playing */
#define GAME_STATE_GAME_OVER 2   /* lives ran out or the formation reached the player; START or A: title */

/* Formation: FORMATION_ROWS x FORMATION_COLUMNS enemies; enemy_alive[r] bit c is
 * the enemy of row r, column c. Column c's left edge is formation_x + c * COLUMN_SPACING,
 * row r's top edge formation_y + r * ROW_SPACING. */
#define FORMATION_ROWS     4
#define FORMATION_COLUMNS  8
#define ENEMY_COUNT        (FORMATION_ROWS * FORMATION_COLUMNS)
#define ENEMY_WIDTH        8
#define ENEMY_HEIGHT       10
#define COLUMN_SPACING     12
#define ROW_SPACING        14    /* < 16: a row's 8x16 sprites reach 2 lines into the next row's, */
#define SPRITE_HEIGHT      16    /* so two full rows put 16 sprites on those lines (flicker) */
#define FORMATION_WIDTH    ((FORMATION_COLUMNS - 1) * COLUMN_SPACING + ENEMY_WIDTH)
#define FORMATION_HEIGHT   ((FORMATION_ROWS - 1) * ROW_SPACING + ENEMY_HEIGHT)
#define ENEMY_KINDS        3     /* kind k scores (k + 1) * 10 and has its own look and colour */
#define POINTS_PER_KIND    10
#define MARCH_STEP         2     /* px the formation moves sideways per march */
#define FORMATION_DROP     4     /* px it descends when its outermost live column meets a wall */
#define FORMATION_START_Y  24
#define WAVE_START_DROP    8     /* each later wave starts this much lower, up to WAVE_DROPS_MAX times */
#define WAVE_DROPS_MAX     3
#define WAVE_MAX           99
#define MARCH_INTERVAL_MIN 2     /* it marches every enemies_left / 2 + MARCH_INTERVAL_MIN frames: faster as enemies die */

/* Playfield (screen pixels) */
#define HUD_ROW            0
#define PLAYFIELD_LEFT     8
#define PLAYFIELD_RIGHT    152   /* first pixel right of the playfield */
#define PLAYFIELD_TOP      16
#define GROUND_ROW         17    /* tile row of the ground line */
#define GROUND_Y           (GROUND_ROW * 8)
#define FORMATION_START_X  ((PLAYFIELD_LEFT + PLAYFIELD_RIGHT - FORMATION_WIDTH) / 2)

/* Player: an 8x8 cannon on the row above the ground */
#define PLAYER_Y           128
#define PLAYER_WIDTH       8
#define PLAYER_HEIGHT      8
#define PLAYER_SPEED       2
#define PLAYER_START_X     ((PLAYFIELD_LEFT + PLAYFIELD_RIGHT - PLAYER_WIDTH) / 2)
#define PLAYER_X_MAX       (PLAYFIELD_RIGHT - PLAYER_WIDTH)
#define START_LIVES        3
#define RESPAWN_DELAY      60    /* frames with no player and a frozen formation after a hit */

/* Shots: x, y are the sprite's top-left; the shot is SHOT_HEIGHT px tall from
 * column x + SHOT_OFFSET_X, 1 px (player) or 2 px (enemies) wide. */
#define SHOT_OFFSET_X      3
#define SHOT_HEIGHT        6
#define PLAYER_SHOT_SPEED  4
#define ENEMY_SHOTS        3
#define ENEMY_SHOT_WIDTH   2
#define ENEMY_SHOT_SPEED   2
#define FIRE_DELAY_BASE    40    /* frames between enemy shots: base - wave bonus + random 0-31 */
#define FIRE_DELAY_RANDOM  32
#define FIRE_DELAY_WAVE_STEP 6
#define AIMED_SHOT_MASK    1     /* rng & mask == 0: the shot comes from the live column nearest the cannon */
#define WAVE_DELAY         40    /* frames the formation waits at the start of a wave */

/* Shields: SHIELDS blocks of SHIELD_TILE_COLS x SHIELD_TILE_ROWS background tiles;
 * shield_damage[(s * SHIELD_TILE_ROWS + row) * SHIELD_TILE_COLS + col] is 0 (whole)
 * to SHIELD_DAMAGE_GONE. Each enemy shot that meets a tile erodes it one level; the
 * cannon fires through them from below; the formation flattens what it reaches. */
#define SHIELDS            4
#define SHIELD_TILE_COLS   3
#define SHIELD_TILE_ROWS   2
#define SHIELD_TILES       (SHIELDS * SHIELD_TILE_COLS * SHIELD_TILE_ROWS)
#define SHIELD_TOP_ROW     14
#define SHIELD_FIRST_COL   1
#define SHIELD_COL_STEP    5
#define SHIELD_DAMAGE_GONE 3
#define SHIELD_TOP         (SHIELD_TOP_ROW * 8)
#define SHIELD_BOTTOM      (SHIELD_TOP + SHIELD_TILE_ROWS * 8)

/* HUD (tile columns of row HUD_ROW) and messages */
#define SCORE_BYTES        3     /* BCD, least significant byte first: 6 digits */
#define SCORE_DIGITS_COL   3
#define WAVE_DIGITS_COL    12
#define LIVES_DIGIT_COL    18
#define MESSAGE_ROW        9

/* Sprites: OAM slot 0 is the cannon, slot 1 the player's shot, slots 2-4 the
 * enemy shots; the ENEMY_COUNT enemies fill the next slots, written from slot
 * FIRST_ENEMY_SLOT + oam_rotation on (wrapping), row by row, left to right. */
#define FIRST_ENEMY_SLOT   (2 + ENEMY_SHOTS)
#define SPRITES_PER_LINE   10    /* the hardware's limit; more on a line: rotate the order each frame */
#define FLICKER_STEP       7

/* Background and sprite tiles (tile data at 0x8000; 8x16 sprites use even tile pairs) */
#define TILE_EMPTY         0
#define TILE_GROUND        1
#define TILE_SHIELD        2     /* + damage level 0-2 */
#define TILE_FONT          5     /* FONT_GLYPHS tiles: '0'-'9', 'A'-'Z' */
#define TILE_ENEMY         (TILE_FONT + FONT_GLYPHS + 1)  /* + (kind * 2 + frame) * 2 */
#define TILE_PLAYER        (TILE_ENEMY + ENEMY_KINDS * 4)
#define TILE_PLAYER_SHOT   (TILE_PLAYER + 2)
#define TILE_ENEMY_SHOT    (TILE_PLAYER_SHOT + 2)

#endif
