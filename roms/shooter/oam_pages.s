;; The second shadow OAM page and a DMA call that takes the page to copy.
;;
;; The shooter double-buffers its sprites: the game writes one 256-aligned
;; page while the other is copied to OAM, and the two swap every frame.
;; crt0.s holds the first page (_shadow_oam at 0xC000); this one is placed at
;; 0xC100 by the shooter's linker flags (roms/Makefile: shooter_LDFLAGS).

        .module oam_pages
        .globl  _oam_dma_from

HRAM_OAM_DMA    = 0xFF80        ; crt0.s copies the DMA routine there

        .area   _SHADOW_OAM_B
_shadow_oam_b:: ; screen uint8_t[160]: second sprite attribute page, same layout as shadow_oam; the pages alternate as the one copied to OAM
        .ds     160

        .area   _CODE
;; void oam_dma_from(uint8_t page): copy the page at page * 256 to OAM; the
;; argument arrives in A (SDCC sm83 calling convention), as the HRAM routine
;; wants it. Call only during VBlank or with the LCD off.
_oam_dma_from::
        jp      HRAM_OAM_DMA
