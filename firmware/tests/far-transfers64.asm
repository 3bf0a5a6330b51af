; Far JMP and CALL in long mode, for PCEmu's machine tests: through
; m16:64 and m16:32 pointers, to 64-bit and compatibility code, through
; 16-byte call gates at the same and at a higher privilege, and the faults
; long mode adds. Reports on port 0xE9:
;   L  in 64-bit mode
;   J  JMP m16:64 (REX.W) reached its target (with m16:32 the selector
;      would be the offset's high half, 0, and fault)
;   C  CALL m16:64 pushed CS and RIP as quadwords; c  RETFQ came back
;   K  CALL m16:32 into compatibility code pushed CS and EIP as dwords;
;   k  its 32-bit RETF came back to 64-bit code
;   gXX  a #GP with error code XX (hex), then the next step:
;        g88  JMP to a code segment with L and D both set
;   3  in ring 3 (IRETQ)
;   G  CALL through a DPL 3 call gate from ring 3: at ring 0 on RSP0 with a
;      null SS, the caller's SS, RSP, CS and RIP on the stack; the gate's
;      offset is in the upper half of the address space
;   R  RETFQ back to ring 3 with the caller's SS and RSP
;        g60  CALL through a 16-bit call gate (none in long mode)
;        g68  CALL through a gate whose upper half's type is not 0
;        g18  CALL through a gate to compatibility code
;   j  JMP through a call gate: no privilege change, no push
;        g30  JMP to a TSS (no task switch in long mode)
;   E  the end
; Bochs is the reference: QEMU 7.2 jumps into the L-and-D segment and
; treats a 64-bit call gate as a 32-bit one (#SS from ring 3). The boot
; sector loads the rest of the program (track 0) to 0x7E00, unless it is
; there already (PCEmu's CPU tests load the whole image).
bits 16
org 0x7C00

%include "boot-sector.inc"

SECTORS   equ 4                     ; sectors after the boot sector
LOADED    equ 0x64616F4C            ; "Load": the sectors after the boot sector are in place
PML4      equ 0x10000
PDPT      equ 0x11000
DIRECTORY equ 0x12000
IDT       equ 0x13000
TSS       equ 0x14000
RSP0      equ 0x9F000
STACK     equ 0x9E000
USER_RSP  equ 0x8F000
HIGH      equ 0xFFFF800000000000    ; PML4 entry 256 maps the same low 2 MiB here

start:
    REAL_MODE_START
    cmp dword [loaded], LOADED
    je prepare
    mov bx, 0x7E00
    mov ax, 0x0200 | SECTORS
    mov cx, 0x0002
    xor dh, dh
    int 0x13
    jc load_failed
    jmp prepare

load_failed:
    mov al, '!'
    out 0xE9, al
    FINISH

prepare:
    ; Page tables: the low 2 MiB as one user-accessible 2 MiB page, at 0 and at HIGH.
    mov ax, PML4 >> 4
    mov es, ax
    xor di, di
    xor ax, ax
    mov cx, 3 * 4096 / 2
    rep stosw
    mov dword [es:0], PDPT | 7
    mov dword [es:256 * 8], PDPT | 7
    mov dword [es:0x1000], DIRECTORY | 7
    mov dword [es:0x2000], 0x87
    ; The TSS: RSP0.
    mov ax, TSS >> 4
    mov es, ax
    xor di, di
    xor ax, ax
    mov cx, 0x68 / 2
    rep stosw
    mov dword [es:4], RSP0
    xor ax, ax
    mov es, ax
    mov eax, PML4
    mov cr3, eax
    mov eax, cr4
    or eax, 1 << 5                  ; PAE
    mov cr4, eax
    mov ecx, 0xC0000080             ; EFER.LME
    rdmsr
    or eax, 1 << 8
    wrmsr
    lgdt [gdt_pointer]
    mov eax, cr0
    or eax, 0x80000001              ; PG, PE
    mov cr0, eax
    jmp 0x08:long64

times 510 - ($ - $$) db 0
dw 0xAA55
loaded: dd LOADED

bits 64
long64:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov rsp, STACK
    ; The IDT: #UD, #TS, #NP, #SS, #GP and #PF, each reporting and going on.
    mov rdi, IDT
    xor eax, eax
    mov ecx, 32 * 4
    rep stosd
    lea rax, [rel ud_handler]
    mov edi, 6
    call set_gate
    lea rax, [rel ts_handler]
    mov edi, 10
    call set_gate
    lea rax, [rel np_handler]
    mov edi, 11
    call set_gate
    lea rax, [rel ss_handler]
    mov edi, 12
    call set_gate
    lea rax, [rel gp_handler]
    mov edi, 13
    call set_gate
    lea rax, [rel pf_handler]
    mov edi, 14
    call set_gate
    lidt [rel idt_pointer]
    mov al, 'L'
    out 0xE9, al

    ; JMP m16:64.
    jmp qword far [rel far_jump_pointer]
    jmp finish
jump_target:
    mov al, 'J'
    out 0xE9, al

    ; CALL m16:64 to 64-bit code: quadword CS and RIP.
    mov rbx, rsp
    call qword far [rel far_call_pointer]
after_call64:
    cmp rsp, rbx
    jne .no
    mov al, 'c'
    out 0xE9, al
.no:

    ; CALL m16:32 to compatibility code: dword CS and EIP.
    mov rbx, rsp
    call dword far [rel compat_call_pointer]
after_compat_call:
    cmp rsp, rbx
    jne .no
    mov al, 'k'
    out 0xE9, al
.no:

    ; JMP to a code segment with L and D set: #GP(0x88).
    lea rax, [rel to_ring3]
    mov [rel resume], rax
    jmp dword far [rel long_and_big_pointer]
    jmp finish

to_ring3:
    mov ax, 0x30
    ltr ax
    push qword 0x2B                 ; SS
    push qword USER_RSP
    push qword 0x3002               ; RFLAGS: IOPL 3, so ring 3 may write to port 0xE9
    push qword 0x23                 ; CS
    lea rax, [rel ring3]
    push rax
    iretq

ring3:
    mov al, '3'
    out 0xE9, al
    ; Through the DPL 3 gate into ring 0.
    call dword far [rel user_gate_pointer]
after_gate_call:
    mov ax, ss
    cmp ax, 0x2B
    jne .no
    cmp rsp, USER_RSP
    jne .no
    mov ax, cs
    cmp ax, 0x23
    jne .no
    mov al, 'R'
    out 0xE9, al
.no:
    ; A 16-bit call gate: #GP(0x60); the handler goes on at ring 0.
    lea rax, [rel ring0_faults]
    mov [rel resume], rax
    call dword far [rel gate16_pointer]
    jmp finish

ring0_faults:
    lea rax, [rel .compat_gate]
    mov [rel resume], rax
    call dword far [rel bad_upper_pointer]
    jmp finish
.compat_gate:
    lea rax, [rel .gate_jump]
    mov [rel resume], rax
    call dword far [rel compat_gate_pointer]
    jmp finish
.gate_jump:
    mov rbx, rsp
    jmp dword far [rel kernel_gate_pointer]
    jmp finish
after_gate_jump:
    lea rax, [rel finish]
    mov [rel resume], rax
    jmp dword far [rel tss_pointer]

finish:
    mov al, 'E'
    out 0xE9, al
    mov dx, 0x8900
    lea rsi, [rel shutdown]
.next:
    lodsb
    or al, al
    jz .done
    out dx, al
    jmp .next
.done:
    out 0xF4, al
    cli
    hlt
shutdown: db "Shutdown", 0

; The far CALL m16:64's target: [RSP] the return RIP, [RSP+8] CS.
call64_target:
    lea rax, [rel after_call64]
    cmp [rsp], rax
    jne .no
    cmp qword [rsp + 8], 0x08
    jne .no
    mov al, 'C'
    out 0xE9, al
.no:
    o64 retf

; The gate's target, at HIGH + this: [RSP] RIP, CS, RSP, SS of ring 3.
gate_target:
    mov ax, ss
    test ax, ax
    jnz .no
    cmp rsp, RSP0 - 32
    jne .no
    lea rax, [rel after_gate_call]
    mov rcx, HIGH
    sub rax, rcx                    ; this code runs at HIGH + its address
    cmp [rsp], rax
    jne .no
    cmp qword [rsp + 8], 0x23
    jne .no
    cmp qword [rsp + 16], USER_RSP
    jne .no
    cmp qword [rsp + 24], 0x2B
    jne .no
    mov al, 'G'
    out 0xE9, al
.no:
    o64 retf

; The jump gate's target: the stack is as it was.
kernel_gate_target:
    cmp rsp, rbx
    jne .no
    mov al, 'j'
    out 0xE9, al
.no:
    jmp after_gate_jump

; Exception handlers: a letter and the error code in hex, then on to [resume]
; on the ring 0 stack.
ud_handler:
    mov al, 'u'
    jmp report_without_code
ts_handler:
    mov al, 't'
    jmp report
np_handler:
    mov al, 'n'
    jmp report
ss_handler:
    mov al, 's'
    jmp report
gp_handler:
    mov al, 'g'
    jmp report
pf_handler:
    mov al, 'p'
report:
    out 0xE9, al
    mov rax, [rsp]
    call print_hex_byte
    jmp go_on
report_without_code:
    out 0xE9, al
go_on:
    mov ax, 0x10
    mov ss, ax
    mov ds, ax
    mov rsp, STACK
    jmp [rel resume]

print_hex_byte:
    mov ecx, eax
    shr al, 4
    call .digit
    mov eax, ecx
    and al, 0x0F
.digit:
    and al, 0x0F
    add al, '0'
    cmp al, '9'
    jbe .out
    add al, 'A' - '0' - 10
.out:
    out 0xE9, al
    ret

; An interrupt gate in the IDT: vector EDI, handler RAX (below 4 GiB).
set_gate:
    shl edi, 4
    add rdi, IDT
    mov [rdi], ax
    mov word [rdi + 2], 0x08
    mov word [rdi + 4], 0x8E00
    shr eax, 16
    mov [rdi + 6], ax
    ret

bits 32
; The compatibility-mode target: [ESP] EIP, [ESP+4] CS, both dwords.
compat_target:
    cmp dword [esp], after_compat_call
    jne .no
    cmp dword [esp + 4], 0x08
    jne .no
    mov al, 'K'
    out 0xE9, al
.no:
    retf
bits 64

align 8
resume:              dq finish
far_jump_pointer:    dq jump_target
                     dw 0x08
far_call_pointer:    dq call64_target
                     dw 0x08
compat_call_pointer: dd compat_target
                     dw 0x18
long_and_big_pointer: dd 0
                     dw 0x88
user_gate_pointer:   dd 0
                     dw 0x43
gate16_pointer:      dd 0
                     dw 0x63
bad_upper_pointer:   dd 0
                     dw 0x68
compat_gate_pointer: dd 0
                     dw 0x78
kernel_gate_pointer: dd 0
                     dw 0x50
tss_pointer:         dd 0
                     dw 0x30

; A label's address as a plain number (shifts need one).
%define ADDRESS(label) ((label) - $$ + 0x7C00)

; A 64-bit call gate (type 0xC): selector, offset, DPL, upper type.
%macro CALL_GATE 4
    dw (%2) & 0xFFFF
    dw %1
    db 0
    db 0x8C | ((%3) << 5)
    dw ((%2) >> 16) & 0xFFFF
    dd (%2) >> 32
    dd (%4) << 8
%endmacro

align 8
gdt:
    dq 0
    dq 0x00209A0000000000           ; 0x08 64-bit code, DPL 0
    dq 0x00CF92000000FFFF           ; 0x10 data, DPL 0
    dq 0x00CF9A000000FFFF           ; 0x18 32-bit code, DPL 0
    dq 0x0020FA0000000000           ; 0x20 64-bit code, DPL 3
    dq 0x00CFF2000000FFFF           ; 0x28 data, DPL 3
    ; 0x30 the 64-bit TSS (16 bytes)
    dw 0x67, TSS & 0xFFFF
    db (TSS >> 16) & 0xFF, 0x89, 0, 0
    dq 0
    CALL_GATE 0x08, HIGH + ADDRESS(gate_target), 3, 0        ; 0x40
    CALL_GATE 0x08, ADDRESS(kernel_gate_target), 0, 0        ; 0x50
    dw 0, 0x08, 0xE400, 0                           ; 0x60 a 16-bit call gate, DPL 3
    CALL_GATE 0x08, ADDRESS(gate_target), 0, 0x0C            ; 0x68 upper half type 0xC
    CALL_GATE 0x18, ADDRESS(compat_target), 0, 0             ; 0x78 to 32-bit code
    dq 0x00609A0000000000                           ; 0x88 code with L and D set
gdt_end:

gdt_pointer:
    dw gdt_end - gdt - 1
    dd gdt
idt_pointer:
    dw 32 * 16 - 1
    dq IDT

times 512 * (1 + SECTORS) - ($ - $$) db 0
