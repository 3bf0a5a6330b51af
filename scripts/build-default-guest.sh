#!/usr/bin/env bash
# Builds the default guest from Debian 12's packages: the kernel and an
# initramfs with busybox, the kernel modules PCEmu's devices need, and an init
# that gives a shell on the serial console (and the screen).
# GUEST_ARCH=i386 (the default: the 686 kernel) or amd64 (the amd64 kernel,
# which runs the same i386 test programs in compatibility mode).
# Output: $GUEST_CACHE (default ./guest-cache) with vmlinuz and initrd.gz;
# for amd64 its amd64/ directory.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cache=${GUEST_CACHE:-$top/guest-cache}
arch=${GUEST_ARCH:-i386}
case "$arch" in
i386) kernel_meta=linux-image-686 ;;
amd64) kernel_meta=linux-image-amd64; cache=$cache/amd64 ;;
*) echo "build-default-guest: GUEST_ARCH is i386 or amd64, not $arch" >&2; exit 1 ;;
esac
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
programs="$top/Tests/GuestPrograms"
newest_input=$(ls -t "$0" "$programs"/*.c | head -n 1)
if [ -s "$cache/vmlinuz" ] && [ -s "$cache/initrd.gz" ] && [ "$cache/initrd.gz" -nt "$newest_input" ]; then
    echo "default guest ready in $cache"
    exit 0
fi

work="$cache/work"
rm -rf "$work"
mkdir -p "$work/lists/partial" "$work/debs" "$work/root"
# A private package list for the guest's architecture: the host's apt configuration is left alone.
apt_opts=(-o APT::Architecture="$arch" -o APT::Architectures="$arch"
          -o Dir::State::Lists="$work/lists" -o Dir::Cache::archives="$work/debs"
          -o Debug::NoLocking=1)
# A mirror that is mid-sync fails one index; the others are enough.
apt-get "${apt_opts[@]}" -qq update || echo "build-default-guest: some package lists failed; going on with the rest" >&2
kernel_pkg=$(apt-cache "${apt_opts[@]}" depends "$kernel_meta" | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
[ -n "$kernel_pkg" ] || { echo "build-default-guest: no $kernel_meta in Debian's $arch lists" >&2; exit 1; }
(cd "$work/debs" && apt-get "${apt_opts[@]}" -qq download "$kernel_pkg" busybox-static)

root="$work/root"
for deb in "$work"/debs/*.deb; do dpkg-deb -x "$deb" "$root"; done
version=${kernel_pkg#linux-image-}
cp "$root/boot/vmlinuz-$version" "$cache/vmlinuz"

# The initramfs: busybox, the modules the emulated PC's devices use, and init.
initramfs="$work/initramfs"
mkdir -p "$initramfs"/{bin,sbin,etc,proc,sys,dev,tmp,root,lib/modules}
cp "$root/bin/busybox" "$initramfs/bin/busybox"
modules_src="$root/lib/modules/$version"
modules_dst="$initramfs/lib/modules/$version"
mkdir -p "$modules_dst"
wanted="ne2k-pci ne 8390 8390p e1000 ata_piix ata_generic pata_acpi libata sd_mod sr_mod cdrom scsi_mod
        scsi_common ext4 ext2 mbcache jbd2 crc16 crc32c_generic libcrc32c isofs floppy
        snd-sb16 snd-sb16-dsp snd-sb16-csp snd-sb-common snd-opl3-lib snd-mpu401-uart snd-rawmidi snd-hwdep
        snd-pcm snd-timer snd snd-seq-device soundcore snd-pcm-oss snd-mixer-oss snd-isa-es1688
        snd-intel8x0 snd-ac97-codec ac97_bus snd-hda-intel snd-hda-codec-generic snd-hda-codec snd-hda-core
        snd-intel-dspcfg snd-intel-sdw-acpi
        pcspkr psmouse mousedev evdev i8042 serio serio_raw atkbd bochs drm drm_kms_helper
        drm_vram_helper drm_ttm_helper ttm drm_kms_helper i2c-core fb_sys_fops syscopyarea
        sysfillrect sysimgblt cfbfillrect cfbimgblt cfbcopyarea
        usb-common usbcore uhci-hcd ehci-hcd xhci-hcd xhci-pci usbhid hid hid-generic"
# sd_mod needs the T10 protection-information checksums.
wanted="$wanted t10-pi crc-t10dif crct10dif_generic crct10dif_common crc64-rocksoft crc64-rocksoft_generic crc64"
# What the wanted modules need, from the kernel's own dependency list.
depmod -b "$root" "$version"
closure=$(for name in $wanted; do modprobe -d "$root" -S "$version" --show-depends "$name" 2>/dev/null; done |
          awk '$1 == "insmod" {print $2}' | sort -u)
for file in $closure; do
    cp --parents "$file" "$work"
done
for name in $wanted; do
    find "$modules_src" \( -name "$name.ko*" -o -name "${name//-/_}.ko*" \) -exec cp --parents {} "$work" \; 2>/dev/null || true
done
if [ -d "$work$modules_src" ]; then cp -r "$work$modules_src"/. "$modules_dst"/; fi
cp "$modules_src"/modules.order "$modules_src"/modules.builtin* "$modules_dst"/ 2>/dev/null || true
# Debian compresses modules with xz; busybox's modprobe loads them as they are.
depmod -b "$initramfs" "$version"

# Test programs, built for i386 and run in the guest (their output is compared with the host's).
for source in "$programs"/*.c; do
    gcc -m32 -static -O2 -o "$initramfs/bin/$(basename "$source" .c)" "$source"
done

cat > "$initramfs/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null || mdev -s
mkdir -p /dev/pts && mount -t devpts devpts /dev/pts
hostname pcemu
export PATH=/bin:/sbin HOME=/root PS1='pcemu:\w# '
echo "PCEmu default guest: Linux $(uname -r), busybox shell. 'poweroff -f' ends the emulator."
console=$(sed -n 's/.*console=\(tty[A-Za-z0-9]*\).*/\1/p' /proc/cmdline | tail -n 1)
[ -n "$console" ] || console=tty0
cd /root
while true; do
    setsid cttyhack sh -l </dev/"$console" >/dev/"$console" 2>&1 || sh
done
INIT
chmod +x "$initramfs/init"
echo "export PS1='pcemu:\w# '" > "$initramfs/etc/profile"
(cd "$initramfs" && find . | cpio -o -H newc --quiet | gzip -9) > "$cache/initrd.gz"
rm -rf "$work"
echo "default guest ready in $cache (kernel $version)"
