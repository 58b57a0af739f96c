/* Side-scrolling runner for the Game Boy Color (also runs on the original Game Boy).
 *
 * Rules (constants in runner.h):
 * - The world scrolls left under a runner at a fixed screen x. The camera is a
 *   16-bit world x (camera_x, plus a 1/256 px fraction); SCX shows its low byte,
 *   the 32-column BG map being a window onto the world that wraps every 256 px.
 * - Speed starts at 1.5 px per frame and rises by 0.25 every SPEED_LEVEL_FRAMES
 *   frames, up to 4 px per frame.
 * - Each world column (8 px) is empty, a ground block or an overhead bar. The
 *   RNG decides each column as it is generated, RING_AHEAD columns ahead of the
 *   camera, into a ring of RING_SIZE columns (in CGB WRAM bank 2); the new
 *   column's tiles go into the BG map through the tile queue at the next VBlank.
 *   The first columns are empty and the first draw happens after play starts,
 *   so a seed written at the first frame of play decides the whole course.
 * - A (held, on the ground) jumps; DOWN (held, on the ground) ducks. Gravity
 *   and the jump are fixed point: player_vy in 1/256 px per frame.
 * - Touching an obstacle ends the game. The score is the distance run, in
 *   columns (one per 8 px scrolled), shown in the window-layer HUD.
 * - The HUD (window, from line HUD_TOP) is split off by the LY == LYC STAT
 *   interrupt: sprites off and another palette below STATUS_SPLIT_LINE;
 *   restored at VBlank.
 *
 * Every global below carries a comment "kind: description" that
 * roms/tools/make_symbols.py copies into runner.symbols.json. */
#include <stdint.h>
#include "hardware.h"
#include "runtime.h"
#include "font.h"
#include "runner.h"

/* Registers the shared hardware.h does not name yet */
static volatile __sfr __at(0x45) LYC_REG;   /* 0xFF45 LY compare */
static volatile __sfr __at(0x70) SVBK_REG;  /* 0xFF70 CGB WRAM bank at 0xD000-0xDFFF */
#define STAT_MODE_MASK  0x03                /* STAT bits 0-1: PPU mode, 0 = HBlank */
#define VRAM_WINDOW_MAP_OFFSET 0x400        /* window map at 0x9C00 = BG map offset 0x400 */

#define SPRITE_PLAYER      0   /* OAM slots 0 (head or ducking body) and 1 (legs) */
#define OBJ_PALETTE_PLAYER 0
#define BG_PALETTE_SKY     0   /* sky and text; its colours 0 and 3 change under the split */
#define BG_PALETTE_GROUND  1
#define BG_PALETTE_OBSTACLE 2

#define TILE_QUEUE_SIZE  24    /* one column (2 tiles), HUD digits (7) and a message (9) */
#define LCDC_GAME        (LCDC_WIN_MAP_9C00 | LCDC_WIN_ON | LCDC_TILES_8000 | LCDC_OBJ_ON | LCDC_BG_ON)
#define LCDC_STATUS_BAR  (LCDC_ON | LCDC_GAME & ~LCDC_OBJ_ON)
#define DMG_PALETTE      0xE4  /* colour 0 white, 1 light grey, 2 dark grey, 3 black */
#define DMG_STATUS_PALETTE 0x1B  /* the same inverted */
#define CGB_PALETTE_COLOUR0 0  /* BCPS byte index of colour 0 of palette 0 */
#define CGB_PALETTE_COLOUR3 6

/* ---- game state ---- */
uint8_t game_state;          /* state: GAME_STATE_TITLE 0, GAME_STATE_PLAY 1, GAME_STATE_GAME_OVER 2 (runner.h) */
uint16_t camera_x;           /* state: world x in pixels of the screen's left edge (wraps at 65536); SCX is its low byte */
uint8_t camera_frac;         /* state: sub-pixel part of camera_x, 1/256 px */
uint16_t speed;              /* state: scrolling speed in 1/256 px per frame, SPEED_BASE + speed_level * SPEED_STEP */
uint8_t speed_level;         /* state: speed-ups so far, 0 to SPEED_LEVEL_MAX */
uint16_t level_timer;        /* state: frames of play since the last speed-up (speeds up at SPEED_LEVEL_FRAMES) */
uint16_t distance;           /* state: score, world columns scrolled past (8 px each), saturates at 65535 */
uint8_t player_y;            /* state: top screen row of the standing player (STAND_Y on the ground, less in a jump) */
uint8_t player_y_frac;       /* state: sub-pixel part of player_y, 1/256 px */
int16_t player_vy;           /* state: vertical velocity in 1/256 px per frame (negative: up) */
uint8_t on_ground;           /* state: 1 when the player stands or ducks on the ground */
uint8_t ducking;             /* state: 1 while DOWN is held on the ground (the player is 8 px tall) */
uint8_t next_column;         /* state: world column (mod 256) the generator fills next; ring holds the ones before it */
uint8_t gap_left;            /* state: columns the generator still leaves empty after the last obstacle */
uint8_t next_obstacle_x;     /* state: screen x of the nearest obstacle column not yet passed (NO_OBSTACLE 255: none) */
uint8_t next_obstacle_kind;  /* state: its kind, COLUMN_BLOCK 1 or COLUMN_BAR 2 (COLUMN_EMPTY 0: none) */
uint16_t title_frames;       /* runtime: frames spent on the title screen, mixed into the seed */

/* ---- tile updates, written to VRAM during the next VBlank ---- */
uint16_t tile_queue_offset[TILE_QUEUE_SIZE]; /* screen: map offsets from 0x9800 (window map from 0x400) waiting to be written */
uint8_t tile_queue_tile[TILE_QUEUE_SIZE];    /* screen: tile numbers waiting to be written */
uint8_t tile_queue_length;                   /* screen: entries in the queue */

/* In runner_crt0.s: area _WRAM_BANK2 at 0xD000 */
extern uint8_t column_ring[RING_SIZE];

/* 2bpp tiles */
static const uint8_t tile_ground[TILE_BYTES] = {
    0xFF, 0xFF, 0x00, 0xFF, 0x88, 0x77, 0x00, 0xFF, 0x22, 0xDD, 0x00, 0xFF, 0x88, 0x77, 0x00, 0xFF,
};
static const uint8_t tile_block[TILE_BYTES] = {
    0xFF, 0xFF, 0x81, 0xFF, 0xBD, 0xC3, 0xA5, 0xC3, 0xA5, 0xC3, 0xBD, 0xC3, 0x81, 0xFF, 0xFF, 0xFF,
};
static const uint8_t tile_bar[TILE_BYTES] = {
    0xFF, 0xFF, 0x00, 0xFF, 0xFF, 0x00, 0xFF, 0x00, 0xFF, 0x00, 0xFF, 0x00, 0x00, 0xFF, 0xFF, 0xFF,
};
/* 1 bit per pixel shapes, drawn in colour 3 by vram_load_1bpp */
static const uint8_t shape_player_head[8] = {0x3C, 0x7E, 0x5A, 0x7E, 0x3C, 0x18, 0xFF, 0xBD};
static const uint8_t shape_player_legs[8] = {0xBD, 0x3C, 0x3C, 0x24, 0x24, 0x66, 0x42, 0xC3};
static const uint8_t shape_player_duck[8] = {0x0E, 0x1F, 0x7F, 0xFE, 0xFF, 0x7E, 0x24, 0x66};

#define SKY    RGB15(17, 25, 31)
#define NAVY   RGB15(2, 3, 10)
#define WHITE  RGB15(31, 31, 31)
static const uint16_t cgb_sky_palette[4] = {SKY, RGB15(26, 29, 31), RGB15(8, 12, 20), NAVY};
static const uint16_t cgb_ground_palette[4] = {SKY, RGB15(20, 12, 5), RGB15(6, 20, 6), RGB15(10, 5, 2)};
static const uint16_t cgb_obstacle_palette[4] = {SKY, RGB15(31, 8, 4), RGB15(31, 22, 0), RGB15(8, 2, 2)};
static const uint16_t cgb_player_palette[4] = {SKY, WHITE, RGB15(31, 25, 0), RGB15(0, 8, 2)};

/* ---- raster split (LCD STAT interrupt, vector in crt0.s) ---- */

/* Called on LY == LYC. At LY 0 (LYC 0, which also wakes wait_frame_start) it
 * arms the split; on STATUS_SPLIT_LINE it waits for that line's HBlank, then
 * switches LCDC and the palette for the status bar below and re-arms LY 0. */
void stat_handler(void) __critical __interrupt
{
    if (LY_REG != STATUS_SPLIT_LINE) {
        LYC_REG = STATUS_SPLIT_LINE;
        return;
    }
    while (STAT_REG & STAT_MODE_MASK) {
    }
    LCDC_REG = LCDC_STATUS_BAR;
    BGP_REG = DMG_STATUS_PALETTE;
    if (is_cgb()) {
        /* sky colour 0 becomes navy, text colour 3 white */
        BCPS_REG = CGB_PALETTE_AUTO_INCREMENT | CGB_PALETTE_COLOUR0;
        BCPD_REG = (uint8_t)NAVY;
        BCPD_REG = (uint8_t)(NAVY >> 8);
        BCPS_REG = CGB_PALETTE_AUTO_INCREMENT | CGB_PALETTE_COLOUR3;
        BCPD_REG = (uint8_t)WHITE;
        BCPD_REG = (uint8_t)(WHITE >> 8);
    }
    LYC_REG = 0;
}

static void set_playfield_palette(void)
{
    BGP_REG = DMG_PALETTE;
    if (is_cgb()) {
        cgb_set_bg_palette(BG_PALETTE_SKY, cgb_sky_palette);
    }
}

/* During VBlank: the playfield's LCDC and palette for the top of the next frame. */
static void restore_raster(void)
{
    LCDC_REG = LCDC_ON | LCDC_GAME;
    set_playfield_palette();
}

/* ---- level data in WRAM bank 2 (CGB) ---- */

static void level_bank_in(void)
{
    if (is_cgb()) {
        SVBK_REG = LEVEL_WRAM_BANK;
    }
}

static void level_bank_out(void)
{
    if (is_cgb()) {
        SVBK_REG = MAIN_WRAM_BANK;
    }
}

/* ---- background drawing ---- */

/* Write a tile now when the LCD is off, else queue it for the next VBlank. */
static void set_map_tile(uint16_t offset, uint8_t tile)
{
    if (!(LCDC_REG & LCDC_ON)) {
        VRAM_BG_MAP[offset] = tile;
    } else if (tile_queue_length < TILE_QUEUE_SIZE) {
        tile_queue_offset[tile_queue_length] = offset;
        tile_queue_tile[tile_queue_length] = tile;
        tile_queue_length++;
    }
}

static void flush_tile_queue(void)
{
    uint8_t i;
    for (i = 0; i < tile_queue_length; i++) {
        VRAM_BG_MAP[tile_queue_offset[i]] = tile_queue_tile[i];
    }
    tile_queue_length = 0;
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

/* Text on the BG map (window = 0) or the window map (window = 1). */
static void draw_text(uint8_t window, uint8_t col, uint8_t row, const char *text)
{
    uint16_t offset = (uint16_t)row * BG_MAP_WIDTH + col + (window ? VRAM_WINDOW_MAP_OFFSET : 0);
    while (*text) {
        set_map_tile(offset++, char_tile(*text++));
    }
}

/* `digits` decimal digits of value on the window map, ending before column end_col. */
static void draw_hud_number(uint16_t value, uint8_t end_col, uint8_t digits)
{
    uint16_t offset = VRAM_WINDOW_MAP_OFFSET + HUD_TEXT_ROW * BG_MAP_WIDTH + end_col;
    while (digits--) {
        set_map_tile(--offset, TILE_FONT + (uint8_t)(value % 10));
        value /= 10;
    }
}

static void draw_distance(void)
{
    draw_hud_number(distance, DISTANCE_DIGITS_COL + 5, 5);
}

static void draw_speed(void)
{
    draw_hud_number(speed_level, SPEED_DIGITS_COL + 2, 2);
}

/* The two obstacle rows of world column `column` (its BG map column is column mod 32). */
static void draw_column(uint8_t column, uint8_t kind)
{
    uint8_t col = column & (BG_MAP_WIDTH - 1);
    set_map_tile(BAR_ROW * BG_MAP_WIDTH + col, kind == COLUMN_BAR ? TILE_BAR : TILE_EMPTY);
    set_map_tile(BLOCK_ROW * BG_MAP_WIDTH + col, kind == COLUMN_BLOCK ? TILE_BLOCK : TILE_EMPTY);
}

/* BG map: sky, the ground row; window map: the HUD. CGB attributes: each
 * row's palette (LCD off). */
static void draw_background(void)
{
    uint8_t row;
    if (is_cgb()) {
        VBK_REG = 1;
        for (row = 0; row < BG_MAP_WIDTH; row++) {
            uint8_t palette = BG_PALETTE_SKY;
            if (row == BAR_ROW || row == BLOCK_ROW) {
                palette = BG_PALETTE_OBSTACLE;
            } else if (row == GROUND_ROW) {
                palette = BG_PALETTE_GROUND;
            }
            vram_fill(VRAM_BG_MAP + (uint16_t)row * BG_MAP_WIDTH, palette, BG_MAP_WIDTH);
        }
        vram_fill(VRAM_BG_MAP + VRAM_WINDOW_MAP_OFFSET, BG_PALETTE_SKY, BG_MAP_WIDTH * 2);
        VBK_REG = 0;
    }
    vram_fill(VRAM_BG_MAP, TILE_EMPTY, BG_MAP_WIDTH * BG_MAP_WIDTH);
    vram_fill(VRAM_BG_MAP + GROUND_ROW * BG_MAP_WIDTH, TILE_GROUND, BG_MAP_WIDTH);
    vram_fill(VRAM_BG_MAP + VRAM_WINDOW_MAP_OFFSET, TILE_EMPTY, BG_MAP_WIDTH * 2);
    draw_text(1, 1, HUD_TEXT_ROW, "DIST");
    draw_text(1, 12, HUD_TEXT_ROW, "SPEED");
    draw_distance();
    draw_speed();
}

/* ---- sprites ---- */

/* OAM y = 0 hides a sprite */
static void draw_sprites(uint8_t show)
{
    uint8_t *sprite = shadow_oam + 4 * SPRITE_PLAYER;
    uint8_t top = ducking ? DUCK_Y : player_y;
    sprite[0] = show ? (uint8_t)(top + OAM_Y_OFFSET) : 0;
    sprite[1] = PLAYER_X + OAM_X_OFFSET;
    sprite[2] = ducking ? TILE_PLAYER_DUCK : TILE_PLAYER_HEAD;
    sprite[3] = OBJ_PALETTE_PLAYER;
    sprite += 4;
    sprite[0] = show && !ducking ? (uint8_t)(player_y + 8 + OAM_Y_OFFSET) : 0;
    sprite[1] = PLAYER_X + OAM_X_OFFSET;
    sprite[2] = TILE_PLAYER_LEGS;
    sprite[3] = OBJ_PALETTE_PLAYER;
}

/* ---- play ---- */

/* Fill the ring up to RING_AHEAD columns ahead of the camera (bank 2 selected). */
static void generate_columns(void)
{
    uint8_t camera_column = (uint8_t)(camera_x >> 3);
    while ((uint8_t)(next_column - camera_column) < RING_AHEAD) {
        uint8_t kind = COLUMN_EMPTY;
        if (gap_left) {
            gap_left--;
        } else if (rng_next() < SPAWN_CHANCE) {
            kind = (rng_next() & 1) ? COLUMN_BAR : COLUMN_BLOCK;
            gap_left = GAP_BASE + (uint8_t)(speed >> GAP_SPEED_SHIFT);
        }
        column_ring[next_column & (RING_SIZE - 1)] = kind;
        draw_column(next_column, kind);
        next_column++;
    }
}

/* 1 when the player's box overlaps an obstacle (bank 2 selected). */
static uint8_t player_hits_obstacle(void)
{
    uint16_t left = camera_x + PLAYER_X + HITBOX_INSET;
    uint8_t column = (uint8_t)(left >> 3);
    uint8_t last = (uint8_t)((uint16_t)(left + PLAYER_WIDTH - 2 * HITBOX_INSET - 1) >> 3);
    uint8_t top = ducking ? DUCK_Y : player_y;
    while (1) {
        uint8_t kind = column_ring[column & (RING_SIZE - 1)];
        if (kind != COLUMN_EMPTY) {
            uint8_t obstacle_top = kind == COLUMN_BAR ? BAR_TOP : BLOCK_TOP;
            if (top < obstacle_top + OBSTACLE_HEIGHT && obstacle_top < player_y + PLAYER_HEIGHT) {
                return 1;
            }
        }
        if (column == last) {
            return 0;
        }
        column++;
    }
}

/* next_obstacle_x/kind: the first obstacle from the player's column on (bank 2 selected). */
static void find_next_obstacle(void)
{
    uint8_t column = (uint8_t)((uint16_t)(camera_x + PLAYER_X) >> 3);
    next_obstacle_x = NO_OBSTACLE;
    next_obstacle_kind = COLUMN_EMPTY;
    for (; column != next_column; column++) {
        uint8_t kind = column_ring[column & (RING_SIZE - 1)];
        if (kind != COLUMN_EMPTY) {
            next_obstacle_x = (uint8_t)(column * 8 - (uint8_t)camera_x);
            next_obstacle_kind = kind;
            return;
        }
    }
}

static void move_player(void)
{
    uint16_t position;
    if (on_ground) {
        if (joypad_held & J_A) {
            player_vy = -JUMP_VELOCITY;
            on_ground = 0;
            ducking = 0;
        } else {
            ducking = (joypad_held & J_DOWN) ? 1 : 0;
            return;
        }
    }
    position = (((uint16_t)player_y << 8) | player_y_frac) + (uint16_t)player_vy;
    player_vy += GRAVITY;
    if (player_vy > MAX_FALL_SPEED) {
        player_vy = MAX_FALL_SPEED;
    }
    if (position >= (uint16_t)STAND_Y << 8) {
        player_y = STAND_Y;
        player_y_frac = 0;
        player_vy = 0;
        on_ground = 1;
    } else {
        player_y = (uint8_t)(position >> 8);
        player_y_frac = (uint8_t)position;
    }
}

static void scroll(void)
{
    uint16_t step = camera_frac + speed;
    uint8_t old_column = (uint8_t)(camera_x >> 3);
    camera_frac = (uint8_t)step;
    camera_x += step >> 8;
    if ((uint8_t)(camera_x >> 3) != old_column && distance < DISTANCE_MAX) {
        distance++;
        draw_distance();
    }
    if (++level_timer == SPEED_LEVEL_FRAMES) {
        level_timer = 0;
        if (speed_level < SPEED_LEVEL_MAX) {
            speed_level++;
            speed += SPEED_STEP;
            draw_speed();
        }
    }
}

static void end_game(void)
{
    game_state = GAME_STATE_GAME_OVER;
    draw_text(1, 5, HUD_MESSAGE_ROW, "GAME OVER");
}

static void update_play(void)
{
    uint8_t hit;
    move_player();
    scroll();
    level_bank_in();
    generate_columns();
    hit = player_hits_obstacle();
    find_next_obstacle();
    level_bank_out();
    if (hit) {
        end_game();
    }
}

/* ---- screens ---- */

/* The screen is redrawn with the LCD off, which takes a few frames. */
static void enter_title(void)
{
    lcd_off();
    camera_x = 0;
    SCX_REG = 0;
    draw_background();
    draw_text(0, 7, 5, "RUNNER");
    draw_text(0, 4, 9, "PRESS START");
    title_frames = 0;
    game_state = GAME_STATE_TITLE;
    draw_sprites(0);
    oam_dma();
    LYC_REG = 0;
    lcd_on(LCDC_GAME);
}

static void start_game(void)
{
    uint8_t i;
    /* on hardware the player's timing varies the game */
    rng_seed(rng_state ^ title_frames);
    camera_x = 0;
    camera_frac = 0;
    speed_level = 0;
    speed = SPEED_BASE;
    level_timer = 0;
    distance = 0;
    player_y = STAND_Y;
    player_y_frac = 0;
    player_vy = 0;
    on_ground = 1;
    ducking = 0;
    gap_left = 0;
    next_column = SAFE_START_COLUMNS;
    next_obstacle_x = NO_OBSTACLE;
    next_obstacle_kind = COLUMN_EMPTY;
    level_bank_in();
    for (i = 0; i < RING_SIZE; i++) {
        column_ring[i] = COLUMN_EMPTY;
    }
    level_bank_out();

    lcd_off();
    tile_queue_length = 0;
    SCX_REG = 0;
    draw_background();
    draw_sprites(1);
    oam_dma();
    LYC_REG = 0;
    lcd_on(LCDC_GAME);
    /* The LCD shows a blank frame after it is switched on: start play once
     * it is over, so that the first frame of play shows the course. */
    wait_vblank();
    wait_frame_start();
    game_state = GAME_STATE_PLAY;
}

static void init_video(void)
{
    lcd_off();
    vram_fill(VRAM_TILES + TILE_EMPTY * TILE_BYTES, 0, TILE_BYTES);
    vram_copy(VRAM_TILES + TILE_GROUND * TILE_BYTES, tile_ground, TILE_BYTES);
    vram_copy(VRAM_TILES + TILE_BLOCK * TILE_BYTES, tile_block, TILE_BYTES);
    vram_copy(VRAM_TILES + TILE_BAR * TILE_BYTES, tile_bar, TILE_BYTES);
    vram_load_1bpp(VRAM_TILES + TILE_FONT * TILE_BYTES, font_glyphs, FONT_GLYPHS, 3);
    vram_load_1bpp(VRAM_TILES + TILE_PLAYER_HEAD * TILE_BYTES, shape_player_head, 1, 3);
    vram_load_1bpp(VRAM_TILES + TILE_PLAYER_LEGS * TILE_BYTES, shape_player_legs, 1, 3);
    vram_load_1bpp(VRAM_TILES + TILE_PLAYER_DUCK * TILE_BYTES, shape_player_duck, 1, 3);
    SCY_REG = 0;
    WX_REG = HUD_WINDOW_X;
    WY_REG = HUD_TOP;
    OBP0_REG = DMG_PALETTE;
    if (is_cgb()) {
        cgb_set_bg_palette(BG_PALETTE_GROUND, cgb_ground_palette);
        cgb_set_bg_palette(BG_PALETTE_OBSTACLE, cgb_obstacle_palette);
        cgb_set_obj_palette(OBJ_PALETTE_PLAYER, cgb_player_palette);
    }
    set_playfield_palette();
}

void main(void)
{
    uint8_t pressed;
    init_video();
    enter_title();
    while (1) {
        /* VRAM, OAM, SCX and the split registers are written during VBlank; the
         * game logic runs after it, while the LCD draws the frame, so the
         * screen shows the state of the frame before. */
        wait_vblank();
        oam_dma();
        flush_tile_queue();
        SCX_REG = (uint8_t)camera_x;
        restore_raster();
        wait_frame_start();
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
        draw_sprites(game_state != GAME_STATE_TITLE);
    }
}
