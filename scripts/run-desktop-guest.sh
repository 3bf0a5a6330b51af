#!/usr/bin/env bash
# Sets everything up, builds the Debian 12 i386 desktop image (first time only;
# see docs/guests.md) and boots it in a window: X with openbox and an xterm,
# sound from the SB16 through PulseAudio, the network on the NE2000 through
# user-mode networking, and a USB tablet, so the pointer needs no grab. The serial port is on this terminal (root logs in
# without a password). Changes to the disk are kept; pass -snapshot to
# discard them. Extra arguments go to pcemu.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
source "$top/scripts/setup.sh"
build_release --product pcemu
"$top/scripts/build-desktop-image.sh"
image=${DESKTOP_IMAGE_DIR:-$top/guest-cache/desktop}/desktop.img
exec "$top/.build/release/pcemu" -name "Debian desktop" -m 512 -hda "$image" \
    -device intel-hda -device hda-duplex \
    -device sb16 -usb -device usb-tablet -serial stdio "$@"
