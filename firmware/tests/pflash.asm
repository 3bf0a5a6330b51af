; The parallel flash from a guest. SeaBIOS runs from pflash unit 0 (256 KiB,
; read-only, at 0xFFFC0000); unit 1 is a 64 KiB image of 0x5A bytes just
; below it, at 0xFFFB0000. Reports on port 0xE9, every value read as hex:
;   Q  CFI query (0x98): bytes 0x10-0x13, 0x27, 0x2A, 0x2D-0x30 of the table
;   I  read identifier (0x90): the bytes at 0 and 1
;   R  block erase (0x20, 0xD0) of unit 1's block at 0x1000: the status byte,
;      then the status as a dword
;   P  "PCEmu" programmed byte by byte (0x10) at 0x1010 and the word 0xBEEF
;      (0x40) at 0x1018, then read status (0x70): the status
;   A  read array (0xFF): the bytes at 0x1010-0x1015 (the last one erased),
;      the word at 0x1018, and the byte at 0x0FFF just before the erased block
;   W  a block erase of read-only unit 0: the status (erase error); after
;      clear status (0x50, back to read array), the first byte of the array
;   E  the end
; The same on PCEmu and on qemu-system-i386 with the same two -drive if=pflash;
; the test then compares the two unit-1 files.
bits 16
org 0x7C00

%include "boot-sector.inc"

UNIT0    equ 0xFFFC0000
UNIT1    equ 0xFFFB0000
IDT_BASE equ 0x1000

start:
    REAL_MODE_START
    ENTER_PROTECTED_MODE             ; no IDT needed: nothing here faults

bits 32
protected:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov esp, 0x7000
    mov ebx, UNIT1

    mov al, 'Q'
    out 0xE9, al
    mov byte [ebx + 0x55], 0x98
    mov esi, query_offsets
query:
    movzx edx, byte [esi]
    test edx, edx
    jz queried
    mov al, [ebx + edx]
    call hex
    inc esi
    jmp query
queried:
    mov byte [ebx], 0xFF

    mov al, 'I'
    out 0xE9, al
    mov byte [ebx], 0x90
    mov al, [ebx]
    call hex
    mov al, [ebx + 1]
    call hex
    mov byte [ebx], 0xFF

    mov al, 'R'
    out 0xE9, al
    mov byte [ebx + 0x1000], 0x20
    mov byte [ebx + 0x1000], 0xD0
    mov al, [ebx + 0x1000]
    call hex
    mov eax, [ebx + 0x1000]
    call hex32
    mov byte [ebx], 0xFF

    mov al, 'P'
    out 0xE9, al
    mov esi, text
    lea edi, [ebx + 0x1010]
program:
    lodsb
    test al, al
    jz programmed
    mov byte [edi], 0x10
    mov [edi], al
    inc edi
    jmp program
programmed:
    mov byte [ebx + 0x1018], 0x40
    mov word [ebx + 0x1018], 0xBEEF
    mov byte [ebx], 0x70
    mov al, [ebx]
    call hex
    mov byte [ebx], 0xFF

    mov al, 'A'
    out 0xE9, al
    lea esi, [ebx + 0x1010]
    mov ecx, 6
array:
    lodsb
    call hex
    loop array
    mov ax, [ebx + 0x1018]
    shl eax, 16
    call hex16
    mov al, [ebx + 0x0FFF]
    call hex

    mov al, 'W'
    out 0xE9, al
    mov ebx, UNIT0
    mov byte [ebx], 0x20
    mov byte [ebx], 0xD0
    mov al, [ebx]
    call hex
    mov byte [ebx], 0x50
    mov al, [ebx]
    call hex

    mov al, 'E'
    out 0xE9, al
    FINISH

; The top half of EAX as four hex digits, high byte first.
hex16:
    rol eax, 8
    call hex
    rol eax, 8
    jmp hex

; EAX as eight hex digits, high byte first.
hex32:
    mov ecx, 4
.next:
    rol eax, 8
    call hex
    loop .next
    ret

; AL as two hex digits.
hex:
    push eax
    shr al, 4
    call digit
    mov eax, [esp]
    and al, 0x0F
    call digit
    pop eax
    ret

digit:
    add al, '0'
    cmp al, '9'
    jbe .out
    add al, 'A' - '9' - 1
.out:
    out 0xE9, al
    ret

query_offsets: db 0x10, 0x11, 0x12, 0x13, 0x27, 0x2A, 0x2D, 0x2E, 0x2F, 0x30, 0
text: db "PCEmu", 0

gdt:
    dq 0
    dq 0x00CF9A000000FFFF
    dq 0x00CF92000000FFFF
gdt_end:
gdt_pointer:
    dw gdt_end - gdt - 1
    dd gdt
idt_pointer:
    dw 0x20 * 8 - 1
    dd IDT_BASE

times 510 - ($ - $$) db 0
dw 0xAA55
