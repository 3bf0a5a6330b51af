#!/usr/bin/env bash
# Host CPU use (% of one core) of pcemu and of qemu-system-i386 -accel tcg
# while the default guest sits idle at its shell prompt, one after the
# other: the guest's console on tty0, pcemu's SDL window (and QEMU's own)
# on a private Xvfb; measured over SECONDS (default 60) from 15 s after the
# kernel starts init, as the run time the kernel counts for all their threads.
# usage: scripts/measure-idle.sh [seconds]   (needs a release build)
#        PCEMU=path/to/pcemu scripts/measure-idle.sh
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-60}
pcemu=${PCEMU:-$top/.build/release/pcemu}
guest=${GUEST_CACHE:-$top/guest-cache}
"$top/scripts/build-default-guest.sh" >/dev/null

source "$top/scripts/private-xvfb.sh"

# Nanoseconds all of a process's threads have run.
runtime() { cat /proc/"$1"/task/*/schedstat | awk '{ sum += $1 } END { printf "%.0f", sum }'; }

# Prints the idle CPU use of one emulator command line.
measure() {
    local log pid before after
    log=$(mktemp)
    DISPLAY="$xvfb_display" "$@" -m 256 -kernel "$guest/vmlinuz" -initrd "$guest/initrd.gz" \
        -append "console=ttyS0 console=tty0" -serial stdio < <(exec sleep 900 2>/dev/null) > "$log" 2>&1 &
    pid=$!
    while ! grep -q 'Run /init' "$log"; do
        if ! kill -0 "$pid" 2>/dev/null; then echo "failed"; rm -f "$log"; return; fi
        sleep 0.2
    done
    sleep 15
    before=$(runtime "$pid")
    sleep "$seconds"
    after=$(runtime "$pid")
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    rm -f "$log"
    awk -v ns=$((after - before)) -v s="$seconds" 'BEGIN { printf "%.2f\n", ns / 1e9 / s * 100 }'
}

ours=$(SDL_VIDEODRIVER=x11 measure "$pcemu")
theirs=$(measure qemu-system-i386 -accel tcg)
echo "idle at the default guest's prompt, % of one core over $seconds s: pcemu $ours, qemu-system-i386 -accel tcg $theirs"
