;; Start-up code for Game Boy ROMs built with SDCC (sm83): interrupt vectors,
;; the entry point at 0x100, the cartridge header, stack, data initialisation
;; and the OAM DMA routine that has to run from HRAM.
;;
;; Header: this file writes the entry point, the logo, the SGB flag and the
;; version; makebin -Z writes title, CGB flag, licensees, cartridge type and
;; sizes from its command line (roms/Makefile) and computes the header and
;; global checksums (checked by tests/test_roms.py).
;;
;; Options: roms/Makefile assembles a ROM's options file (<rom>_CRT0_OPTIONS,
;; runtime/crt0_options.s unless the ROM names its own) in front of this file;
;; it defines CRT0_STACK_TOP and CRT0_STAT_HANDLER (see there).

        .module crt0
        .globl  _main
        .globl  _boot_cpu_type
        .globl  _vblank_count
        .globl  _shadow_oam
        .globl  _oam_dma
        .globl  l__DATA, s__DATA
        .globl  l__INITIALIZER, s__INITIALIZER, s__INITIALIZED

;; I/O registers as offsets from 0xFF00, the operand form ldh takes (Pan Docs)
DMA_REG         = 0x46          ; 0xFF46 OAM DMA source (high byte)
IF_REG          = 0x0F          ; 0xFF0F interrupt flags
IE_REG          = 0xFF          ; 0xFFFF interrupt enable
STAT_REG        = 0x41          ; 0xFF41 LCD status
LYC_REG         = 0x45          ; 0xFF45 LY compare
STAT_LYC_IRQ    = 0x40          ; STAT bit 6: interrupt when LY == LYC
IRQ_VBLANK_STAT = 0x03          ; IE bits 0 (VBlank) and 1 (LCD STAT)
HRAM_OAM_DMA    = 0xFF80        ; where the DMA routine is copied (start of HRAM)
STACK_TOP       = CRT0_STACK_TOP ; the stack grows down from here

        ;; ---------------------------------------------------------------
        ;; Fixed addresses: restart and interrupt vectors, entry point, header
        .area   _HEADER (ABS)

        .org    0x00
        ret                     ; rst 0x00 is unused: return if ever reached

        .org    0x40            ; VBlank interrupt
        jp      vblank_isr
        .org    0x48            ; LCD STAT interrupt: LY == 0, wakes wait_frame_start
        .if     CRT0_STAT_HANDLER
        jp      _stat_handler   ; the ROM's handler (ends in reti), also called at LY == 0
        .else
        reti
        .endif
        .org    0x50            ; timer interrupt (never enabled)
        reti
        .org    0x58            ; serial interrupt (never enabled)
        reti
        .org    0x60            ; joypad interrupt (never enabled)
        reti

        .org    0x100           ; entry point after the boot ROM
        nop
        jp      init

        .org    0x104           ; Nintendo logo, checked by the boot ROM
        .db     0xCE,0xED,0x66,0x66,0xCC,0x0D,0x00,0x0B,0x03,0x73,0x00,0x83
        .db     0x00,0x0C,0x00,0x0D,0x00,0x08,0x11,0x1F,0x88,0x89,0x00,0x0E
        .db     0xDC,0xCC,0x6E,0xE6,0xDD,0xDD,0xD9,0x99,0xBB,0xBB,0x67,0x63
        .db     0x6E,0x0E,0xEC,0xCC,0xDD,0xDC,0x99,0x9F,0xBB,0xB9,0x33,0x3E
        ;; 0x134-0x14F: title, CGB flag, licensees, cartridge type, sizes,
        ;; region and checksums come from makebin -Z; it leaves these two:
        .org    0x146
        .db     0x00            ; no Super Game Boy functions
        .org    0x14C
        .db     0x00            ; mask ROM version

        ;; ---------------------------------------------------------------
        ;; Area order: code and constants in ROM, then RAM (see -b in the Makefile)
        .area   _CODE
        .area   _HOME
        .area   _INITIALIZER
        .area   _GSINIT
        .area   _GSFINAL
        .area   _SHADOW_OAM
        .area   _DATA
        .area   _INITIALIZED
        .area   _BSS
        .area   _HEAP

        ;; The area is placed on a 256-byte boundary (Makefile: -b _SHADOW_OAM)
        ;; because OAM DMA takes only the high byte of the source address.
        ;; Each label's comment "kind type: description" goes into the symbols file.
        .area   _SHADOW_OAM
_shadow_oam::   ; screen uint8_t[160]: sprite attributes (40 x y+16, x+8, tile, flags) copied to OAM by DMA each VBlank
        .ds     160

        .area   _DATA
_boot_cpu_type:: ; runtime uint8_t: register A at boot, 0x11 on a Game Boy Color
        .ds     1
_vblank_count:: ; runtime uint8_t: VBlank interrupts since power-on, wraps at 256
        .ds     1

        .area   _HOME
init:
        di
        ld      sp, #STACK_TOP
        push    af              ; keep the boot value of A (CPU type) until RAM is cleared

        ;; zero _DATA (uninitialised globals)
        ld      hl, #s__DATA
        ld      bc, #l__DATA
        call    clear_bytes

        ;; copy the initial values of initialised globals from ROM
        ld      de, #s__INITIALIZER
        ld      hl, #s__INITIALIZED
        ld      bc, #l__INITIALIZER
        call    copy_bytes

        ;; zero shadow OAM, so that no stray sprite shows before the game writes it
        ld      hl, #_shadow_oam
        ld      bc, #160
        call    clear_bytes

        ;; copy the DMA routine into HRAM
        ld      de, #oam_dma_routine
        ld      hl, #HRAM_OAM_DMA
        ld      bc, #oam_dma_routine_end - oam_dma_routine
        call    copy_bytes

        pop     af
        ld      (_boot_cpu_type), a

        call    gsinit

        ;; VBlank (LY 144) and LY == 0 interrupts wake the CPU from halt
        xor     a
        ldh     (LYC_REG), a
        ldh     (IF_REG), a
        ld      a, #STAT_LYC_IRQ
        ldh     (STAT_REG), a
        ld      a, #IRQ_VBLANK_STAT
        ldh     (IE_REG), a
        ei
        call    _main
halt_forever:
        halt
        jr      halt_forever

;; hl = destination, bc = count
clear_bytes:
        inc     b
        inc     c
        xor     a
        jr      2$
1$:
        ld      (hl+), a
2$:
        dec     c
        jr      nz, 1$
        dec     b
        jr      nz, 1$
        ret

;; de = source, hl = destination, bc = count
copy_bytes:
        inc     b
        inc     c
        jr      2$
1$:
        ld      a, (de)
        inc     de
        ld      (hl+), a
2$:
        dec     c
        jr      nz, 1$
        dec     b
        jr      nz, 1$
        ret

vblank_isr:
        push    af
        push    hl
        ld      hl, #_vblank_count
        inc     (hl)
        pop     hl
        pop     af
        reti

;; void oam_dma(void): copy shadow_oam to OAM. Call only during VBlank or
;; with the LCD off; the routine in HRAM waits the 160 us the transfer takes.
_oam_dma::
        ld      a, #>_shadow_oam
        jp      HRAM_OAM_DMA

;; Runs from HRAM: during DMA the CPU can only reach HRAM.
oam_dma_routine:
        ldh     (DMA_REG), a
        ld      a, #40
1$:
        dec     a
        jr      nz, 1$
        ret
oam_dma_routine_end:

        .area   _GSINIT
gsinit:
        .area   _GSFINAL
        ret
