#!/usr/bin/env bash
# Builds the benchmark guest: the default guest's kernel and an initramfs with
# busybox and the workloads of Tests/Benchmark, whose init runs each phase and
# marks its start and end on the serial console ("@@ begin NAME", "@@ end NAME").
# GUEST_ARCH=i386 (default) or amd64, as for build-default-guest.sh.
# Output: $GUEST_CACHE/bench-initrd.gz (default ./guest-cache; for amd64 in its amd64/).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cache=${GUEST_CACHE:-$top/guest-cache}
GUEST_CACHE=$cache "$top/scripts/build-default-guest.sh" >/dev/null
word=-m32
if [ "${GUEST_ARCH:-i386}" = amd64 ]; then cache=$cache/amd64; word=-m64; fi
sources="$top/Tests/Benchmark"
output="$cache/bench-initrd.gz"
newest_input=$(ls -t "$0" "$sources"/* "$cache/initrd.gz" | head -n 1)
if [ -s "$output" ] && [ "$output" -nt "$newest_input" ]; then
    echo "benchmark guest ready in $output"
    exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root="$work/root"
mkdir -p "$root"/{bin,proc,sys,dev,tmp}
# busybox comes from the default guest's initramfs.
(cd "$work" && zcat "$cache/initrd.gz" | cpio -id --quiet bin/busybox && mv bin/busybox "$root/bin/busybox")
for source in "$sources"/*.c; do
    gcc "$word" -static -O2 -o "$root/bin/$(basename "$source" .c)" "$source" -lm
done
cp "$sources/init.sh" "$root/init"
chmod +x "$root/init"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -9) > "$output"
echo "benchmark guest ready in $output"
