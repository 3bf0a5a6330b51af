/// What `pcemu -help` prints.
public enum HelpText {
    public static let version = "0.1.0"

    public static let versionLine = "PCEmu version \(version), a PC emulator (QEMU-compatible command line)"

    public static let usage = """
    usage: pcemu [options] [disk_image]

    PCEmu emulates an i440FX PC with a P6 class x86 CPU (-cpu). Options follow
    QEMU's spelling; an option whose part is not built yet is refused by name.

    Standard options:
      -h, -help, --help        print this help and exit
      -version                 print the version and exit
      -name NAME               name the guest (shown in the window title)
      -m SIZE                  guest RAM, in MiB or with a K/M/G suffix (default 128M)
      -smp 1                   number of CPUs (one for now)
      -cpu MODEL[,+FEATURE|-FEATURE|FEATURE=on|off...]
                               the CPU model CPUID declares (default qemu64;
                               -cpu help lists models and features)
      -machine pc, -M pc       the machine type (an i440FX PC)
      -machine pc,pcspk-audiodev=ID  the PC speaker plays through -audiodev ID
      -accel tcg[,backend=jit|interp][,tb-size=MiB]
                               translate guest code: to host code (jit, default)
                               or through the portable IR interpreter (interp)

    Firmware and boot:
      -bios FILE               the BIOS image (default: Debian's SeaBIOS bios-256k.bin)
      -pflash FILE             the next parallel flash unit: unit 0 is the firmware (ends at 4 GiB,
                               replaces -bios), unit 1 below it (UEFI variables); same as
                               -drive if=pflash,format=raw,file=FILE[,unit=N][,readonly=on]
      -kernel FILE             boot this Linux kernel directly (bzImage)
      -initrd FILE             with -kernel: the initial ram disk
      -append TEXT             with -kernel: the kernel command line
      -boot [order=]DRIVES[,once=DRIVES][,menu=on|off]
                               boot order: a (floppy), c (disk), d (CD-ROM), n (network)

    Disks:
      -hda/-hdb/-hdc/-hdd FILE IDE disk 0 to 3
      -cdrom FILE              the IDE CD-ROM (secondary master)
      -fda/-fdb FILE           floppy disk 0 and 1
      -drive file=FILE[,format=raw|qcow2][,if=ide|floppy|pflash][,index=N][,media=disk|cdrom][,readonly=on]
      -snapshot                keep every disk write in a temporary overlay

    Network:
      -nic user[,model=ne2k_pci|ne2k_isa|e1000][,hostfwd=tcp:ADDR:HOSTPORT-:GUESTPORT]
      -nic none                no network card
      -netdev user,id=ID[,hostfwd=...]
      -device ne2k_pci|e1000,netdev=ID   or   -device ne2k_isa,netdev=ID[,iobase=0x300][,irq=9]

    Sound:
      -audiodev pa,id=ID[,server=ADDRESS]  play through PulseAudio (its server, e.g. unix:PATH)
      -audiodev wav,id=ID,path=FILE
      -audiodev none,id=ID
      -device sb16[,audiodev=ID]   -device adlib[,audiodev=ID]
      -device AC97[,audiodev=ID]   Intel ICH AC'97 (PCI)
      -device intel-hda -device hda-duplex|hda-output[,audiodev=ID]   Intel HD Audio

    USB:
      -usb                     the PIIX3's UHCI controller (PCI 01.2)
      -device piix3-usb-uhci   a UHCI controller (one more, or the first)
      -device qemu-xhci[,id=ID]  an xHCI controller (4 USB 2 and 4 USB 3 ports)
      -device usb-tablet|usb-mouse|usb-kbd[,bus=ID.0]
                               a USB absolute pointer, mouse or keyboard on the
                               first free root port: of the xHCI controller ID,
                               else of the last xHCI controller, else of the
                               UHCI controllers (with no controller given,
                               -usb's is added)

    Display and consoles:
      -display sdl|none        a window (the default when there is a display) or none
      -nographic               no window; COM1 and the monitor share this terminal
                               (Ctrl-A c switches between them)
      -vga std|none            the standard VGA (the default) or no display adapter
      -device VGA[,xres=W][,yres=H][,edid=on|off][,mmio=on|off]
                               the standard VGA with its EDID's preferred mode (default 1280x800)
      -screendump FILE         write the screen to FILE (PNG if it ends in .png, else PPM) when pcemu exits
      -serial stdio|mon:stdio|file:PATH|null|none
                               where the next serial port goes (COM1, then COM2...);
                               mon:stdio shares the terminal with the monitor
      -S                       start with the guest stopped (the monitor's cont starts it)
      -gdb tcp::PORT|tcp:HOST:PORT|unix:PATH,server
                               gdb's remote protocol (target remote :PORT); tcp::PORT
                               listens on 127.0.0.1
      -s                       -gdb tcp::1234
      -monitor stdio|unix:PATH,server[,nowait]|tcp:HOST:PORT,server[,nowait]|none
                               the human monitor (QEMU's commands) on the terminal or a
                               socket; without nowait, the machine starts once a client
                               has connected. In the window, Ctrl+Alt+2 shows it and
                               Ctrl+Alt+1 the guest again
      -qmp unix:PATH,server[,nowait]|tcp:HOST:PORT,server[,nowait]|stdio
                               QMP, QEMU's JSON machine protocol (as qemu.qmp speaks it);
                               stdio only when no serial port uses the terminal
      -chardev socket,id=ID,path=PATH|host=H,port=P,server=on[,wait=off]
      -mon chardev=ID,mode=control|readline
                               QEMU's long spelling of -qmp (control) and -monitor (readline)
      -loadvm TAG              start from the snapshot TAG of the qcow2 disks (savevm takes them)
      -incoming file:PATH|exec:COMMAND
                               start from the machine state the monitor's migrate saved
      -debugcon stdio|file:PATH|null|none
                               the debug ports 0x402 (SeaBIOS's log) and 0xE9;
                               stdio writes to stderr, beside the serial console

    Behaviour and debugging:
      -no-reboot               exit instead of rebooting
      -d ITEM[,ITEM...]        log these categories (-d help lists them)
      -D FILE                  write the log to FILE instead of stderr

    With -serial stdio or -nographic, Ctrl-A x quits and Ctrl-A h lists the other keys
    (with -nographic, Ctrl-A c switches between COM1 and the monitor).
    """
}
