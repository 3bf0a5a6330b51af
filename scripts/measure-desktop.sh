#!/usr/bin/env bash
# The desktop guest's figures, pcemu against qemu-system-i386 -accel tcg with the
# same image and devices, in one run:
# - seconds from start until the guest says "pcemu-desktop: X ready" on its serial port;
# - host CPU use (% of one core) over 10 s while the desktop sits idle, 20 s after that.
# pcemu shows its SDL window on a private Xvfb; QEMU runs with -display none.
# Given a number of runs (default 1) it alternates the two that many times and prints each pair,
# since one run on a shared host moves by a fifth either way.
# usage: scripts/measure-desktop.sh [runs]   (needs a release build; builds the image if missing)
#        PCEMU=path/to/pcemu scripts/measure-desktop.sh [runs]   (that binary)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
pcemu=${PCEMU:-$top/.build/release/pcemu}
"$top/scripts/build-desktop-image.sh" >/dev/null
image=${DESKTOP_IMAGE_DIR:-$top/guest-cache/desktop}/desktop.img

source "$top/scripts/private-xvfb.sh"

# CPU ticks (user + system) a process has used.
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# Prints "seconds-to-X idle-percent" for one emulator command line.
measure() {
    local log start pid end before after
    log=$(mktemp)
    start=$(date +%s.%N)
    "$@" -m 512 -hda "$image" -snapshot -serial stdio -device sb16,audiodev=a0 -audiodev none,id=a0 \
        < <(exec sleep 900 2>/dev/null) > "$log" 2>&1 &
    pid=$!
    while ! grep -q 'pcemu-desktop: X ready' "$log"; do
        if ! kill -0 "$pid" 2>/dev/null; then echo "failed failed"; rm -f "$log"; return; fi
        sleep 0.1
    done
    end=$(date +%s.%N)
    sleep 20
    before=$(ticks "$pid")
    sleep 10
    after=$(ticks "$pid")
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    rm -f "$log"
    echo "$(echo "$end - $start" | bc) $(echo "($after - $before) * 100 / $(getconf CLK_TCK) / 10" | bc -l)"
}

runs=${1:-1}
printf '%-5s %-22s %10s %10s %8s\n' run figure pcemu qemu ratio
for run in $(seq 1 "$runs"); do
    read -r ours_seconds ours_idle < <(DISPLAY="$xvfb_display" SDL_VIDEODRIVER=x11 measure "$pcemu")
    read -r their_seconds their_idle < <(measure qemu-system-i386 -accel tcg -display none)
    printf '%-5s %-22s %10.1f %10.1f %8.2f\n' "$run" "seconds to X desktop" "$ours_seconds" "$their_seconds" "$(echo "$ours_seconds / $their_seconds" | bc -l)"
    printf '%-5s %-22s %10.1f %10.1f\n' "$run" "idle CPU % of a core" "$ours_idle" "$their_idle"
done
