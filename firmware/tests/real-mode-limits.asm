; Segment limits in real mode, for PCEmu's CPU tests (reference: Bochs, since
; QEMU checks no limits in real mode). Each step reports a byte on port 0xE9:
;   G  a word at DS:FFFF raises #GP through the IVT
;   S  a word at SS:FFFF (BP-based) raises #SS
;   U  after protected mode loaded 4 GiB data segments, real-mode segment
;      loads keep the big limit ("unreal mode"): [DS:110000h] reads back
;   I  an INT and its IRET leave the big limits alone
;   G  a vector past the IDTR's limit raises #GP (the handler's G again)
;   B  a big (B=1) SS kept from protected mode makes PUSH use ESP
;   E  the end
; Port 0xF4 ends the run on QEMU and on PCEmu's harness; "Shutdown" on port
; 0x8900 ends it on Bochs.
bits 16
org 0x7C00
%include "boot-sector.inc"

start:
    cli
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov esp, 0x7000
    mov word [12 * 4], ss_handler
    mov word [12 * 4 + 2], 0
    mov word [13 * 4], gp_handler
    mov word [13 * 4 + 2], 0
    mov word [0x40 * 4], int40_handler
    mov word [0x40 * 4 + 2], 0

    ; G: a word at offset FFFF of a 64 KiB data segment.
    mov word [resume], after_gp
    mov bx, 0xFFFF
    mov ax, [bx]
after_gp:
    ; S: the same through BP, so relative to SS.
    mov word [resume], after_ss
    mov bp, 0xFFFF
    mov ax, [bp]
after_ss:

    ; Into protected mode for big data segments, and straight back.
    lgdt [gdt_pointer]
    mov eax, cr0
    or al, 1
    mov cr0, eax
    jmp 0x08:protected
protected:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov fs, ax
    mov gs, ax
    mov ax, 0x18             ; 4 GiB, B = 1
    mov ss, ax
    mov eax, cr0
    and al, 0xFE
    mov cr0, eax
    jmp 0:real
real:
    ; U: real-mode loads change selector and base only.
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov dword [dword 0x110000], 0x12345678
    mov eax, [es:dword 0x110000]
    cmp eax, 0x12345678
    jne fail
    mov al, 'U'
    out 0xE9, al
    ; I: an interrupt and its return keep them too.
    int 0x40
    mov eax, [dword 0x110000]
    cmp eax, 0x12345678
    jne fail
    mov al, 'I'
    out 0xE9, al
    ; G: 16 vectors in the IVT; INT 20h lies past them. The #GP's own vector fits.
    mov word [resume], after_limit
    lidt [small_ivt]
    int 0x20
after_limit:
    lidt [full_ivt]
    ; B: SS is big, so PUSH moves ESP and writes below 64 KiB's wrap.
    mov esp, 0x00012000
    push word 0x4242
    cmp esp, 0x00011FFE
    jne fail
    cmp word [dword 0x11FFE], 0x4242
    jne fail
    pop ax
    mov al, 'B'
    out 0xE9, al
    mov al, 'E'
    out 0xE9, al
finish:
    FINISH
fail:
    mov al, '!'
    out 0xE9, al
    jmp finish

; Handlers report, then resume where [resume] says.
gp_handler:
    mov al, 'G'
    jmp report
ss_handler:
    mov al, 'S'
report:
    out 0xE9, al
    mov bp, sp
    mov ax, [cs:resume]
    mov [bp], ax
    iret
int40_handler:
    iret

resume: dw 0

align 8
gdt:
    dq 0
    dq 0x00009A000000FFFF    ; 0x08 16-bit code, 64 KiB
    dq 0x00CF92000000FFFF    ; 0x10 data, 4 GiB
    dq 0x00CF92000000FFFF    ; 0x18 data, 4 GiB, B = 1 (the stack)
gdt_end:
gdt_pointer:
    dw gdt_end - gdt - 1
    dd gdt
small_ivt:
    dw 16 * 4 - 1
    dd 0
full_ivt:
    dw 0x3FF
    dd 0

times 510 - ($ - $$) db 0
dw 0xAA55
