#!/usr/bin/env bash
# The guest-speed benchmark: boots the benchmark guest (scripts/build-bench-guest.sh)
# on pcemu and on qemu-system-i386 -accel tcg, one after the other in one run,
# times each phase from the host by when its markers reach the serial console,
# and prints a table of times and ratios (pcemu / QEMU; below 1 is faster).
# With several runs it ends with each phase's median ratio: on a shared host
# a single run's phase can be off by a third either way, for both emulators.
# With amd64 as the second argument the guest is the 64-bit one (Debian's
# amd64 kernel, workloads built with gcc -m64) and the reference
# qemu-system-x86_64 -accel tcg.
# usage: scripts/bench.sh [runs] [i386|amd64]   (builds pcemu in release mode first)
#        PCEMU=path/to/pcemu scripts/bench.sh [runs] [i386|amd64]   (that binary, no build)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cache=${GUEST_CACHE:-$top/guest-cache}
runs=${1:-1}
arch=${2:-i386}
case "$arch" in
# qemu64, PCEmu's default CPU (and qemu-system-x86_64's), given to both
# emulators so that they run the guest on one model.
i386) reference=qemu-system-i386; guest=$cache; cpu=(-cpu qemu64) ;;
amd64) reference=qemu-system-x86_64; guest=$cache/amd64; cpu=(-cpu qemu64) ;;
*) echo "usage: $0 [runs] [i386|amd64]" >&2; exit 1 ;;
esac
phases=(boot integer x87 sha256 fork-exec shell-loop)

pcemu=${PCEMU:-}
if [ -z "$pcemu" ]; then
    (cd "$top" && swift build -c release --product pcemu 2>&1 | grep -E "error:" >&2 || true)
    pcemu=$top/.build/release/pcemu
fi
guest_log=$(mktemp)
if ! GUEST_ARCH=$arch GUEST_CACHE=$cache "$top/scripts/build-bench-guest.sh" >"$guest_log" 2>&1; then
    cat "$guest_log" >&2
    exit 1
fi
rm -f "$guest_log"

# Runs one emulator on the benchmark guest; prints "phase seconds" lines.
# Each serial line is stamped on arrival; "boot" runs from start to "@@ ready".
run_guest() {
    local log
    log=$(mktemp)
    local start=$EPOCHREALTIME
    "$@" -m 256 -kernel "$guest/vmlinuz" -initrd "$guest/bench-initrd.gz" \
        -append "console=ttyS0 quiet" -nographic -no-reboot < <(exec sleep 900 2>/dev/null) 2>&1 |
        while IFS= read -r line; do
            line=${line%$'\r'}
            # SeaBIOS's serial console (-nographic) clears the screen as the kernel starts; its
            # escapes may share the first marker's line.
            [[ $line == *"@@ "* ]] && line="@@ ${line#*@@ }"
            printf '%s %s\n' "$EPOCHREALTIME" "$line"
        done > "$log"
    if ! grep -q '@@ done' "$log"; then
        echo "bench: $1 did not finish; its output:" >&2
        cut -d' ' -f2- "$log" | tail -n 20 >&2
        rm -f "$log"
        return 1
    fi
    awk -v start="$start" '
        $2 == "@@" && $3 == "ready" { printf "boot %.3f\n", $1 - start }
        $2 == "@@" && $3 == "begin" { began[$4] = $1 }
        $2 == "@@" && $3 == "end"   { printf "%s %.3f\n", $4, $1 - began[$4] }
        $2 != "@@" && NF > 1 && $1 ~ /^[0-9.]+$/ && /checksum|result|total|\/tmp\/data/ { sub(/^[^ ]+ /, ""); print "# " $0 }
    ' "$log"
    rm -f "$log"
}

value() { awk -v name="$1" '$1 == name { print $2 }' <<<"$2"; }

# The median of its arguments.
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

declare -A ratios

for run in $(seq "$runs"); do
    ours=$(run_guest "$pcemu" "${cpu[@]}")
    theirs=$(run_guest "$reference" -accel tcg "${cpu[@]}")
    if [ "$(grep '^#' <<<"$ours")" != "$(grep '^#' <<<"$theirs")" ]; then
        echo "bench: the workloads' results differ:" >&2
        paste <(grep '^#' <<<"$ours") <(grep '^#' <<<"$theirs") >&2
    fi
    echo "run $run, $arch guest (seconds; ratio = pcemu / $reference -accel tcg)"
    printf '%-12s %10s %10s %8s\n' phase pcemu qemu ratio
    product=1
    for phase in "${phases[@]}"; do
        a=$(value "$phase" "$ours")
        b=$(value "$phase" "$theirs")
        ratio=$(echo "$a / $b" | bc -l)
        product=$(echo "$product * $ratio" | bc -l)
        ratios[$phase]+="$ratio "
        printf '%-12s %10.2f %10.2f %8.2f\n' "$phase" "$a" "$b" "$ratio"
    done
    geomean=$(echo "e(l($product) / ${#phases[@]})" | bc -l)
    printf '%-12s %10s %10s %8.2f\n' geomean "" "" "$geomean"
done

if [ "$runs" -gt 1 ]; then
    echo "median of $runs runs, $arch guest (ratio = pcemu / $reference -accel tcg)"
    printf '%-12s %8s\n' phase ratio
    product=1
    for phase in "${phases[@]}"; do
        # shellcheck disable=SC2086  # the ratios are space-separated numbers
        middle=$(median ${ratios[$phase]})
        product=$(echo "$product * $middle" | bc -l)
        printf '%-12s %8.2f\n' "$phase" "$middle"
    done
    printf '%-12s %8.2f\n' geomean "$(echo "e(l($product) / ${#phases[@]})" | bc -l)"
fi
