; Virtual-8086 mode under a small ring-0 monitor, the way EMM386 runs DOS,
; for PCEmu's CPU tests (references: QEMU and Bochs). Reported on port 0xE9:
;   G c s  #GP from CLI with IOPL 0: the error code, the saved selector in DS
;          at entry (a V86 interrupt loads null data segments), the VM bit
;   G ...  INT 21h with IOPL 0 is #GP too; the monitor raises IOPL to 3 and
;          lets it run again
;   I s v  INT 21h with IOPL 3 goes through the IDT to ring 0: the saved
;          V86 DS and ES from the frame
;   V      OUT to a port the TSS's I/O bitmap allows runs in V86 mode
;   P      OUT to a port it denies is #GP(0)
;   E      HLT in V86 mode is #GP: the end
bits 16
org 0x7C00
%include "boot-sector.inc"

IDT_BASE equ 0x1000

start:
    REAL_MODE_START
    CLEAR_IDT 0x22
    SET_GATE 0x0D, gp_handler
    SET_GATE 0x21, int21_handler, 0xEE
    ENTER_PROTECTED_MODE

bits 32
protected:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov esp, 0x9000
    mov ax, 0x18
    ltr ax
    ; Into V86 mode: the frame for IRETD, GS FS DS ES SS ESP EFLAGS CS EIP.
    push dword 0x0040           ; GS
    push dword 0x0040           ; FS
    push dword 0x0050           ; DS
    push dword 0x0060           ; ES
    push dword 0                ; SS
    push dword 0x6000           ; ESP
    push dword 0x00020002       ; EFLAGS: VM, IOPL 0, IF clear
    push dword 0                ; CS
    push dword v86_code         ; EIP
    iretd

bits 16
v86_code:
    cli                         ; #GP: IOPL 0
    int 0x21                    ; #GP, then (IOPL 3) through the IDT
    mov al, 'V'
    out 0xE9, al                ; allowed by the bitmap
    out 0x80, al                ; denied: #GP
    hlt                         ; #GP: the end

bits 32
gp_handler:
    mov al, 'G'
    out 0xE9, al
    mov eax, [esp]              ; the error code
    out 0xE9, al
    mov eax, ds                 ; null after leaving V86 mode
    add al, 'a'
    out 0xE9, al
    mov eax, [esp + 12]         ; the saved EFLAGS: VM set
    shr eax, 17
    and al, 1
    add al, '0'
    out 0xE9, al
    mov ax, 0x10
    mov ds, ax
    mov ebx, [esp + 4]          ; the saved EIP: which instruction faulted
    mov bl, [ebx]
    cmp bl, 0xCD                ; INT n: raise IOPL and run it again
    je .iopl
    cmp bl, 0xF4                ; HLT: the end
    je finish
    cmp bl, 0xE6                ; OUT imm8: report, skip 2 bytes
    jne .skip1
    mov al, 'P'
    out 0xE9, al
    inc dword [esp + 4]
.skip1:
    inc dword [esp + 4]
    add esp, 4
    iretd
.iopl:
    or dword [esp + 12], 3 << 12
    add esp, 4
    iretd

int21_handler:
    mov al, 'I'
    out 0xE9, al
    mov eax, [esp + 24]         ; the V86 DS
    out 0xE9, al
    mov eax, [esp + 20]         ; the V86 ES
    out 0xE9, al
    iretd

finish:
    mov al, 'E'
    out 0xE9, al
    FINISH


align 8
gdt:
    dq 0
    dq 0x00CF9A000000FFFF       ; 0x08 ring-0 code
    dq 0x00CF92000000FFFF       ; 0x10 ring-0 data
    dw tss_end - tss - 1, tss, 0x8900, 0   ; 0x18 32-bit TSS
gdt_end:
gdt_pointer:
    dw gdt_end - gdt - 1
    dd gdt
idt_pointer:
    dw 0x22 * 8 - 1
    dd IDT_BASE

tss:
    dd 0, 0x9000, 0x10          ; back link, ESP0, SS0
    times 0x66 - 12 db 0
    dw 0x68                     ; the I/O bitmap's offset
    ; Ports 0-FFh: only 0E9h allowed (a clear bit); then the closing byte.
    times 29 db 0xFF
    db 0xFD
    times 2 db 0xFF
    db 0xFF
tss_end:

times 510 - ($ - $$) db 0
dw 0xAA55
