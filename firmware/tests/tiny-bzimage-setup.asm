; The real-mode part of a tiny Linux bzImage for whole-machine tests: a boot
; sector and one setup sector carrying the boot protocol 2.15 header, whose
; setup code does what a kernel's does at its end: A20 on, a flat GDT,
; protected mode, then a jump to the protected-mode part at code32_start
; (0x100000). Tests append that part (a few instructions of 32-bit code).
;
; A loader (QEMU's linuxboot ROM) copies these two sectors anywhere below
; 640 KiB and enters at setup segment + 0x20, offset 0, with DS = the setup
; segment; addresses below are offsets from the boot sector, so DS reaches
; them and the linear ones are computed from DS.
;
; nasm -f bin -o tiny-bzimage-setup.bin tiny-bzimage-setup.asm

        bits 16
        org 0

        times 0x1F1 - ($ - $$) db 0
        db 1                    ; 0x1F1 setup_sects
        dw 0                    ; 0x1F2 root_flags
        dd 0                    ; 0x1F4 syssize
        dw 0                    ; 0x1F8 ram_size
        dw 0xFFFF               ; 0x1FA vid_mode: normal
        dw 0                    ; 0x1FC root_dev
        dw 0xAA55               ; 0x1FE boot_flag

; 0x200: the entry, a short jump over the header (its displacement also says where the header ends).
        jmp short setup_code
        db "HdrS"               ; 0x202 header
        dw 0x020F               ; 0x206 version 2.15
        dd 0                    ; 0x208 realmode_swtch
        dw 0                    ; 0x20C start_sys_seg
        dw 0                    ; 0x20E kernel_version
        db 0                    ; 0x210 type_of_loader
        db 0x01                 ; 0x211 loadflags: LOADED_HIGH
        dw 0                    ; 0x212 setup_move_size
        dd 0x100000             ; 0x214 code32_start
        dd 0                    ; 0x218 ramdisk_image
        dd 0                    ; 0x21C ramdisk_size
        dd 0                    ; 0x220 bootsect_kludge
        dw 0                    ; 0x224 heap_end_ptr
        db 0, 0                 ; 0x226 ext_loader_ver, ext_loader_type
        dd 0                    ; 0x228 cmd_line_ptr
        dd 0x37FFFFFF           ; 0x22C initrd_addr_max
        dd 0                    ; 0x230 kernel_alignment
        db 0, 0                 ; 0x234 relocatable_kernel, min_alignment
        dw 0                    ; 0x236 xloadflags
        dd 2047                 ; 0x238 cmdline_size
        dd 0                    ; 0x23C hardware_subarch
        dq 0                    ; 0x240 hardware_subarch_data
        dd 0, 0                 ; 0x248 payload_offset, payload_length
        dq 0                    ; 0x250 setup_data
        dq 0                    ; 0x258 pref_address
        dd 0x10000              ; 0x260 init_size
        dd 0                    ; 0x264 handover_offset

setup_code:
        cli
        in al, 0x92             ; A20 through port 0x92
        or al, 0x02
        and al, 0xFE            ; (bit 0 would reset the machine)
        out 0x92, al

        xor ebx, ebx            ; EBX = the setup's linear base
        mov bx, ds
        shl ebx, 4
        lea eax, [ebx + gdt]
        mov [gdt_pointer + 2], eax
        lea eax, [ebx + protected]
        mov [entry_pointer], eax
        lgdt [gdt_pointer]
        mov eax, cr0
        or al, 1
        mov cr0, eax
        jmp dword far [entry_pointer]

        bits 32
protected:
        mov ax, 0x18
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov fs, ax
        mov gs, ax
        mov esp, 0x90000
        mov eax, 0x100000
        jmp eax

        align 8
gdt:    dq 0, 0
        dq 0x00CF9A000000FFFF   ; 0x10: flat 4 GiB code
        dq 0x00CF92000000FFFF   ; 0x18: flat 4 GiB data
gdt_pointer:
        dw 4 * 8 - 1
        dd 0                    ; the GDT's linear address, filled in
entry_pointer:
        dd 0                    ; the linear address of `protected`, filled in
        dw 0x10

        times 1024 - ($ - $$) db 0
