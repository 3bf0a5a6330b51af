#!/usr/bin/env bash
# Sets everything up and runs the whole test suite, built in release mode
# (whole-machine tests run guests). Ends with one line: "tests: N passed, M failed".
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
source "$top/scripts/setup.sh" || exit 1
set +e
cd "$top"
# Testing is enabled in the release build so tests may reach internal state.
flags=(-c release -Xswiftc -enable-testing)
build_release "${flags[@]}" --build-tests || { echo "tests: 0 passed, 1 failed"; exit 1; }
log=$(mktemp /tmp/pcemu-tests.XXXXXX)
swift test "${flags[@]}" --skip-build --disable-swift-testing "$@" 2>&1 | tee "$log" | grep -vE "^Test (Case|Suite) '.*' (started|passed)" 
status=${PIPESTATUS[0]}
passed=$(grep -cE "^Test Case '.*' passed" "$log")
failed=$(grep -cE "^Test Case '.*' failed" "$log")
rm -f "$log"
echo "tests: $passed passed, $failed failed"
if [ "$status" != 0 ] || [ "$failed" != 0 ] || [ "$passed" = 0 ]; then exit 1; fi
