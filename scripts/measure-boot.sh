#!/usr/bin/env bash
# Seconds from start to the default guest's shell prompt, pcemu against
# qemu-system-i386 -accel tcg, same kernel, initrd and command line, in one run.
# usage: scripts/measure-boot.sh [runs]   (needs a release build and the default guest)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
guest=${GUEST_CACHE:-$top/guest-cache}
runs=${1:-3}
"$top/scripts/build-default-guest.sh" >/dev/null

# Prints the seconds until the prompt appears on the emulator's serial output.
time_to_prompt() {
    local log
    log=$(mktemp)
    local start
    start=$(date +%s.%N)
    "$@" -m 256 -kernel "$guest/vmlinuz" -initrd "$guest/initrd.gz" -append "console=ttyS0 quiet" \
        -nographic -no-reboot < <(sleep 600) > "$log" 2>&1 &
    local pid=$!
    while ! grep -q 'pcemu:/root# ' "$log"; do
        if ! kill -0 "$pid" 2>/dev/null; then echo "failed"; rm -f "$log"; return; fi
        sleep 0.05
    done
    local end
    end=$(date +%s.%N)
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    rm -f "$log"
    echo "$end - $start" | bc
}

printf '%-6s %12s %12s %8s\n' run pcemu qemu ratio
for run in $(seq "$runs"); do
    ours=$(time_to_prompt "$top/.build/release/pcemu")
    theirs=$(time_to_prompt qemu-system-i386 -accel tcg)
    printf '%-6s %12.2f %12.2f %8.2f\n' "$run" "$ours" "$theirs" "$(echo "$ours / $theirs" | bc -l)"
done
