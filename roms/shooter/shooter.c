/* Shooter for the Game Boy Color (also runs on the original Game Boy): a fixed
 * shooter in the manner of Space Invaders.
 *
 * Rules (constants in shooter.h):
 * - A formation of 4 x 8 enemies marches sideways MARCH_STEP px at a time and
 *   drops FORMATION_DROP px when its outermost live column meets a wall; it
 *   marches every enemies_left / 2 + MARCH_INTERVAL_MIN frames, so it speeds up as enemies die.
 * - The player's cannon moves along the bottom and fires one shot at a time (A).
 *   A shot that meets an enemy kills it and scores (kind + 1) * 10 points.
 * - Up to ENEMY_SHOTS enemy shots fall at once, each fired by the lowest live
 *   enemy of a random column or, one time in two, of the live column nearest
 *   the cannon. One that meets the cannon costs a life.
 * - Four shields of background tiles stand above the cannon; every enemy shot
 *   that meets a shield tile erodes it one level until it is gone. The cannon
 *   fires through them; the formation flattens the tiles it comes down on.
 * - Clearing the formation starts the next wave, laid out by generate_wave()
 *   from the seeded random number generator. Game over when the lives run out
 *   or the formation reaches the cannon's row.
 * The random draws all happen in play, after the first frame of play, so a seed
 * written into rng_state at that frame decides the game.
 *
 * Sprites are 8x16 (LCDC bit 2) and double-buffered in two shadow OAM pages
 * (shadow_oam in crt0.s, shadow_oam_b in oam_pages.s): the game writes one while
 * the other is copied to OAM, and they swap every frame. The cannon and the shots
 * have fixed slots first in OAM (the hardware never drops them); when more than
 * SPRITES_PER_LINE sprites may share a scan line, the enemies' slots rotate every
 * frame, so the hardware drops different enemies each frame (flicker) instead of
 * always the same.
 *
 * Every global below carries a comment "kind: description" that
 * roms/tools/make_symbols.py copies into shooter.symbols.json. */
#include <stdint.h>
#include <string.h>
#include "hardware.h"
#include "runtime.h"
#include "font.h"
#include "shooter.h"

#define OBJ_PALETTE_PLAYER      0
#define OBJ_PALETTE_ENEMY       1   /* + kind */
#define OBJ_PALETTE_PLAYER_SHOT 4
#define OBJ_PALETTE_ENEMY_SHOT  5

#define BG_QUEUE_SIZE    40    /* bounded by one frame's kills, erosions and HUD text */
#define LCDC_GAME        (LCDC_TILES_8000 | LCDC_OBJ_8X16 | LCDC_OBJ_ON | LCDC_BG_ON)
#define DMG_PALETTE      0x1B  /* colour 0 black, 1 dark grey, 2 light grey, 3 white */
#define OAM_PAGE_A       0xC0  /* high bytes of shadow_oam and shadow_oam_b */
#define OAM_PAGE_B       0xC1

/* An enemy shot in flight (x, y: top-left of its sprite). */
struct enemy_shot {
    uint8_t active;
    uint8_t x;
    uint8_t y;
};

extern uint8_t shadow_oam_b[OAM_SPRITES * 4];  /* oam_pages.s */
void oam_dma_from(uint8_t page);
/* oam_pages.s: the formation's sprites from slot p on (wrapping from the last object slot to slot 1) */
void oam_put_formation(uint8_t *p);

/* ---- game state ---- */
uint8_t game_state;          /* state: GAME_STATE_TITLE 0, GAME_STATE_PLAY 1, GAME_STATE_GAME_OVER 2 (shooter.h) */
uint8_t player_x;            /* state: left edge of the 8-px cannon in screen pixels (its top is PLAYER_Y) */
uint8_t player_shot_active;  /* state: 1 while the player's shot flies */
uint8_t player_shot_x;       /* state: left edge of the player's shot sprite (the shot is column + SHOT_OFFSET_X) */
uint8_t player_shot_y;       /* state: top edge of the player's shot */
struct enemy_shot enemy_shots[ENEMY_SHOTS]; /* state: enemy shots, 3 bytes each: active, x (sprite left edge), y (top edge) */
uint8_t enemy_alive[FORMATION_ROWS]; /* state: one byte per formation row from the top, bit c set while column c's enemy lives */
uint8_t row_kind[FORMATION_ROWS];    /* state: enemy kind 0-2 of each row (scores (kind + 1) * 10) */
uint8_t enemies_left;        /* state: live enemies in the formation */
int16_t formation_x;         /* state: left edge of column 0 in screen pixels (negative once left columns are gone) */
uint8_t formation_y;         /* state: top edge of row 0 in screen pixels */
int8_t formation_dx;         /* state: sideways step of the next march, +MARCH_STEP or -MARCH_STEP px */
uint8_t march_timer;         /* state: frames until the formation's next march */
uint8_t anim_frame;          /* state: 0 or 1, the enemies' animation frame, flips at every march */
uint8_t fire_timer;          /* state: frames until the next enemy shot */
uint8_t shield_damage[SHIELD_TILES]; /* state: erosion 0 (whole) to 3 (gone) of each shield tile, shield by shield, rows then columns */
uint8_t lives;               /* state: cannons left including the one in play (starts 3) */
uint8_t score[SCORE_BYTES];  /* state: points, BCD, least significant byte first (6 digits) */
uint8_t wave;                /* state: wave number from 1 */
uint8_t wave_timer;          /* state: frames the new wave still waits (the wave is laid out when it equals WAVE_DELAY) */
uint8_t respawn_timer;       /* state: frames until the cannon returns after a hit (0: in play) */
uint16_t title_frames;       /* runtime: frames spent on the title screen, mixed into the seed */

/* ---- wave generator buffers, written only while a wave is laid out ---- */
uint8_t wave_column_order[FORMATION_COLUMNS]; /* scratch: random permutation of the columns; the first (wave - 1) % 4 are left empty in the top row */
uint8_t wave_row_kinds[FORMATION_ROWS];       /* scratch: random enemy kinds of the rows, sorted so that higher rows are worth more */

/* ---- screen ---- */
uint8_t oam_back_page;       /* screen: high byte (0xC0 or 0xC1) of the shadow OAM page the game wrote last; copied to OAM at the next VBlank, then the game writes the other */
uint8_t oam_rotation;        /* screen: the formation's first enemy goes to OAM slot FIRST_ENEMY_SLOT + oam_rotation (0-31); advances while a scan line is crowded */
uint16_t bg_queue_offset[BG_QUEUE_SIZE]; /* screen: tile-map offsets (from 0x9800) waiting to be written */
uint8_t bg_queue_tile[BG_QUEUE_SIZE];    /* screen: tile numbers waiting to be written */
uint8_t bg_queue_length;                 /* screen: entries in the queue */

static const uint8_t nibble_bits[16] = {0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4};
/* a random kind from 4 random bits (kinds 0 and 1 one time in 16 more often than 2) */
static const uint8_t kind_draws[16] = {0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0};

/* 1 bit per pixel, 16 rows per 8x16 sprite: enemy kinds 0-2, two frames each */
static const uint8_t shape_enemies[ENEMY_KINDS * 2][16] = {
    {0x3C, 0x7E, 0xFF, 0x99, 0xFF, 0x66, 0xDB, 0x81, 0x42, 0x24, 0, 0, 0, 0, 0, 0},
    {0x3C, 0x7E, 0xFF, 0x99, 0xFF, 0x66, 0x5A, 0x81, 0x24, 0x42, 0, 0, 0, 0, 0, 0},
    {0x24, 0x24, 0x7E, 0xDB, 0xFF, 0xFF, 0xBD, 0xA5, 0x24, 0x66, 0, 0, 0, 0, 0, 0},
    {0x24, 0xA5, 0xFF, 0xDB, 0xFF, 0x7E, 0x3C, 0x24, 0x42, 0x81, 0, 0, 0, 0, 0, 0},
    {0x18, 0x3C, 0x7E, 0xDB, 0xFF, 0x24, 0x5A, 0xA5, 0x42, 0x00, 0, 0, 0, 0, 0, 0},
    {0x18, 0x3C, 0x7E, 0xDB, 0xFF, 0x5A, 0x81, 0x42, 0x24, 0x00, 0, 0, 0, 0, 0, 0},
};
static const uint8_t shape_player[16] = {0x18, 0x18, 0x3C, 0x7E, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0, 0, 0, 0, 0};
static const uint8_t shape_player_shot[16] = {0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
static const uint8_t shape_enemy_shot[16] = {0x10, 0x08, 0x10, 0x08, 0x10, 0x08, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
/* background: ground line and three erosion levels of a shield tile */
static const uint8_t shape_ground[8] = {0xFF, 0, 0, 0, 0, 0, 0, 0};
static const uint8_t shape_shields[SHIELD_DAMAGE_GONE][8] = {
    {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF},
    {0xDB, 0xFF, 0x6E, 0xF7, 0xBD, 0xEF, 0x7B, 0xDE},
    {0x92, 0x24, 0x49, 0x82, 0x28, 0x45, 0x10, 0x8A},
};

#define BLACK RGB15(0, 0, 0)
#define WHITE RGB15(31, 31, 31)
#define GREY  RGB15(17, 17, 17)
#define GREEN RGB15(6, 26, 8)
static const uint16_t cgb_bg_palette[4] = {BLACK, GREY, GREEN, WHITE};
static const uint16_t cgb_obj_palettes[6][4] = {
    {BLACK, GREEN, GREEN, GREEN},                                     /* player */
    {BLACK, RGB15(8, 24, 31), RGB15(8, 24, 31), RGB15(8, 24, 31)},    /* kind 0: cyan */
    {BLACK, RGB15(28, 10, 28), RGB15(28, 10, 28), RGB15(28, 10, 28)}, /* kind 1: magenta */
    {BLACK, RGB15(30, 28, 6), RGB15(30, 28, 6), RGB15(30, 28, 6)},    /* kind 2: yellow */
    {BLACK, WHITE, WHITE, WHITE},                                     /* player shot */
    {BLACK, RGB15(31, 8, 6), RGB15(31, 8, 6), RGB15(31, 8, 6)},       /* enemy shots */
};

/* ---- background drawing ---- */

/* Write a tile now when the LCD is off, else queue it for the next VBlank. */
static void set_bg_tile(uint8_t col, uint8_t row, uint8_t tile)
{
    uint16_t offset = (uint16_t)row * BG_MAP_WIDTH + col;
    if (!(LCDC_REG & LCDC_ON)) {
        VRAM_BG_MAP[offset] = tile;
    } else if (bg_queue_length < BG_QUEUE_SIZE) {
        bg_queue_offset[bg_queue_length] = offset;
        bg_queue_tile[bg_queue_length] = tile;
        bg_queue_length++;
    }
}

static void flush_bg_queue(void)
{
    uint8_t i;
    for (i = 0; i < bg_queue_length; i++) {
        VRAM_BG_MAP[bg_queue_offset[i]] = bg_queue_tile[i];
    }
    bg_queue_length = 0;
}

static uint8_t char_tile(char c)
{
    if (c >= '0' && c <= '9') {
        return TILE_FONT + (uint8_t)(c - '0');
    }
    if (c >= 'A' && c <= 'Z') {
        return TILE_FONT + 10 + (uint8_t)(c - 'A');
    }
    return TILE_EMPTY;
}

static void draw_text(uint8_t col, uint8_t row, const char *text)
{
    while (*text) {
        set_bg_tile(col++, row, char_tile(*text++));
    }
}

static void draw_score(void)
{
    uint8_t i, col = SCORE_DIGITS_COL;
    for (i = SCORE_BYTES; i-- > 0;) {
        set_bg_tile(col++, HUD_ROW, TILE_FONT + (score[i] >> 4));
        set_bg_tile(col++, HUD_ROW, TILE_FONT + (score[i] & 0x0F));
    }
}

static void draw_wave(void)
{
    set_bg_tile(WAVE_DIGITS_COL, HUD_ROW, TILE_FONT + wave / 10);
    set_bg_tile(WAVE_DIGITS_COL + 1, HUD_ROW, TILE_FONT + wave % 10);
}

static void draw_lives(void)
{
    set_bg_tile(LIVES_DIGIT_COL, HUD_ROW, TILE_FONT + lives);
}

/* The shield tile shield_damage[index], at tile column `col`, tile row `row`. */
static void draw_shield_tile(uint8_t index, uint8_t col, uint8_t row)
{
    uint8_t damage = shield_damage[index];
    set_bg_tile(col, row, damage < SHIELD_DAMAGE_GONE ? TILE_SHIELD + damage : TILE_EMPTY);
}

/* Clear the tile map and, on CGB, its palette attributes (LCD off). */
static void clear_background(void)
{
    if (is_cgb()) {
        VBK_REG = 1;
        vram_fill(VRAM_BG_MAP, 0, BG_MAP_WIDTH * SCREEN_TILES_H);
        VBK_REG = 0;
    }
    vram_fill(VRAM_BG_MAP, TILE_EMPTY, BG_MAP_WIDTH * SCREEN_TILES_H);
}

/* HUD, ground and whole shields (LCD off). */
static void draw_playfield(void)
{
    uint8_t shield, row, col, index = 0;
    clear_background();
    vram_fill(VRAM_BG_MAP + GROUND_ROW * BG_MAP_WIDTH, TILE_GROUND, SCREEN_TILES_W);
    for (shield = 0; shield < SHIELDS; shield++) {
        for (row = 0; row < SHIELD_TILE_ROWS; row++) {
            for (col = 0; col < SHIELD_TILE_COLS; col++) {
                shield_damage[index] = 0;
                draw_shield_tile(index++, SHIELD_FIRST_COL + shield * SHIELD_COL_STEP + col, SHIELD_TOP_ROW + row);
            }
        }
    }
    draw_text(0, HUD_ROW, "SC");
    draw_text(WAVE_DIGITS_COL - 2, HUD_ROW, "W");
    draw_text(LIVES_DIGIT_COL - 2, HUD_ROW, "L");
    draw_score();
    draw_wave();
    draw_lives();
}

/* ---- sprites ---- */

static void hide_all_sprites(void)
{
    memset(shadow_oam, 0, OAM_SPRITES * 4);
    memset(shadow_oam_b, 0, OAM_SPRITES * 4);
}

/* More than SPRITES_PER_LINE sprites may share a scan line of a formation row's
 * band: the row's live enemies, those of the row above (whose sprites reach
 * SPRITE_HEIGHT - ROW_SPACING lines into the band) and the shots whose sprites
 * reach into it, an upper bound of the sprites on any line of the band. */
static uint8_t sprites_crowded(void)
{
    uint8_t r, i, top, bits, own, above = 0, most = 0, shots = player_shot_active;
    uint8_t enemies[FORMATION_ROWS];
    for (r = 0; r < FORMATION_ROWS; r++) {
        bits = enemy_alive[r];
        own = nibble_bits[bits & 0x0F] + nibble_bits[bits >> 4];
        enemies[r] = own + above;
        above = own;
        if (enemies[r] > most) {
            most = enemies[r];
        }
    }
    for (i = 0; i < ENEMY_SHOTS; i++) {
        shots += enemy_shots[i].active;
    }
    if (most > SPRITES_PER_LINE || most + shots <= SPRITES_PER_LINE) {
        return most > SPRITES_PER_LINE;
    }
    /* a shot's sprite [y, y + 16) reaches into the band [top, top + ROW_SPACING)
     * when y + 15 - top, in 8 bits, is below ROW_SPACING + 15 */
    for (r = 0, top = formation_y; r < FORMATION_ROWS; r++, top += ROW_SPACING) {
        own = enemies[r];
        if (player_shot_active && (uint8_t)(player_shot_y + (SPRITE_HEIGHT - 1) - top) < ROW_SPACING + SPRITE_HEIGHT - 1) {
            own++;
        }
        for (i = 0; i < ENEMY_SHOTS; i++) {
            if (enemy_shots[i].active
                && (uint8_t)(enemy_shots[i].y + (SPRITE_HEIGHT - 1) - top) < ROW_SPACING + SPRITE_HEIGHT - 1) {
                own++;
            }
        }
        if (own > SPRITES_PER_LINE) {
            return 1;
        }
    }
    return 0;
}

/* Write every sprite into the back page; a hidden sprite has OAM y = 0. */
static void draw_sprites(void)
{
    uint8_t *p = (uint8_t *)((uint16_t)oam_back_page << 8);
    struct enemy_shot *shot = enemy_shots;
    uint8_t i;
    uint8_t playing = game_state != GAME_STATE_TITLE;

    if (playing && sprites_crowded()) {
        oam_rotation += FLICKER_STEP;
        if (oam_rotation >= ENEMY_COUNT) {
            oam_rotation -= ENEMY_COUNT;
        }
    }
    *p++ = playing && !respawn_timer ? PLAYER_Y + OAM_Y_OFFSET : 0;
    *p++ = player_x + OAM_X_OFFSET;
    *p++ = TILE_PLAYER;
    *p++ = OBJ_PALETTE_PLAYER;
    *p++ = player_shot_active ? player_shot_y + OAM_Y_OFFSET : 0;
    *p++ = player_shot_x + OAM_X_OFFSET;
    *p++ = TILE_PLAYER_SHOT;
    *p++ = OBJ_PALETTE_PLAYER_SHOT;
    for (i = 0; i < ENEMY_SHOTS; i++, shot++) {
        *p++ = shot->active ? shot->y + OAM_Y_OFFSET : 0;
        *p++ = shot->x + OAM_X_OFFSET;
        *p++ = TILE_ENEMY_SHOT;
        *p++ = OBJ_PALETTE_ENEMY_SHOT;
    }
    oam_put_formation(p + 4 * oam_rotation);
}

/* ---- score ---- */

/* Add `points` (BCD, 0x10-0x30) to the 6-digit BCD score. */
static void add_score(uint8_t points)
{
    uint8_t i, low, high, carry = points;
    for (i = 0; i < SCORE_BYTES && carry; i++) {
        low = (score[i] & 0x0F) + (carry & 0x0F);
        high = (score[i] >> 4) + (carry >> 4);
        if (low > 9) {
            low -= 10;
            high++;
        }
        carry = 0;
        if (high > 9) {
            high -= 10;
            carry = 1;
        }
        score[i] = (uint8_t)(high << 4) | low;
    }
    draw_score();
}

/* ---- shields ---- */

/* Erode the shield tile under pixel (x, y), if any; returns 1 when a shot met one. */
static uint8_t hit_shield(uint8_t x, uint8_t y)
{
    /* no division: the sm83 has none, and SDCC's routines take hundreds of cycles */
    uint8_t within, index = 0, row = y >> 3, col = x >> 3;
    if (y < SHIELD_TOP || y >= SHIELD_BOTTOM || col < SHIELD_FIRST_COL) {
        return 0;
    }
    within = col - SHIELD_FIRST_COL;
    while (within >= SHIELD_COL_STEP) {
        within -= SHIELD_COL_STEP;
        index += SHIELD_TILE_COLS * SHIELD_TILE_ROWS;
    }
    if (within >= SHIELD_TILE_COLS || index >= SHIELD_TILES) {
        return 0;
    }
    index += within;
    if (row > SHIELD_TOP_ROW) {
        index += SHIELD_TILE_COLS;
    }
    if (shield_damage[index] >= SHIELD_DAMAGE_GONE) {
        return 0;
    }
    shield_damage[index]++;
    draw_shield_tile(index, col, row);
    return 1;
}

/* The formation's lowest row has come down into the shields: it flattens the
 * tiles its live enemies cover. */
static void crush_shields(uint8_t row, uint8_t bottom)
{
    uint8_t c, bits = enemy_alive[row], x = (uint8_t)formation_x, y;
    for (c = 0; c < FORMATION_COLUMNS; c++, x += COLUMN_SPACING, bits >>= 1) {
        if (!(bits & 1)) {
            continue;
        }
        for (y = SHIELD_TOP; y < bottom && y < SHIELD_BOTTOM; y += 8) {
            while (hit_shield(x, y)) {
            }
            while (hit_shield(x + ENEMY_WIDTH - 1, y)) {
            }
        }
    }
}

/* ---- wave generation ---- */

/* Lay out the formation of the current wave. Runs in play (never before the
 * first frame of play), so that the seed decides every wave. */
static void generate_wave(void)
{
    uint8_t i, j, swap, holes, drops;
    for (i = 0; i < FORMATION_COLUMNS; i++) {
        wave_column_order[i] = i;
    }
    for (i = FORMATION_COLUMNS - 1; i > 0; i--) {
        /* j uniform-ish in 0..i without a division: a draw under the next power of two, folded once */
        j = rng_next() & (i >= 4 ? 7 : i >= 2 ? 3 : 1);
        if (j > i) {
            j -= i + 1;
        }
        swap = wave_column_order[i];
        wave_column_order[i] = wave_column_order[j];
        wave_column_order[j] = swap;
    }
    for (i = 0; i < FORMATION_ROWS; i++) {
        wave_row_kinds[i] = kind_draws[rng_next() & 0x0F];
    }
    /* insertion sort, highest kind first: the top rows are worth the most */
    for (i = 1; i < FORMATION_ROWS; i++) {
        swap = wave_row_kinds[i];
        for (j = i; j > 0 && wave_row_kinds[j - 1] < swap; j--) {
            wave_row_kinds[j] = wave_row_kinds[j - 1];
        }
        wave_row_kinds[j] = swap;
    }
    holes = (uint8_t)(wave - 1) & 3;
    for (i = 0; i < FORMATION_ROWS; i++) {
        enemy_alive[i] = 0xFF;
        row_kind[i] = wave_row_kinds[i];
    }
    for (i = 0; i < holes; i++) {
        enemy_alive[0] &= (uint8_t)~(1 << wave_column_order[i]);
    }
    enemies_left = ENEMY_COUNT - holes;
    drops = wave - 1 < WAVE_DROPS_MAX ? wave - 1 : WAVE_DROPS_MAX;
    formation_x = FORMATION_START_X;
    formation_y = FORMATION_START_Y + drops * WAVE_START_DROP;
    formation_dx = MARCH_STEP;
    anim_frame = 0;
    march_timer = enemies_left / 2 + MARCH_INTERVAL_MIN;
    fire_timer = FIRE_DELAY_BASE;
}

/* ---- play ---- */

static void end_game(void)
{
    game_state = GAME_STATE_GAME_OVER;
    draw_text(5, MESSAGE_ROW, "GAME OVER");
}

static void clear_shots(void)
{
    uint8_t i;
    player_shot_active = 0;
    for (i = 0; i < ENEMY_SHOTS; i++) {
        enemy_shots[i].active = 0;
    }
}

static void lose_life(void)
{
    lives--;
    draw_lives();
    clear_shots();
    if (lives == 0) {
        end_game();
    } else {
        respawn_timer = RESPAWN_DELAY;
    }
}

static uint8_t lowest_bit(uint8_t bits)
{
    uint8_t i = 0;
    while (!(bits & 1)) {
        bits >>= 1;
        i++;
    }
    return i;
}

static uint8_t highest_bit(uint8_t bits)
{
    uint8_t i = 7;
    while (!(bits & 0x80)) {
        bits <<= 1;
        i--;
    }
    return i;
}

static void march_formation(void)
{
    uint8_t r, columns = 0, lowest = 0, bottom;
    int16_t edge;
    for (r = 0; r < FORMATION_ROWS; r++) {
        if (enemy_alive[r]) {
            columns |= enemy_alive[r];
            lowest = r;
        }
    }
    if (formation_dx > 0) {
        edge = formation_x + highest_bit(columns) * COLUMN_SPACING + ENEMY_WIDTH + MARCH_STEP;
        if (edge > PLAYFIELD_RIGHT) {
            formation_dx = -MARCH_STEP;
            formation_y += FORMATION_DROP;
        } else {
            formation_x += MARCH_STEP;
        }
    } else {
        edge = formation_x + lowest_bit(columns) * COLUMN_SPACING - MARCH_STEP;
        if (edge < PLAYFIELD_LEFT) {
            formation_dx = MARCH_STEP;
            formation_y += FORMATION_DROP;
        } else {
            formation_x -= MARCH_STEP;
        }
    }
    anim_frame ^= 1;
    bottom = formation_y + lowest * ROW_SPACING + ENEMY_HEIGHT;
    if (bottom > SHIELD_TOP) {
        crush_shields(lowest, bottom);
    }
    if (bottom > PLAYER_Y) {
        end_game();
    }
}

/* The player's shot met pixel (x, y): kill the enemy there, if any. */
static uint8_t hit_enemy(uint8_t x, uint8_t y)
{
    int16_t dx = (int16_t)x - formation_x;
    uint8_t dy, row, col, bit;
    if (y < formation_y || dx < 0 || dx >= FORMATION_WIDTH) {
        return 0;
    }
    dy = y - formation_y;
    if (dy >= FORMATION_HEIGHT) {
        return 0;
    }
    /* row and column by subtraction (no division, see hit_shield) */
    for (row = 0; dy >= ROW_SPACING; row++) {
        dy -= ROW_SPACING;
    }
    x = (uint8_t)dx;
    for (col = 0; x >= COLUMN_SPACING; col++) {
        x -= COLUMN_SPACING;
    }
    if (dy >= ENEMY_HEIGHT || x >= ENEMY_WIDTH) {
        return 0;
    }
    bit = (uint8_t)(1 << col);
    if (!(enemy_alive[row] & bit)) {
        return 0;
    }
    enemy_alive[row] &= (uint8_t)~bit;
    enemies_left--;
    add_score((uint8_t)((row_kind[row] + 1) << 4));
    if (march_timer > enemies_left / 2 + MARCH_INTERVAL_MIN) {
        march_timer = enemies_left / 2 + MARCH_INTERVAL_MIN;
    }
    return 1;
}

static void move_player_shot(void)
{
    uint8_t x = player_shot_x + SHOT_OFFSET_X;
    if (player_shot_y < PLAYFIELD_TOP + PLAYER_SHOT_SPEED) {
        player_shot_active = 0;
        return;
    }
    player_shot_y -= PLAYER_SHOT_SPEED;
    if (hit_enemy(x, player_shot_y)) {
        player_shot_active = 0;
    }
}

/* The live column (bit of `columns`) whose enemies stand nearest above the cannon. */
static uint8_t column_nearest_player(uint8_t columns)
{
    uint8_t c, best = 0, best_distance = 255, distance;
    int16_t offset;
    for (c = 0; c < FORMATION_COLUMNS; c++, columns >>= 1) {
        if (!(columns & 1)) {
            continue;
        }
        offset = formation_x + c * COLUMN_SPACING - player_x;
        distance = offset < 0 ? (uint8_t)-offset : (uint8_t)offset;
        if (distance < best_distance) {
            best_distance = distance;
            best = c;
        }
    }
    return best;
}

static void enemy_fire(void)
{
    uint8_t r, c, columns = 0, slot = 0;
    while (slot < ENEMY_SHOTS && enemy_shots[slot].active) {  /* the first free slot */
        slot++;
    }
    fire_timer = FIRE_DELAY_BASE + (rng_next() & (FIRE_DELAY_RANDOM - 1));
    if (wave > 1) {
        r = (wave - 1 < 4 ? wave - 1 : 4) * FIRE_DELAY_WAVE_STEP;
        fire_timer -= r;
    }
    if (slot == ENEMY_SHOTS) {
        return;
    }
    for (r = 0; r < FORMATION_ROWS; r++) {
        columns |= enemy_alive[r];
    }
    if (rng_next() & AIMED_SHOT_MASK) {
        /* a random column; the next live one to its right (wrapping) if it is empty */
        c = rng_next() & (FORMATION_COLUMNS - 1);
        while (!(columns & (uint8_t)(1 << c))) {
            c = (c + 1) & (FORMATION_COLUMNS - 1);
        }
    } else {
        c = column_nearest_player(columns);
    }
    r = FORMATION_ROWS - 1;
    while (!(enemy_alive[r] & (uint8_t)(1 << c))) {
        r--;
    }
    enemy_shots[slot].active = 1;
    enemy_shots[slot].x = (uint8_t)formation_x + c * COLUMN_SPACING;
    enemy_shots[slot].y = formation_y + r * ROW_SPACING + ENEMY_HEIGHT;
}

static void move_enemy_shots(void)
{
    uint8_t i, x, bottom;
    struct enemy_shot *shot = enemy_shots;
    for (i = 0; i < ENEMY_SHOTS; i++, shot++) {
        if (!shot->active) {
            continue;
        }
        shot->y += ENEMY_SHOT_SPEED;
        bottom = shot->y + SHOT_HEIGHT - 1;
        x = shot->x + SHOT_OFFSET_X;
        if (bottom >= GROUND_Y) {
            shot->active = 0;
        } else if (hit_shield(x, bottom) || hit_shield(x + ENEMY_SHOT_WIDTH - 1, bottom)) {
            shot->active = 0;
        } else if (bottom >= PLAYER_Y && shot->y < PLAYER_Y + PLAYER_HEIGHT
                   && x + ENEMY_SHOT_WIDTH > player_x && x < player_x + PLAYER_WIDTH) {
            lose_life();
            return;
        }
    }
}

static void next_wave(void);

static void update_play(void)
{
    if (respawn_timer) {
        if (--respawn_timer == 0) {
            player_x = PLAYER_START_X;
        }
        return;
    }
    if (joypad_held & J_LEFT) {
        player_x = player_x > PLAYFIELD_LEFT + PLAYER_SPEED ? player_x - PLAYER_SPEED : PLAYFIELD_LEFT;
    } else if (joypad_held & J_RIGHT) {
        player_x = player_x + PLAYER_SPEED < PLAYER_X_MAX ? player_x + PLAYER_SPEED : PLAYER_X_MAX;
    }
    if (wave_timer) {
        if (wave_timer == WAVE_DELAY) {
            generate_wave();
        }
        wave_timer--;
        return;
    }
    if (player_shot_active) {
        move_player_shot();
    } else if (joypad_held & J_A) {
        player_shot_active = 1;
        player_shot_x = player_x;
        player_shot_y = PLAYER_Y - SHOT_HEIGHT;
    }
    if (enemies_left == 0) {
        next_wave();
        return;
    }
    if (--march_timer == 0) {
        march_formation();
        march_timer = enemies_left / 2 + MARCH_INTERVAL_MIN;
        if (game_state != GAME_STATE_PLAY) {
            return;
        }
    }
    if (--fire_timer == 0) {
        enemy_fire();
    }
    move_enemy_shots();
}

/* ---- screens ---- */

/* The LCD shows a blank frame after it is switched on: go on once it is over. */
static void lcd_on_and_settle(void)
{
    lcd_on(LCDC_GAME);
    wait_vblank();
    wait_frame_start();
}

static void enter_title(void)
{
    lcd_off();
    clear_background();
    draw_text(6, 6, "SHOOTER");
    draw_text(4, 10, "PRESS START");
    title_frames = 0;
    game_state = GAME_STATE_TITLE;
    memset(enemy_alive, 0, FORMATION_ROWS);  /* no formation on the title screen */
    enemies_left = 0;
    hide_all_sprites();
    oam_dma_from(OAM_PAGE_A);
    lcd_on(LCDC_GAME);
}

/* Shields rebuilt, shots cleared; the formation is laid out on the wave's first frame. */
static void start_wave(void)
{
    uint8_t i;
    for (i = 0; i < FORMATION_ROWS; i++) {
        enemy_alive[i] = 0;
    }
    enemies_left = 0;
    clear_shots();
    wave_timer = WAVE_DELAY;
    lcd_off();
    bg_queue_length = 0;
    draw_playfield();
    hide_all_sprites();
    oam_dma_from(OAM_PAGE_A);
    lcd_on_and_settle();
}

static void next_wave(void)
{
    if (wave < WAVE_MAX) {
        wave++;
    }
    start_wave();
}

static void start_game(void)
{
    uint8_t i;
    /* on hardware the player's timing varies the game */
    rng_seed(rng_state ^ title_frames);
    for (i = 0; i < SCORE_BYTES; i++) {
        score[i] = 0;
    }
    lives = START_LIVES;
    wave = 1;
    respawn_timer = 0;
    player_x = PLAYER_START_X;
    oam_rotation = 0;
    start_wave();
    game_state = GAME_STATE_PLAY;
}

static void init_video(void)
{
    uint8_t i;
    lcd_off();
    vram_fill(VRAM_TILES, 0, TILE_BYTES);
    vram_load_1bpp(VRAM_TILES + TILE_GROUND * TILE_BYTES, shape_ground, 1, 1);
    vram_load_1bpp(VRAM_TILES + TILE_SHIELD * TILE_BYTES, shape_shields[0], SHIELD_DAMAGE_GONE, 2);
    vram_load_1bpp(VRAM_TILES + TILE_FONT * TILE_BYTES, font_glyphs, FONT_GLYPHS, 3);
    vram_load_1bpp(VRAM_TILES + TILE_ENEMY * TILE_BYTES, shape_enemies[0], ENEMY_KINDS * 4, 3);
    vram_load_1bpp(VRAM_TILES + TILE_PLAYER * TILE_BYTES, shape_player, 2, 3);
    vram_load_1bpp(VRAM_TILES + TILE_PLAYER_SHOT * TILE_BYTES, shape_player_shot, 2, 3);
    vram_load_1bpp(VRAM_TILES + TILE_ENEMY_SHOT * TILE_BYTES, shape_enemy_shot, 2, 3);
    SCX_REG = 0;
    SCY_REG = 0;
    if (is_cgb()) {
        cgb_set_bg_palette(0, cgb_bg_palette);
        for (i = 0; i < 6; i++) {
            cgb_set_obj_palette(i, cgb_obj_palettes[i]);
        }
    } else {
        BGP_REG = DMG_PALETTE;
        OBP0_REG = DMG_PALETTE;
        OBP1_REG = DMG_PALETTE;
    }
}

void main(void)
{
    uint8_t pressed;
    oam_back_page = OAM_PAGE_B;
    init_video();
    enter_title();
    while (1) {
        /* VRAM and OAM are written during VBlank; the game logic runs after
         * it, while the LCD draws the frame, so the screen shows the state
         * of the frame before. The page written last frame is copied now. */
        wait_vblank();
        oam_dma_from(oam_back_page);
        flush_bg_queue();
        wait_frame_start();
        oam_back_page ^= OAM_PAGE_A ^ OAM_PAGE_B;
        pressed = joypad_update();
        if (game_state == GAME_STATE_TITLE) {
            title_frames++;
            if (pressed & (J_START | J_A)) {
                start_game();
            }
        } else if (game_state == GAME_STATE_PLAY) {
            update_play();
        } else if (pressed & (J_START | J_A)) {
            enter_title();
        }
        draw_sprites();
    }
}
