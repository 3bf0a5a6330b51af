#!/usr/bin/env bash
# Builds bootable guest media from Debian 12's i386 packages, without mounting
# anything: a raw disk (MBR with syslinux's boot code; partition 1 FAT16 with
# syslinux, the 686 kernel and an initramfs; partition 2 an ext4 root made by
# mke2fs -d with busybox and the kernel's modules) and an El Torito CD image
# (isolinux, the same kernel and initramfs). The initramfs loads the IDE, SCSI
# disk/CD and ext4 modules, mounts root= and switches to it; without root= it
# mounts the CD at /cdrom and gives a shell.
# Output: $DISK_IMAGE_DIR (default ./guest-cache/disk) with disk.img and cdrom.iso, and
# the kernel and initramfs they hold (vmlinuz, initrd.gz) for direct boots.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
out=${DISK_IMAGE_DIR:-$top/guest-cache/disk}
mkdir -p "$out"
out=$(cd "$out" && pwd)
if [ -s "$out/disk.img" ] && [ -s "$out/initrd.gz" ] && [ -s "$out/cdrom.iso" ] && [ "$out/cdrom.iso" -nt "$0" ]; then
    echo "disk images ready in $out"
    exit 0
fi
for tool in mkfs.fat syslinux mcopy sfdisk mke2fs xorriso depmod; do
    command -v "$tool" >/dev/null || { echo "build-disk-image: $tool is missing (run scripts/setup.sh as root)" >&2; exit 1; }
done
syslinux_bios=/usr/lib/syslinux/modules/bios
mbr=/usr/lib/syslinux/mbr/mbr.bin
isolinux=/usr/lib/ISOLINUX/isolinux.bin

work="$out/work"
rm -rf "$work"
mkdir -p "$work/lists/partial" "$work/debs" "$work/packages"
apt_opts=(-o APT::Architecture=i386 -o APT::Architectures=i386
          -o Dir::State::Lists="$work/lists" -o Dir::Cache::archives="$work/debs"
          -o Debug::NoLocking=1)
apt-get "${apt_opts[@]}" -qq update || echo "build-disk-image: some package lists failed; going on with the rest" >&2
kernel_pkg=$(apt-cache "${apt_opts[@]}" depends linux-image-686 | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
[ -n "$kernel_pkg" ] || { echo "build-disk-image: no linux-image-686 in Debian's i386 lists" >&2; exit 1; }
(cd "$work/debs" && apt-get "${apt_opts[@]}" -qq download "$kernel_pkg" busybox-static)
packages="$work/packages"
for deb in "$work"/debs/*.deb; do dpkg-deb -x "$deb" "$packages"; done
version=${kernel_pkg#linux-image-}
modules_src="$packages/lib/modules/$version"

# Copies the named modules (and nothing else) under $1/lib/modules/$version, with depmod's index.
install_modules() {
    local dest=$1; shift
    for name in "$@"; do
        find "$modules_src" \( -name "$name.ko*" -o -name "${name//-/_}.ko*" \) -printf '%P\n' | while read -r file; do
            mkdir -p "$dest/lib/modules/$version/$(dirname "$file")"
            cp "$modules_src/$file" "$dest/lib/modules/$version/$file"
        done
    done
    cp "$modules_src"/modules.order "$modules_src"/modules.builtin* "$dest/lib/modules/$version/" 2>/dev/null || true
    depmod -b "$dest" "$version"
}
storage_modules="ata_piix ata_generic libata scsi_mod scsi_common sd_mod sr_mod cdrom t10-pi crc-t10dif
                 crct10dif_generic crct10dif_common crc64-rocksoft crc64-rocksoft_generic crc64
                 ext4 jbd2 mbcache crc16 crc32c_generic libcrc32c isofs"

# The initramfs.
initramfs="$work/initramfs"
mkdir -p "$initramfs"/{bin,dev,proc,sys,newroot,cdrom,root,etc}
cp "$packages/bin/busybox" "$initramfs/bin/busybox"
install_modules "$initramfs" $storage_modules
cat > "$initramfs/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
echo /bin/modprobe > /proc/sys/kernel/modprobe
for module in ata_piix sd_mod sr_mod crc32c_generic ext4 isofs; do modprobe "$module"; done
root=$(sed -n 's/.*root=\([^ ]*\).*/\1/p' /proc/cmdline)
if [ -n "$root" ]; then
    tries=0
    while [ ! -b "$root" ] && [ $tries -lt 300 ]; do sleep 0.1; tries=$((tries + 1)); done
    if mount -t ext4 "$root" /newroot; then
        mount --move /dev /newroot/dev
        umount /sys /proc
        exec switch_root /newroot /sbin/init
    fi
    echo "initramfs: cannot mount $root; staying in the initramfs"
else
    tries=0
    while [ ! -b /dev/sr0 ] && [ $tries -lt 300 ]; do sleep 0.1; tries=$((tries + 1)); done
    mount -t iso9660 -o ro /dev/sr0 /cdrom || echo "initramfs: no CD in /dev/sr0"
fi
export PATH=/bin HOME=/root PS1='pcemu-cd:\w# '
echo "PCEmu CD guest: Linux $(uname -r), busybox shell from the initramfs."
cd /root
while true; do setsid cttyhack sh </dev/ttyS0 >/dev/ttyS0 2>&1 || sh; done
INIT
chmod +x "$initramfs/init"
(cd "$initramfs" && find . | cpio -o -H newc --quiet | gzip -9) > "$work/initrd.gz"
cp "$packages/boot/vmlinuz-$version" "$work/vmlinuz"

# The root file system: busybox, the modules, an init that gives a shell.
rootfs="$work/rootfs"
mkdir -p "$rootfs"/{bin,sbin,dev,proc,sys,tmp,root,etc,mnt}
cp "$packages/bin/busybox" "$rootfs/bin/busybox"
for applet in $("$rootfs/bin/busybox" --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$rootfs/bin/$applet"
done
install_modules "$rootfs" $storage_modules
cat > "$rootfs/sbin/init" <<'INIT'
#!/bin/busybox sh
export PATH=/bin:/sbin HOME=/root PS1='pcemu-disk:\w# '
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -o remount,rw /
hostname pcemu-disk
echo "PCEmu disk guest: Linux $(uname -r), root on $(awk '$2 == "/" {print $1}' /proc/mounts). 'sync; poweroff -f' ends it."
cd /root
while true; do setsid cttyhack sh </dev/ttyS0 >/dev/ttyS0 2>&1 || sh; done
INIT
chmod +x "$rootfs/sbin/init"
echo "pcemu-disk" > "$rootfs/etc/hostname"
root_mib=96
mke2fs -q -t ext4 -L pcemu-root -d "$rootfs" "$work/root.img" "${root_mib}M"

# The boot partition: FAT16 with syslinux (installed through mtools: no mount).
boot_mib=24
cat > "$work/syslinux.cfg" <<'CFG'
SERIAL 0 115200
DEFAULT linux
PROMPT 0
TIMEOUT 0
LABEL linux
  KERNEL /vmlinuz
  INITRD /initrd.gz
  APPEND console=ttyS0 root=/dev/sda2 quiet
CFG
rm -f "$work/boot.img"
mkfs.fat -F 16 -h 2048 -n PCEMUBOOT -C "$work/boot.img" $((boot_mib * 1024)) >/dev/null
syslinux --install "$work/boot.img"
mcopy -i "$work/boot.img" "$work/vmlinuz" "$work/initrd.gz" "$work/syslinux.cfg" ::/

# The disk: 1 MiB for the MBR, then the two partitions.
disk="$work/disk.img"
truncate -s $((1 + boot_mib + root_mib))M "$disk"
sfdisk -q "$disk" <<EOF
label: dos
start=2048, size=$((boot_mib * 2048)), type=6, bootable
start=$((2048 + boot_mib * 2048)), size=$((root_mib * 2048)), type=83
EOF
dd if="$mbr" of="$disk" bs=440 count=1 conv=notrunc status=none
dd if="$work/boot.img" of="$disk" bs=1M seek=1 conv=notrunc status=none
dd if="$work/root.img" of="$disk" bs=1M seek=$((1 + boot_mib)) conv=notrunc status=none

# The CD: isolinux, El Torito without emulation.
iso="$work/iso"
mkdir -p "$iso/isolinux"
cp "$isolinux" "$syslinux_bios/ldlinux.c32" "$iso/isolinux/"
cp "$work/vmlinuz" "$work/initrd.gz" "$iso/"
sed -e 's#/vmlinuz#/vmlinuz#' -e 's# root=/dev/sda2##' "$work/syslinux.cfg" > "$iso/isolinux/isolinux.cfg"
echo "PCEmu CD image: Linux $version" > "$iso/README.TXT"
xorriso -as mkisofs -quiet -o "$work/cdrom.iso" -V PCEMU_CD -b isolinux/isolinux.bin -c isolinux/boot.cat \
    -no-emul-boot -boot-load-size 4 -boot-info-table "$iso"

mv "$disk" "$out/disk.img"
mv "$work/vmlinuz" "$work/initrd.gz" "$out/"
mv "$work/cdrom.iso" "$out/cdrom.iso"
rm -rf "$work"
echo "disk images ready in $out (kernel $version)"
