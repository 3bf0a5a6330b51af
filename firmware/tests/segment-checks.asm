; Protected-mode data accesses against their segments, for PCEmu's CPU tests
; (reference: Bochs; QEMU checks no segment limit or type on data accesses).
; Each step reports on port 0xE9; a fault reports G (#GP) or S (#SS) and its
; error code's low byte, then goes on at the step's resume address.
;   W  a write through a read-only data segment: #GP(0)
;   L  a dword that ends past DS's limit: #GP(0); one that ends on it reads
;   X  SS's limit: #SS(0)
;   D  an expand-down segment: at or below its limit #GP(0), above it reads
;   N  a null GS: #GP(0)
;   F  ENTER with a 32-bit operand on a 16-bit stack pushes the same frame
;      pointer it puts in EBP (ESP's upper half over the new SP)
;   P  ENTER whose final stack pointer lies past SS's limit: #SS(0), ESP kept
;   E  the end
bits 16
org 0x7C00
%include "boot-sector.inc"

IDT_BASE equ 0x1000

start:
    REAL_MODE_START
    CLEAR_IDT 0x0E
    SET_GATE 0x0C, ss_handler
    SET_GATE 0x0D, gp_handler
    ENTER_PROTECTED_MODE

bits 32
%macro STEP 2                   ; tag, resume label
    mov al, %1
    out 0xE9, al
    mov dword [es:resume], %2   ; ES stays flat

%endmacro

protected:
    mov ax, 0x10
    mov es, ax
    mov ss, ax
    mov esp, 0x9000
    mov ax, 0x18                ; read-only
    mov ds, ax
    STEP 'W', .w
    mov [0x8000], eax
.w:
    mov ax, 0x20                ; limit 0x9FFFF, byte granular
    mov ds, ax
    STEP 'L', .l
    mov eax, [0x9FFFD]
.l:
    mov eax, [0x9FFFC]          ; ends on the limit: no fault
    mov ax, 0x20
    mov ss, ax
    STEP 'X', .x
    mov eax, [ss:0xA0000]
.x:
    mov ax, 0x10
    mov ss, ax
    mov ax, 0x28                ; expand-down, limit 0xFFF, B
    mov ds, ax
    STEP 'D', .d
    mov eax, [0x800]
.d:
    mov eax, [0x2000]
    mov ax, 0x10
    mov ds, ax
    xor ax, ax
    mov gs, ax
    STEP 'N', .n
    mov eax, [gs:0x100]
.n:
    ; F: ESP 0x20000 on a 16-bit stack at 0x10000; ENTER 8,2 with o32.
    mov ax, 0x30
    mov ss, ax
    mov esp, 0x20000
    mov ebp, 0x00030040
    STEP 'F', .f
    o32 enter 8, 2
    mov eax, ebp
    shr eax, 16
    out 0xE9, al                ; EBP: 0002FFFC
    mov eax, [0x10000 + 0xFFF4] ; the pushed frame pointer, the same
    shr eax, 16
    out 0xE9, al
    mov eax, [0x10000 + 0xFFF4]
    out 0xE9, al
.f:
    mov ax, 0x10
    mov ss, ax
    ; P: SS limit 0x9FFFF, ESP 0x80: the final pointer wraps below 0.
    mov ax, 0x20
    mov ss, ax
    mov esp, 0x80
    STEP 'P', .p
    enter 0x100, 0
.p:
    mov eax, esp
    out 0xE9, al                ; 0x80: ESP as it was
    mov ax, 0x10
    mov ss, ax
    mov esp, 0x9000

    mov al, 'E'
    out 0xE9, al
    FINISH

gp_handler:
    mov al, 'G'
    jmp report
ss_handler:
    mov al, 'S'
report:
    out 0xE9, al
    pop eax                     ; the error code
    out 0xE9, al
    mov eax, [es:resume]
    mov [esp], eax
    iretd

resume: dd 0

align 8
gdt:
    dq 0
    dq 0x00CF9A000000FFFF       ; 0x08 32-bit code, 4 GiB
    dq 0x00CF92000000FFFF       ; 0x10 data, 4 GiB
    dq 0x00CF90000000FFFF       ; 0x18 read-only data, 4 GiB
    dq 0x004992000000FFFF       ; 0x20 data, limit 0x9FFFF, byte granular, B
    dq 0x0040960000000FFF       ; 0x28 expand-down data, limit 0xFFF, B
    dq 0x000092010000FFFF       ; 0x30 16-bit data at 0x10000, 64 KiB (B = 0)
gdt_end:
gdt_pointer:
    dw gdt_end - gdt - 1
    dd gdt
idt_pointer:
    dw 0x0E * 8 - 1
    dd IDT_BASE

times 510 - ($ - $$) db 0
dw 0xAA55
