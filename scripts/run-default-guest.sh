#!/usr/bin/env bash
# Sets everything up, builds the default guest (Debian 12's i386 kernel with a
# busybox initramfs) and runs it on this terminal's serial console (Ctrl-A x
# quits). Extra arguments go to pcemu.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
source "$top/scripts/setup.sh"
build_release --product pcemu
"$top/scripts/build-default-guest.sh"
guest=${GUEST_CACHE:-$top/guest-cache}
# The guest's console is the serial port on this terminal until PCEmu has
# VGA to show in a window.
display=(-nographic)
exec "$top/.build/release/pcemu" -name "PCEmu default guest" -m 256 \
    -kernel "$guest/vmlinuz" -initrd "$guest/initrd.gz" -append "console=ttyS0 console=tty0" \
    "${display[@]}" "$@"
