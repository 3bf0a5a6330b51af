; RAM above 4 GiB through PAE paging, for PCEmu's machine tests. Run with
; -m 5G: the pc machine puts 3 GiB below 4 GiB and 2 GiB at 4-6 GiB.
; Reports on port 0xE9:
;   P  PAE paging is on (low 2 MiB identity-mapped by a page table below 1 MiB)
;   A  every dword of the 2 MiB page at 4 GiB reads back its pattern (a for a mismatch)
;   B  the RAM at 4 GiB is not the RAM at 0: a low dword kept its value (b if not)
;   C  a page table that itself lies above 4 GiB maps the last page below 6 GiB,
;      and a 2 MiB page over the same RAM reads what was written through it (c if not)
;   D  the walk set A and D in that high page table's entry (d if not)
;   N  a page at 8 GiB, where nothing is, reads all ones after a write (Z for zeros)
;   X, Y  a routine in RAM above 4 GiB, run, rewritten by a store, run again
;   E  the end
; Runs the same on PCEmu and on qemu-system-i386 -m 5G.
bits 16
org 0x7C00

%include "boot-sector.inc"

PDPT      equ 0x20000               ; CR3: 32-byte aligned, below 4 GiB
DIRECTORY equ 0x21000
LOW_TABLE equ 0x22000
IDT_BASE  equ 0x1000
LOW_WORD  equ 0x30000
HIGH_PAGE equ 0x200000              ; linear: the 2 MiB page at physical 4 GiB
HIGH_TABLE equ HIGH_PAGE + 0x10000  ; linear view of the page table at 4 GiB + 64 KiB
TABLED    equ 0x400000              ; linear: the 2 MiB that high table maps
TOP_PAGE  equ 0x600000              ; linear: the 2 MiB page at 6 GiB - 2 MiB
ROUTINE   equ HIGH_PAGE + 0x20000

start:
    REAL_MODE_START
    ENTER_PROTECTED_MODE             ; no IDT needed: nothing here faults

bits 32
protected:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov esp, 0x9000
    ; Clear the PDPT, the directory and the low table (0x20000-0x22FFF).
    mov edi, PDPT
    mov ecx, 3 * 1024
    xor eax, eax
    rep stosd
    mov ebx, DIRECTORY
    mov dword [PDPT], DIRECTORY | 1
    mov dword [ebx], LOW_TABLE | 3
    inc eax                          ; EAX = 1: each high dword below is 1
    ; 2 MiB page at physical 0x1_0000_0000.
    mov byte [ebx + 1 * 8], 0x83
    mov [ebx + 1 * 8 + 4], eax
    ; A page table at physical 0x1_0001_0000.
    mov dword [ebx + 2 * 8], 0x10000 | 3
    mov [ebx + 2 * 8 + 4], eax
    ; 2 MiB page at physical 0x1_7FE0_0000, the last 2 MiB of -m 5G.
    mov dword [ebx + 3 * 8], 0x7FE00083
    mov [ebx + 3 * 8 + 4], eax
    ; Identity-map the low 2 MiB.
    mov edi, LOW_TABLE
    mov eax, 3
    mov cx, 512
map:
    stosd
    add eax, 0x1000
    scasd                            ; skips the high dword (zero)
    loop map
    mov eax, cr4
    or eax, 0x20                     ; PAE
    mov cr4, eax
    mov eax, PDPT
    mov cr3, eax
    mov eax, cr0
    or eax, 0x80000000               ; PG
    mov cr0, eax
    mov al, 'P'
    out 0xE9, al

    ; A: a pattern through every dword of the page at 4 GiB, then checked.
    mov dword [LOW_WORD], 0x22222222
    mov edi, HIGH_PAGE
    mov ecx, 0x80000
    xor eax, eax
fill:
    add eax, 0x9E3779B9
    stosd
    loop fill
    mov esi, HIGH_PAGE
    mov ecx, 0x80000
    xor edx, edx
    mov bl, 'A'
check:
    add edx, 0x9E3779B9
    lodsd
    cmp eax, edx
    je .same
    mov bl, 'a'
.same:
    loop check
    mov al, bl
    out 0xE9, al

    ; B: nothing wrapped onto low memory.
    mov al, 'B'
    cmp dword [LOW_WORD], 0x22222222
    je .low_kept
    mov al, 'b'
.low_kept:
    out 0xE9, al

    ; C: the table at 4 GiB + 64 KiB (cleared; its pattern is still there):
    ; entry 0 -> the last page below 6 GiB, entry 1 -> 8 GiB (nothing).
    mov edi, HIGH_TABLE
    mov ecx, 1024
    xor eax, eax
    rep stosd
    mov dword [HIGH_TABLE], 0x7FFFF003
    mov dword [HIGH_TABLE + 4], 1
    mov dword [HIGH_TABLE + 8], 0x00000003
    mov dword [HIGH_TABLE + 12], 2
    mov dword [TABLED + 0xFFC], 0xC0DE6666
    mov al, 'C'
    cmp dword [TOP_PAGE + 0x1FFFFC], 0xC0DE6666
    je .aliased
    mov al, 'c'
.aliased:
    out 0xE9, al

    ; D: accessed and dirty in the high entry.
    mov eax, [HIGH_TABLE]
    and eax, 0x60
    cmp eax, 0x60
    mov al, 'D'
    je .dirty
    mov al, 'd'
.dirty:
    out 0xE9, al

    ; N: 8 GiB holds nothing.
    mov dword [TABLED + 0x1000], 0
    mov eax, [TABLED + 0x1000]
    mov bl, 'N'
    cmp eax, 0xFFFFFFFF
    je .nothing
    mov bl, 'Z'
    test eax, eax
    jz .nothing
    mov bl, '?'
.nothing:
    mov al, bl
    out 0xE9, al

    ; X then Y: "mov eax, imm32; ret" at 4 GiB + 128 KiB, run three times,
    ; its immediate rewritten, run again.
    mov dword [ROUTINE], 0x000058B8  ; mov eax, 'X'
    mov word [ROUTINE + 4], 0xC300   ; ... ; ret
    mov ecx, 3
.again:
    mov eax, ROUTINE
    call eax
    loop .again
    out 0xE9, al
    mov byte [ROUTINE + 1], 'Y'
    mov eax, ROUTINE
    call eax
    out 0xE9, al

    mov al, 'E'
    out 0xE9, al
    FINISH

align 8
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
