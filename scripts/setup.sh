#!/usr/bin/env bash
# Installs what PCEmu needs on Debian 12 (as root); defines build_release.
# Idempotent: packages already present are not fetched again.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

packages=(
    pkg-config libsdl2-dev libpulse-dev libslirp-dev  # the host side
    seabios                                            # bios-256k.bin, vgabios-stdvga.bin
    ovmf                                               # UEFI firmware: OVMF_CODE.fd and OVMF_VARS.fd for -drive if=pflash
    qemu-system-data                                   # linuxboot_dma.bin, the option ROM that boots -kernel
    nasm binutils gcc-multilib                         # firmware and test programs, the decoder's oracle
    qemu-utils qemu-system-x86 qemu-system-gui         # qemu-img, and the reference for behaviour and speed (-gui: its PulseAudio driver)
    bochs bochsbios bochs-sdl vgabios                  # a second reference for CPU behaviour QEMU does not model
    zlib1g-dev                                         # inflating compressed qcow2 clusters
    syslinux syslinux-common isolinux mtools dosfstools xorriso fdisk e2fsprogs  # bootable disk and CD images for guest tests
    xvfb x11-utils x11-apps xdotool pulseaudio pulseaudio-utils sox  # real display and sound servers for tests (xwd captures a window)
    edid-decode                                        # an independent check of the EDID the VGA shows
    gdb                                                # the debugger the gdb stub's tests drive
    openbox                                            # a window manager, for the full-screen test
    debootstrap                                        # the desktop guest image, from Debian's i386 packages
    cpio kmod apt-utils ca-certificates bc                # building the default guest from Debian's packages
    grub-rescue-pc ipxe memtest86+                     # ready-made guests: GRUB's rescue floppy and CD, iPXE, memtest86+
    python3-venv                                       # a venv for QEMU's QMP client library (below)
)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
    if [ "$(id -u)" != 0 ]; then
        echo "setup: these packages are missing; run as root to install them: ${missing[*]}" >&2
        exit 1
    fi
    echo "setup: installing ${missing[*]}"
    # A mirror that is mid-sync can fail one list; the install below says if that mattered.
    apt-get update -qq || true
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# QEMU's own QMP client (PyPI's qemu.qmp), which the QMP tests drive PCEmu
# with: in a venv inside the repository (.venv, git-ignored), so tests need no
# network and the system's Python is left alone.
if ! "$top/.venv/bin/python" -c "import qemu.qmp" 2>/dev/null; then
    echo "setup: installing qemu.qmp into .venv"
    python3 -m venv "$top/.venv" && "$top/.venv/bin/pip" install -q qemu.qmp ||
        { echo "setup: could not install qemu.qmp into .venv (pip needs the network once)" >&2; exit 1; }
fi

# Swift is not a Debian package: use the toolchain on PATH or the usual /opt/swift.
if ! command -v swift >/dev/null 2>&1; then
    [ -x /opt/swift/usr/bin/swift ] && export PATH="/opt/swift/usr/bin:$PATH"
fi
if ! command -v swift >/dev/null 2>&1; then
    echo "setup: PCEmu builds with Swift 6 (swift.org's toolchain for Debian 12); put 'swift' on PATH or in /opt/swift" >&2
    exit 1
fi

# Builds release; extra arguments go to swift build.
build_release() {
    echo "setup: building release"
    swift build -c release "$@" 2>&1 | grep -E "error:|Build complete|Compiling pcemu" || true
    test -x .build/release/pcemu || { echo "setup: the release build failed" >&2; return 1; }
}
