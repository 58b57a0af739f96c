;; The second shadow OAM page, a DMA call that takes the page to copy, and the
;; writer of the formation's sprites (in assembler: SDCC's code for it took half
;; of every frame).
;;
;; The shooter double-buffers its sprites: the game writes one 256-aligned
;; page while the other is copied to OAM, and the two swap every frame.
;; crt0.s holds the first page (_shadow_oam at 0xC000); this one is placed at
;; 0xC100 by the shooter's linker flags (roms/Makefile: shooter_LDFLAGS).

        .module oam_pages
        .globl  _oam_dma_from
        .globl  _oam_put_formation
        .globl  _enemy_alive, _row_kind, _formation_x, _formation_y, _anim_frame

HRAM_OAM_DMA    = 0xFF80        ; crt0.s copies the DMA routine there
;; The same values as shooter.h and shooter.c (tests/test_game_shooter.py checks
;; the sprites this writes against the formation's variables)
FORMATION_ROWS    = 4
OAM_Y_OFFSET      = 16
OAM_X_OFFSET      = 8
ROW_SPACING       = 14
COLUMN_SPACING    = 12
TILE_ENEMY        = 42
OBJ_PALETTE_ENEMY = 1
FIRST_ENEMY       = 20          ; low byte of the first enemy slot in a page: 4 * FIRST_ENEMY_SLOT
ENEMIES_END       = 148         ; low byte after the last enemy slot: 4 * (FIRST_ENEMY_SLOT + ENEMY_COUNT)

        .area   _SHADOW_OAM_B
_shadow_oam_b:: ; screen uint8_t[160]: second sprite attribute page, same layout as shadow_oam; the pages alternate as the one copied to OAM
        .ds     160

        .area   _CODE
;; void oam_dma_from(uint8_t page): copy the page at page * 256 to OAM; the
;; argument arrives in A (SDCC sm83 calling convention), as the HRAM routine
;; wants it. Call only during VBlank or with the LCD off.
_oam_dma_from::
        jp      HRAM_OAM_DMA

;; void oam_put_formation(uint8_t *p): the formation's FORMATION_ROWS x 8 enemy
;; sprites, row by row from the top, left to right, into the slots from p (DE)
;; on, wrapping from the last enemy slot to the first; a dead enemy's sprite gets
;; y = 0 (hidden). Tile TILE_ENEMY + (kind * 2 + anim_frame) * 2, palette
;; OBJ_PALETTE_ENEMY + kind, kind = row_kind[row].
_oam_put_formation::
        ld      h, d
        ld      l, e                    ; HL = p
        ld      a, (_formation_y)
        add     a, #OAM_Y_OFFSET
        ld      b, a                    ; B = the row's OAM y
        ld      c, #0                   ; C = row
1$:
        push    bc
        push    hl
        ld      hl, #_row_kind          ; E = the row's tile
        ld      a, l
        add     a, c
        ld      l, a
        adc     a, h
        sub     a, l
        ld      h, a
        ld      a, (hl)
        add     a, a
        add     a, a
        ld      e, a
        ld      a, (_anim_frame)
        add     a, a
        add     a, e
        add     a, #TILE_ENEMY
        ld      e, a
        ld      hl, #_enemy_alive       ; C = the row's live-enemy bits, column 0 first
        ld      a, l
        add     a, c
        ld      l, a
        adc     a, h
        sub     a, l
        ld      h, a
        ld      c, (hl)
        pop     hl
        ld      a, (_formation_x)       ; low byte: live columns' x fit in 8 bits
        add     a, #OAM_X_OFFSET
        ld      d, a                    ; D = the column's OAM x
        .rept   8                       ; FORMATION_COLUMNS
        srl     c                       ; carry: the column's enemy lives
        sbc     a, a
        and     a, b                    ; y, or 0 to hide it
        ld      (hl+), a
        ld      a, d
        ld      (hl+), a
        add     a, #COLUMN_SPACING
        ld      d, a
        ld      a, e
        ld      (hl+), a
        sub     a, #TILE_ENEMY          ; palette: OBJ_PALETTE_ENEMY + (tile - TILE_ENEMY) / 4
        rrca
        rrca
        and     a, #3
        add     a, #OBJ_PALETTE_ENEMY
        ld      (hl+), a
        ld      a, l                    ; past the last enemy slot: back to the first
        cp      a, #ENEMIES_END
        jr      nz, .+4
        ld      l, #FIRST_ENEMY
        .endm
        pop     bc
        ld      a, b
        add     a, #ROW_SPACING
        ld      b, a
        inc     c
        ld      a, c
        cp      a, #FORMATION_ROWS
        jp      c, 1$
        ret
