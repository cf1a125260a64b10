#!/bin/sh
# bin/jeprof-report on a real heap profile: a program with two known
# allocation sites (site_a keeps 60 MiB in 4 KiB blocks, site_b 20 MiB in
# 128 KiB blocks) runs with the library preloaded and
# MALLOC_CONF=prof:true,prof_final:true,..., which writes
# $tmp/p.<pid>.0.f.heap at exit.  The report must list site_a and site_b
# as the top two sites, each within 10% of its size after unsampling, and
# the --svg flame graph must be well-formed XML that names site_a.
#
# Skipped unless the library was configured with --enable-prof (configure
# then writes "#define JEMALLOC_PROF" to jemalloc_internal_defs.h), for a
# prefixed build (which does not replace malloc), or without python3 or a
# C compiler.  JEPROF_REPORT_LIB=/path/to/libjemalloc.so.2 runs the test
# against that library instead, whatever the configuration (for example
# a distribution's jemalloc, which has profiling built in).
#
# Environment: JEMALLOC_SO, JE_PREFIX, CC, TOP, JEPROF_REPORT_LIB.

name=programs/jeprof_report
top=${TOP:-.}
cc=${CC:-cc}
failed=0

pass() { echo "pass: $name/$1"; }
fail() { echo "fail: $name/$1"; shift; [ $# -gt 0 ] && echo "$name: $*" >&2; failed=1; }
skip() { echo "skip: $name/$1"; shift; echo "$name: skipped: $*" >&2; }

all="dump sites svg jeprof"
skip_all() {
	for c in $all; do skip "$c" "$1"; done
	exit 0
}

report=$top/bin/jeprof-report
defs=$top/include/jemalloc/internal/jemalloc_internal_defs.h
if [ -n "${JEPROF_REPORT_LIB:-}" ]; then
	so=$JEPROF_REPORT_LIB
else
	so=${JEMALLOC_SO:-}
	if [ ! -f "$defs" ] ||
	    ! grep -Eq '^[[:space:]]*#[[:space:]]*define[[:space:]]+JEMALLOC_PROF([[:space:]]|$)' "$defs"; then
		skip_all "the library was not configured with --enable-prof (no JEMALLOC_PROF in $defs)"
	fi
	if [ -n "${JE_PREFIX:-}" ]; then
		skip_all "prefixed build ($JE_PREFIX) does not replace malloc"
	fi
fi
command -v python3 >/dev/null 2>&1 || skip_all "python3 not found"
command -v "$cc" >/dev/null 2>&1 || skip_all "compiler '$cc' not found"
if [ ! -f "$report" ]; then
	fail dump "$report is missing"
	exit 1
fi
if [ -z "$so" ] || [ ! -f "$so" ]; then
	fail dump "the library ('$so') is not a file"
	exit 1
fi
case $so in
/*) ;;
*) so=$(pwd)/$so ;;
esac

tmp=$(mktemp -d "${TMPDIR:-/tmp}/jeprofrep.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM HUP

TO=""
command -v timeout >/dev/null 2>&1 && TO="timeout 120"

cat > "$tmp/prog.c" <<'EOF'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Sizes that are exact size classes, so usable size == requested size. */
#define A_SIZE 4096
#define A_COUNT (60 * 1024 * 1024 / A_SIZE)
#define B_SIZE (128 * 1024)
#define B_COUNT (20 * 1024 * 1024 / B_SIZE)

/* Kept live until exit, when prof_final writes the profile. */
void *keep_a[A_COUNT];
void *keep_b[B_COUNT];

__attribute__((noinline)) void
site_a(void) {
	for (int i = 0; i < A_COUNT; i++) {
		keep_a[i] = malloc(A_SIZE);
		if (keep_a[i] == NULL)
			exit(3);
		memset(keep_a[i], 0xa5, 64);
	}
}

__attribute__((noinline)) void
site_b(void) {
	for (int i = 0; i < B_COUNT; i++) {
		keep_b[i] = malloc(B_SIZE);
		if (keep_b[i] == NULL)
			exit(4);
		memset(keep_b[i], 0x5a, 64);
	}
}

int
main(void) {
	site_a();
	site_b();
	/* The pid names the dump (timeout(1) may write one too). */
	printf("done %ld\n", (long)getpid());
	return 0;
}
EOF
if ! env -u LD_PRELOAD "$cc" -O1 -g -fno-omit-frame-pointer -fno-inline \
    -o "$tmp/prog" "$tmp/prog.c" > "$tmp/cc.err" 2>&1; then
	skip_all "'$cc' cannot build the test program: $(head -c 300 "$tmp/cc.err")"
fi

# --- dump: the profile is written at exit ---------------------------------
# lg_prof_sample:14 (one sample per 16 KiB on average) keeps the sampling
# error of the estimates to a few percent.
conf="prof:true,prof_final:true,prof_prefix:$tmp/p,lg_prof_sample:14"
LD_PRELOAD="$so" MALLOC_CONF="$conf" $TO "$tmp/prog" > "$tmp/prog.out" 2> "$tmp/prog.err"
rc=$?
pid=$(sed -n 's/^done \([0-9][0-9]*\)$/\1/p' "$tmp/prog.out")
dump=""
for f in "$tmp/p.$pid".*.f.heap; do
	[ -n "$pid" ] && [ -f "$f" ] && { dump=$f; break; }
done
if [ $rc -ne 0 ]; then
	fail dump "the preloaded program failed (status $rc): $(tail -c 500 "$tmp/prog.err")"
	exit 1
elif ! grep -q '^done ' "$tmp/prog.out"; then
	fail dump "unexpected program output: $(head -c 200 "$tmp/prog.out")"
	exit 1
elif [ -z "$dump" ]; then
	fail dump "no $tmp/p.$pid.0.f.heap written at exit: $(cd "$tmp" && echo *) $(head -c 300 "$tmp/prog.err")"
	exit 1
elif ! head -n 1 "$dump" | grep -Eq '^heap_v2/[0-9]+$'; then
	fail dump "the dump does not start with heap_v2/<period>: $(head -n 1 "$dump" | head -c 100)"
	exit 1
else
	pass dump
fi

# --- sites: site_a and site_b are the top two, sizes within 10% --------------
if ! $TO python3 "$report" --top 5 --svg "$tmp/flame.svg" "$dump" \
    > "$tmp/report.txt" 2> "$tmp/report.err"; then
	fail sites "jeprof-report failed: $(tail -c 500 "$tmp/report.err")"
	fail svg "no flame graph"
	exit 1
fi
# Table rows: rank bytes <n> <unit> share cumul objects function [(file:line)]
awk '$1 ~ /^[0-9]+$/ && $2 ~ /^[0-9]+$/ && NF >= 8 { print $1, $2, $8 }' \
    "$tmp/report.txt" > "$tmp/rows"
check=$(awk '
	function within(v, want) { return v >= want * 0.9 && v <= want * 1.1 }
	$1 == 1 { f1 = $3; b1 = $2 }
	$1 == 2 { f2 = $3; b2 = $2 }
	END {
		mib = 1024 * 1024
		if (f1 != "site_a" || f2 != "site_b")
			print "top two sites are \"" f1 "\", \"" f2 "\", not site_a, site_b"
		else if (!within(b1, 60 * mib))
			print "site_a: " b1 " bytes, not within 10% of 60 MiB"
		else if (!within(b2, 20 * mib))
			print "site_b: " b2 " bytes, not within 10% of 20 MiB"
		else
			print "ok"
	}' "$tmp/rows")
if [ "$check" = ok ]; then
	pass sites
else
	fail sites "$check; report: $(head -c 1500 "$tmp/report.txt")"
fi

# --- svg: a well-formed flame graph that names site_a -------------------------
if [ ! -s "$tmp/flame.svg" ]; then
	fail svg "no flame graph written"
elif ! python3 -c 'import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])' \
    "$tmp/flame.svg" 2> "$tmp/xml.err"; then
	fail svg "not well-formed XML: $(tail -n 1 "$tmp/xml.err")"
elif ! grep -q 'site_a' "$tmp/flame.svg"; then
	fail svg "the flame graph does not mention site_a"
else
	pass svg
fi

# --- jeprof: jemalloc's own reader agrees (Debian's libjemalloc-dev) ---------
if ! command -v jeprof >/dev/null 2>&1; then
	skip jeprof "jeprof not installed (apt-get install libjemalloc-dev)"
elif ! $TO jeprof --text --show_bytes "$tmp/prog" "$dump" > "$tmp/jeprof.txt" \
    2> "$tmp/jeprof.err"; then
	fail jeprof "jeprof failed: $(tail -c 500 "$tmp/jeprof.err")"
else
	# Rows: flat flat% sum% cum cum% function; flat bytes per site.
	check=$(awk '
		function within(v, want) { return v >= want * 0.9 && v <= want * 1.1 }
		$6 == "site_a" { a = $1 } $6 == "site_b" { b = $1 }
		END {
			mib = 1024 * 1024
			if (!within(a, 60 * mib))
				print "site_a: " a " bytes, not within 10% of 60 MiB"
			else if (!within(b, 20 * mib))
				print "site_b: " b " bytes, not within 10% of 20 MiB"
			else
				print "ok"
		}' "$tmp/jeprof.txt")
	if [ "$check" = ok ]; then
		pass jeprof
	else
		fail jeprof "$check; jeprof: $(head -c 1500 "$tmp/jeprof.txt")"
	fi
fi

exit $failed
