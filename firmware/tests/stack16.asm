; A 16-bit stack segment (B = 0) under 32-bit protected-mode code, for
; PCEmu's CPU tests: every stack operation must use SP, wrap at 64 KiB and
; keep ESP's upper half. ESP starts at 0x20000 (SP = 0) each step; a step
; reports ESP's bits 16-23 and 0-7 after it, then one byte it read back.
; QEMU and Bochs are the references. Port 0xF4 ends the run on QEMU and on
; PCEmu's harness; "Shutdown" on port 0x8900 ends it on Bochs.
bits 16
org 0x7C00
%include "boot-sector.inc"

STACK_BASE equ 0x10000
IDT_BASE equ 0x1000

start:
    REAL_MODE_START
    CLEAR_IDT 0x31
    SET_GATE 0x30, int30_handler
    ENTER_PROTECTED_MODE

bits 32
protected:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ax, 0x18                ; 16-bit stack segment at STACK_BASE
    mov ss, ax

    ; PUSH r32 / POP r32
    mov esp, 0x20000
    mov eax, 0x11223344
    push eax
    call report_esp
    mov al, [STACK_BASE + 0xFFFC]
    out 0xE9, al
    pop ebx
    call report_esp
    mov al, bl
    out 0xE9, al

    ; PUSHAD / POPAD: the pushed ESP is the whole ESP before the instruction.
    mov esp, 0x20000
    pushad
    call report_esp
    mov al, [STACK_BASE + 0xFFEC + 2]   ; byte 2 of the pushed ESP
    out 0xE9, al
    popad
    call report_esp

    ; PUSHFD / POPFD, and o16 PUSH / POP
    mov esp, 0x20000
    pushfd
    o16 push word 0x5A5A
    call report_esp
    o16 pop ax
    popfd
    call report_esp

    ; CALL / RET near
    mov esp, 0x20000
    call near_target
    call report_esp

    ; ENTER / LEAVE: the frame pointer as the stack's size sees it.
    mov esp, 0x20000
    mov ebp, 0x00347777
    enter 8, 0
    call report_esp
    ; The frame pointer keeps ESP's upper half with the new SP below it:
    ; 0002FFFC, as the host CPU gives it (a 16-bit SS from the LDT in a 32-bit
    ; Linux process) and Bochs does (QEMU gives 0001FFFC).
    mov eax, ebp
    shr eax, 16
    out 0xE9, al                ; EBP's bits 16-23 after ENTER
    mov eax, ebp
    out 0xE9, al                ; and its low byte
    leave
    call report_esp
    mov eax, ebp
    out 0xE9, al

    ; INT through a 32-bit interrupt gate, and IRETD
    mov esp, 0x20000
    int 0x30
    call report_esp

    ; CALL FAR / RETF (not across the wrap: Bochs refuses a far call's frame
    ; that wraps, where QEMU and the SDM's Push wrap it)
    mov esp, 0x20010
    call 0x08:far_target
    call report_esp

    mov al, 'E'
    out 0xE9, al
    FINISH

; Reports ESP as it was at the call: bits 16-23, then bits 0-7. Uses the
; stack itself (with SP wrapping), so it also exercises CALL and RET.
report_esp:
    push eax
    mov eax, esp                ; ESP's upper half is the caller's
    mov ax, sp
    add ax, 8
    shr eax, 16
    out 0xE9, al
    mov ax, sp
    add ax, 8
    out 0xE9, al
    pop eax
    ret

near_target:
    call report_esp             ; inside: SP = 0xFFFC
    mov al, [STACK_BASE + 0xFFFC]
    out 0xE9, al                ; the return address's low byte
    ret

far_target:
    call report_esp             ; inside: SP = 0x0008
    mov al, [STACK_BASE + 0x000C]
    out 0xE9, al                ; the pushed CS
    retf

int30_handler:
    call report_esp             ; inside: SP = 0xFFF4
    mov al, [STACK_BASE + 0xFFF8]
    out 0xE9, al                ; the pushed CS
    iretd


align 8
gdt:
    dq 0
    dq 0x00CF9A000000FFFF       ; 0x08 32-bit code, 4 GiB
    dq 0x00CF92000000FFFF       ; 0x10 data, 4 GiB
    dq 0x000092010000FFFF       ; 0x18 16-bit data at 0x10000, 64 KiB (B = 0)
gdt_end:
gdt_pointer:
    dw gdt_end - gdt - 1
    dd gdt
idt_pointer:
    dw 0x31 * 8 - 1
    dd IDT_BASE

times 510 - ($ - $$) db 0
dw 0xAA55
