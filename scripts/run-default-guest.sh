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
# The guest's shell goes to its last console= (the init reads the command
# line): the VGA console in a window when there is an X display, otherwise
# the serial port on this terminal. Kernel messages go to both.
if [ -n "${DISPLAY:-}" ]; then
    display=(-serial stdio)
    consoles="console=ttyS0 console=tty0"
else
    display=(-nographic)
    consoles="console=tty0 console=ttyS0"
fi
exec "$top/.build/release/pcemu" -name "PCEmu default guest" -m 256 \
    -kernel "$guest/vmlinuz" -initrd "$guest/initrd.gz" -append "$consoles" \
    "${display[@]}" "$@"
