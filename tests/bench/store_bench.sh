#!/bin/sh
# make bench, the store's part (issue 3): write amplification, erase spread,
# mount time and index RAM, instructions per committed message.  Prints
# numbers; judges nothing (make test holds no timed assertions).
#   tests/bench/store_bench.sh BENCH_BINARY
set -eu
bench=$1
base=/tmp
[ -d /dev/shm ] && base=/dev/shm
dir=$(mktemp -d "$base/pb-store-bench.XXXXXX")
trap 'rm -rf "$dir"' EXIT INT TERM

echo "== store: write amplification (target <= 1.3)"
"$bench" wa "$dir" 4096
"$bench" wa "$dir" 65536
echo "== store: erase spread (target <= 1.5)"
"$bench" wear "$dir"
echo "== store: mount time of a full flash, index RAM"
"$bench" mount "$dir" $((64 << 20)) 4096
# 1 GiB as 64 KiB blocks: a chip that size erases in large blocks (and the
# store scans its block table at every block it opens).
"$bench" mount "$dir" $((1 << 30)) 65536
echo "== store: instructions per committed 4 KiB message"
if command -v valgrind >/dev/null 2>&1; then
    out="$dir/callgrind.out"
    valgrind --tool=callgrind --toggle-collect=bench_commit --callgrind-out-file="$out" \
        "$bench" commit "$dir" 1000 >/dev/null 2>"$dir/valgrind.log"
    total=$(sed -n 's/^summary: *//p' "$out" | head -1)
    echo "instructions per committed message: $((total / 1000)) (callgrind, bench_commit() inclusive, 1000 messages)"
else
    echo "instructions per committed message: skipped (valgrind is not installed)"
fi
