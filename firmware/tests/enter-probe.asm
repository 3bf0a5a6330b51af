; ENTER's write check of its final stack pointer, for PCEmu's CPU tests
; (reference: Bochs; QEMU makes no such check).
;   P  ENTER whose push lands on a present page and whose final stack pointer
;      lies on a not-present one: #PF with a write's error code (02), CR2 on
;      that page, ESP unchanged
;   E  the end
bits 16
org 0x7C00
%include "boot-sector.inc"

IDT_BASE equ 0x1000
PAGE_DIRECTORY equ 0x2000
PAGE_TABLE equ 0x3000
HOLE equ 0x50000                ; the page that is not present

start:
    REAL_MODE_START
    CLEAR_IDT 0x0F
    SET_GATE 0x0E, pf_handler
    ENTER_PROTECTED_MODE

bits 32
protected:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov esp, 0x9000
    ; The first 4 MiB mapped one to one, but for HOLE.
    mov edi, PAGE_TABLE
    mov eax, 3
    mov ecx, 1024
.map:
    stosd
    add eax, 0x1000
    loop .map
    mov dword [PAGE_TABLE + (HOLE >> 12) * 4], 0
    mov dword [PAGE_DIRECTORY], PAGE_TABLE | 3
    mov eax, PAGE_DIRECTORY
    mov cr3, eax
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax

    ; P: ESP on the page above the hole (with room for the fault's frame);
    ; ENTER 0x50 ends inside the hole.
    mov esp, HOLE + 0x1040
    mov dword [resume], .p
    mov al, 'P'
    out 0xE9, al
    enter 0x50, 0
.p:
    mov eax, esp
    out 0xE9, al                ; 40: ESP as it was
    mov esp, 0x9000
    mov al, 'E'
    out 0xE9, al
    FINISH

pf_handler:
    pop eax                     ; the error code
    out 0xE9, al
    mov eax, cr2
    shr eax, 12
    out 0xE9, al                ; the page's number: 50
    ; ENTER restarted on the fault's return would fault again: resume after it.
    mov eax, [resume]
    mov [esp], eax
    iretd

resume: dd 0

align 8
gdt:
    dq 0
    dq 0x00CF9A000000FFFF       ; 0x08 32-bit code, 4 GiB
    dq 0x00CF92000000FFFF       ; 0x10 data, 4 GiB
gdt_end:
gdt_pointer:
    dw gdt_end - gdt - 1
    dd gdt
idt_pointer:
    dw 0x0F * 8 - 1
    dd IDT_BASE

times 510 - ($ - $$) db 0
dw 0xAA55
