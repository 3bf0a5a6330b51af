#!/usr/bin/env bash
# Builds a Debian 12 i386 desktop disk image from Debian's packages: debootstrap
# into a directory, then a raw disk made without mounting anything (MBR with
# syslinux's boot code; partition 1 FAT16 with syslinux, Debian's 686 kernel and
# its initramfs; partition 2 an ext4 root made by mke2fs -d).
# The guest logs root in on tty1, which starts X (modesetting on bochs-drm,
# 1024x768) with openbox and an xterm; its network is DHCP on the NE2000
# (systemd-networkd) and its sound the SB16 (snd-sb16, ALSA). When the desktop is
# up it writes "pcemu-desktop: X ready" to the serial port; root has a shell on
# the serial port too (no password).
# Output: $DESKTOP_IMAGE_DIR (default ./guest-cache/desktop) with desktop.img.
# Must run as root (debootstrap chroots). Takes a few minutes and ~250 MB of packages.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
out=${DESKTOP_IMAGE_DIR:-$top/guest-cache/desktop}
mkdir -p "$out"
out=$(cd "$out" && pwd)
if [ -s "$out/desktop.img" ] && [ "$out/desktop.img" -nt "$0" ]; then
    echo "desktop image ready in $out"
    exit 0
fi
[ "$(id -u)" = 0 ] || { echo "build-desktop-image: must run as root (debootstrap chroots)" >&2; exit 1; }
for tool in debootstrap mkfs.fat syslinux mcopy sfdisk mke2fs sox; do
    command -v "$tool" >/dev/null || { echo "build-desktop-image: $tool is missing (run scripts/setup.sh as root)" >&2; exit 1; }
done

# The Debian mirror this machine's apt uses.
mirror=$(sed -n 's/^URIs:[[:space:]]*\([^[:space:]]*\).*/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v security | head -n 1 || true)
[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
[ -n "$mirror" ] || { echo "build-desktop-image: no Debian mirror found in the apt sources" >&2; exit 1; }

work="$out/work"
root="$work/root"
# A failed earlier run may have left file systems mounted in the chroot.
for m in proc sys dev/pts dev; do umount -l "$root/$m" 2>/dev/null || true; done
rm -rf "$work"
mkdir -p "$work"

packages=(
    linux-image-686 systemd-sysv udev kmod
    xserver-xorg-core xserver-xorg-input-libinput xinit xfonts-base x11-xserver-utils
    openbox xterm xdotool x11-utils
    alsa-utils wget procps
)
echo "build-desktop-image: debootstrap bookworm i386 (${#packages[@]} packages and their dependencies)"
debootstrap --arch=i386 --variant=minbase --include="$(IFS=,; echo "${packages[*]}")" \
    bookworm "$root" "$mirror" > "$work/debootstrap.log" 2>&1 || {
    tail -n 30 "$work/debootstrap.log" >&2
    echo "build-desktop-image: debootstrap failed (log in $work/debootstrap.log)" >&2
    exit 1
}

# The system's configuration.
echo pcemu-desktop > "$root/etc/hostname"
cat > "$root/etc/hosts" <<'EOF'
127.0.0.1 localhost
127.0.1.1 pcemu-desktop
EOF
cat > "$root/etc/fstab" <<'EOF'
/dev/sda2 / ext4 defaults,errors=remount-ro 0 1
EOF
chroot "$root" passwd -d root >/dev/null
# DHCP on the NE2000.
mkdir -p "$root/etc/systemd/network"
cat > "$root/etc/systemd/network/20-wired.network" <<'EOF'
[Match]
Name=en* eth*

[Network]
DHCP=ipv4
EOF
chroot "$root" systemctl enable systemd-networkd.service >/dev/null 2>&1
# The SB16 is an ISA card: it has to be named to its driver.
echo "options snd-sb16 port=0x220 irq=5 dma8=1 dma16=5 isapnp=0" > "$root/etc/modprobe.d/sb16.conf"
echo snd-sb16 > "$root/etc/modules-load.d/sb16.conf"
# The PC speaker stays a beeper, not a second sound card.
echo "blacklist snd-pcsp" > "$root/etc/modprobe.d/no-pcsp.conf"
# Root logs in on tty1 by itself, and tty1's login starts X.
mkdir -p "$root/etc/systemd/system/getty@tty1.service.d"
cat > "$root/etc/systemd/system/getty@tty1.service.d/autologin.conf" <<'EOF'
[Service]
ExecStart=
ExecStart=-/sbin/agetty --autologin root --noclear %I $TERM
EOF
cat > "$root/root/.bash_profile" <<'EOF'
[ -f ~/.bashrc ] && . ~/.bashrc
if [ "$(tty)" = /dev/tty1 ] && [ -z "$DISPLAY" ]; then
    # X needs the display's DRM device.
    for i in $(seq 120); do [ -e /dev/dri/card0 ] && break; sleep 0.5; done
    exec startx -- -nolisten tcp
fi
EOF
cat > "$root/root/.xinitrc" <<'EOF'
xsetroot -solid '#3a6ea5'
xterm -geometry 80x24+40+40 -title pcemu-xterm &
# The terminal is mapped before the window manager starts, which adopts it.
terminal=$(xdotool search --sync --onlyvisible --name pcemu-xterm | head -n 1)
(
    # The desktop is ready once the window manager has given the terminal the focus.
    until xdotool windowactivate --sync "$terminal" 2>/dev/null; do sleep 0.5; done
    echo "pcemu-desktop: X ready $(xdpyinfo | awk '/dimensions:/ {print $2}')" > /dev/ttyS0
) &
exec openbox
EOF
# Software rendering only: there is no GPU behind bochs-drm.
mkdir -p "$root/etc/X11/xorg.conf.d"
cat > "$root/etc/X11/xorg.conf.d/10-pcemu.conf" <<'EOF'
Section "Device"
    Identifier "bochs-drm"
    Driver "modesetting"
    Option "AccelMethod" "none"
EndSection
EOF
# A sound file to play: 3 s of a 1 kHz sine.
sox -n -r 44100 -c 2 -b 16 "$root/root/tone.wav" synth 3 sine 1000 vol 0.5
# Just the modules the boot needs in the initramfs, and the display's DRM
# driver, so that the console and X have it from the start.
sed -i 's/^MODULES=.*/MODULES=list/' "$root/etc/initramfs-tools/initramfs.conf"
printf '%s\n' ata_piix sd_mod ext4 bochs > "$root/etc/initramfs-tools/modules"
chroot "$root" update-initramfs -u -k all >/dev/null 2>&1
chroot "$root" apt-get clean
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/log/*.log "$root"/var/cache/debconf/*-old

kernel=$(cd "$root/boot" && ls vmlinuz-* | sort -V | tail -n 1)
version=${kernel#vmlinuz-}

# The root file system.
root_mib=2048
mke2fs -q -t ext4 -L pcemu-desktop -d "$root" "$work/root.img" "${root_mib}M"

# The boot partition: FAT16 with syslinux (installed through mtools: no mount).
boot_mib=64
cat > "$work/syslinux.cfg" <<'CFG'
SERIAL 0 115200
DEFAULT debian
PROMPT 0
TIMEOUT 0
LABEL debian
  KERNEL /vmlinuz
  INITRD /initrd.img
  APPEND root=/dev/sda2 ro console=ttyS0 console=tty0 quiet
CFG
mkfs.fat -F 16 -h 2048 -n PCEMUBOOT -C "$work/boot.img" $((boot_mib * 1024)) >/dev/null
syslinux --install "$work/boot.img"
cp "$root/boot/vmlinuz-$version" "$work/vmlinuz"
cp "$root/boot/initrd.img-$version" "$work/initrd.img"
mcopy -i "$work/boot.img" "$work/vmlinuz" "$work/initrd.img" "$work/syslinux.cfg" ::/

# The disk: 1 MiB for the MBR, then the two partitions.
disk="$work/desktop.img"
truncate -s $((1 + boot_mib + root_mib))M "$disk"
sfdisk -q "$disk" <<EOF
label: dos
start=2048, size=$((boot_mib * 2048)), type=6, bootable
start=$((2048 + boot_mib * 2048)), size=$((root_mib * 2048)), type=83
EOF
dd if=/usr/lib/syslinux/mbr/mbr.bin of="$disk" bs=440 count=1 conv=notrunc,sparse status=none
dd if="$work/boot.img" of="$disk" bs=1M seek=1 conv=notrunc,sparse status=none
dd if="$work/root.img" of="$disk" bs=1M seek=$((1 + boot_mib)) conv=notrunc,sparse status=none

mv "$disk" "$out/desktop.img"
rm -rf "$work"
echo "desktop image ready in $out (Debian 12 i386, kernel $version)"
