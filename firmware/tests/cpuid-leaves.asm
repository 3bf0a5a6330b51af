; The CPUID a guest sees, for the -cpu model tests. For each leaf below that
; the CPU declares (basic leaves up to CPUID 0's EAX, extended ones up to
; CPUID 0x80000000's EAX) writes one line to port 0xE9:
;   LLLLLLLL EAX EBX ECX EDX     (hexadecimal, subleaf 0)
; then "E". Real mode throughout: CPUID needs nothing else.
bits 16
org 0x7C00

%include "boot-sector.inc"

start:
    REAL_MODE_START
    xor eax, eax
    cpuid
    mov [basic_top], eax
    mov eax, 0x80000000
    cpuid
    mov [extended_top], eax
    mov si, leaves
.next:
    mov eax, [si]
    add si, 4
    cmp eax, 0xFFFFFFFF
    je .done
    cmp eax, 0x80000000
    jae .extended
    cmp eax, [basic_top]
    ja .next
    jmp .show
.extended:
    cmp eax, [extended_top]
    ja .next
.show:
    mov ebp, eax
    call hex32
    xor ecx, ecx
    mov eax, ebp
    cpuid
    push edx
    push ecx
    push ebx
    call space_hex32
    pop eax
    call space_hex32
    pop eax
    call space_hex32
    pop eax
    call space_hex32
    mov al, 10
    out 0xE9, al
    jmp .next
.done:
    mov al, 'E'
    out 0xE9, al
    FINISH

; Writes " " then EAX in hexadecimal.
space_hex32:
    push eax
    mov al, ' '
    out 0xE9, al
    pop eax
; Writes EAX as eight hexadecimal digits.
hex32:
    mov cx, 8
.digit:
    rol eax, 4
    push eax
    and al, 0x0F
    add al, '0'
    cmp al, '9'
    jbe .out
    add al, 'A' - '0' - 10
.out:
    out 0xE9, al
    pop eax
    loop .digit
    ret

align 4
basic_top: dd 0
extended_top: dd 0
; Leaf 1's EBX bits 31-24 (the APIC ID) are 0 on one CPU.
leaves: dd 0, 1, 0x80000000, 0x80000001, 0x80000008, 0xFFFFFFFF

times 510 - ($ - $$) db 0
dw 0xAA55
