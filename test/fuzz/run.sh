#!/bin/sh
# Builds and runs the libFuzzer target test/fuzz/fuzz_api.c (`make fuzz`,
# `make fuzz-quick`).
#
# A --with-jemalloc-prefix=je_ copy of the library is built with clang in
# a temporary directory (the repository's own build is not touched), with
# -fsanitize=fuzzer-no-link,address so libFuzzer sees coverage inside the
# allocator; the prefixed library leaves libc's malloc to ASan.  The
# fuzzer binary, new corpus entries and crash artifacts go to build/fuzz/
# (the committed seeds in test/fuzz/corpus/ are only read).
#
# Usage: sh test/fuzz/run.sh [SECONDS]   (default $FUZZ_SECONDS or 60)
# Environment: FUZZ_CC (clang), FUZZ_JOBS (make -j, 2), FUZZ_ARGS (extra
# libFuzzer flags).  Exit status non-zero when the fuzzer finds a crash.
set -u
cd "$(dirname "$0")/../.."
top=$(pwd)
secs=${1:-${FUZZ_SECONDS:-60}}
cc=${FUZZ_CC:-clang}
out=$top/build/fuzz
mkdir -p "$out/corpus"

work=$(mktemp -d "${TMPDIR:-/tmp}/jefuzz.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
trap 'exit 1' INT TERM HUP

echo "fuzz: building a prefixed library with $cc in $work"
tar --exclude=./build --exclude=./lib --exclude=./config.mk -cf - . |
    tar -C "$work" -xf -
flags="-g -O1 -fsanitize=fuzzer-no-link,address -fno-omit-frame-pointer"
if ! ( cd "$work" &&
    CC=$cc CFLAGS=$flags LDFLAGS=-fsanitize=address \
    ./configure --with-jemalloc-prefix=je_ >/dev/null &&
    make -j"${FUZZ_JOBS:-2}" lib/libjemalloc.a ) > "$out/build.log" 2>&1; then
	tail -n 40 "$out/build.log"
	echo "fuzz: library build failed"
	exit 1
fi
if ! $cc -g -O1 -fsanitize=fuzzer,address -fno-omit-frame-pointer \
    -I"$work/include" -o "$out/fuzz_api" test/fuzz/fuzz_api.c \
    "$work/lib/libjemalloc.a" -pthread -ldl; then
	echo "fuzz: fuzzer build failed"
	exit 1
fi

echo "fuzz: running $out/fuzz_api for ${secs}s"
# -rss_limit_mb: the target keeps at most 64 MiB live, ASan's own heap is
# small; 2 GiB leaves room for the library's retained virtual memory.
# muzzy_decay_ms:0 purges with MADV_DONTNEED instead of leaving MADV_FREE'd
# pages counted in RSS: without it the run hit libFuzzer's RSS limit
# (2 GiB) after ~30k inputs of up to 64 MiB each.
JE_MALLOC_CONF=${JE_MALLOC_CONF:-dirty_decay_ms:1000,muzzy_decay_ms:0} \
"$out/fuzz_api" -max_total_time="$secs" -print_final_stats=1 \
    -rss_limit_mb=2048 -max_len=4096 -artifact_prefix="$out/" \
    ${FUZZ_ARGS:-} "$out/corpus" test/fuzz/corpus 2>&1 |
    tee "$out/fuzz.log" | grep -v -E '^#[0-9]+.*(NEW|REDUCE)'
rc=$(grep -c -E '^(==[0-9]+==ERROR|SUMMARY:|fuzz_api: check failed)' "$out/fuzz.log")
execs=$(grep -E '^stat::number_of_executed_units' "$out/fuzz.log" | awk '{print $2}')
echo "fuzz: ${execs:-0} executions in ${secs}s ($(( ${execs:-0} / (secs > 0 ? secs : 1) ))/s)"
if [ "$rc" -ne 0 ] || grep -q -E '^(==[0-9]+== *ERROR|Test unit written)' "$out/fuzz.log"; then
	echo "fuzz: FAILED (crash input and log under $out/)"
	exit 1
fi
echo "fuzz: no crash"
