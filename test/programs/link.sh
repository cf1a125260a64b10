#!/bin/sh
# A program built against the installed-style header links and runs both
# with the static archive ($JEMALLOC_A) and with the shared library, and
# reaches this library's functions (size classes, mallocx, threads).
#
# Environment: JEMALLOC_SO, JEMALLOC_A, JE_PREFIX, CC, TOP.

name=programs/link
so=${JEMALLOC_SO:-}
ar=${JEMALLOC_A:-}
top=${TOP:-.}
cc=${CC:-cc}
failed=0

pass() { echo "pass: $name/$1"; }
fail() { echo "fail: $name/$1"; shift; [ $# -gt 0 ] && echo "$name: $*" >&2; failed=1; }
skip() { echo "skip: $name/$1"; shift; echo "$name: skipped: $*" >&2; }

if ! command -v "$cc" >/dev/null 2>&1; then
	skip static "compiler '$cc' not found"
	skip shared "compiler '$cc' not found"
	exit 0
fi
if [ ! -f "$top/include/jemalloc/jemalloc.h" ]; then
	fail static "no $top/include/jemalloc/jemalloc.h (run ./configure)"
	fail shared "no $top/include/jemalloc/jemalloc.h (run ./configure)"
	exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/jelink.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM HUP

TO=""
command -v timeout >/dev/null 2>&1 && TO="timeout 60"

cat > "$tmp/prog.c" <<'EOF'
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JEMALLOC_MANGLE
#include <jemalloc/jemalloc.h>

static int errors;

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "line %d: check failed: %s\n", __LINE__, #cond); \
		errors++;						\
	}								\
} while (0)

static void *
worker(void *arg) {
	unsigned long seed = (unsigned long)(uintptr_t)arg + 1;
	void *ps[256] = {0};
	for (int i = 0; i < 20000; i++) {
		seed = seed * 6364136223846793005UL + 1442695040888963407UL;
		int k = (int)((seed >> 33) % 256);
		size_t size = (size_t)((seed >> 20) % 5000) + 1;
		if (ps[k] != NULL) {
			free(ps[k]);
			ps[k] = NULL;
		} else {
			ps[k] = malloc(size);
			if (ps[k] == NULL)
				return (void *)1;
			memset(ps[k], k, size);
		}
	}
	for (int k = 0; k < 256; k++)
		free(ps[k]);
	return NULL;
}

int
main(void) {
	/* Size classes show that this library, not libc, serves malloc. */
	void *p = malloc(100);
	CHECK(p != NULL);
	CHECK(malloc_usable_size(p) == 112);
	free(p);
	p = malloc(14337);
	CHECK(p != NULL && malloc_usable_size(p) == 16384);
	free(p);

	p = mallocx(100, 0);
	CHECK(p != NULL);
	CHECK(sallocx(p, 0) == 112);
	p = rallocx(p, 5000, MALLOCX_ZERO);
	CHECK(p != NULL && sallocx(p, 0) == 5120);
	CHECK(xallocx(p, 5000, 0, 0) == 5120);
	sdallocx(p, 5000, 0);
	CHECK(nallocx(1, 0) == 8);
	CHECK(nallocx(0x7000000000000000ULL, 0) == 0x7000000000000000ULL);
	CHECK(nallocx(0x7000000000000001ULL, 0) == 0);

	p = mallocx(1000, MALLOCX_LG_ALIGN(12));
	CHECK(p != NULL && ((uintptr_t)p & 4095) == 0);
	dallocx(p, 0);

	void *q = NULL;
	CHECK(posix_memalign(&q, 64, 10) == 0 && ((uintptr_t)q & 63) == 0);
	free(q);
	q = aligned_alloc(256, 256);
	CHECK(q != NULL && ((uintptr_t)q & 255) == 0);
	free(q);
	char *c = calloc(10, 10);
	CHECK(c != NULL && c[0] == 0 && c[99] == 0);
	c = realloc(c, 100000);
	CHECK(c != NULL && malloc_usable_size(c) == 114688);
	free(c);

	pthread_t th[4];
	for (int i = 0; i < 4; i++)
		CHECK(pthread_create(&th[i], NULL, worker, (void *)(uintptr_t)i) == 0);
	for (int i = 0; i < 4; i++) {
		void *r;
		pthread_join(th[i], &r);
		CHECK(r == NULL);
	}
	if (errors != 0)
		return 1;
	printf("link ok\n");
	return 0;
}
EOF

# run_prog NAME BINARY: runs it and checks the output.
run_prog() {
	# shellcheck disable=SC2086
	if ! $TO "$2" > "$tmp/$1.out" 2> "$tmp/$1.err"; then
		fail "$1" "program failed: $(tail -c 600 "$tmp/$1.err")"
	elif ! grep -qx 'link ok' "$tmp/$1.out"; then
		fail "$1" "unexpected output: $(head -c 300 "$tmp/$1.out")"
	else
		return 0
	fi
	return 1
}

# --- static ---------------------------------------------------------------------
# What a static link needs besides the archive, as jemalloc-config says
# (a profiling build adds its unwinder and libm).
static_libs="-lpthread -ldl"
if [ -x "$top/bin/jemalloc-config" ]; then
	static_libs=$("$top/bin/jemalloc-config" --libs | sed 's/-ljemalloc//')
fi
if [ -z "$ar" ] || [ ! -f "$ar" ]; then
	fail static "JEMALLOC_A ('$ar') is not a file"
elif ! "$cc" -I"$top/include" -o "$tmp/prog_static" "$tmp/prog.c" "$ar" \
    $static_libs > "$tmp/static.cc" 2>&1; then
	fail static "cannot link against $ar: $(head -c 1500 "$tmp/static.cc")"
elif run_prog static "$tmp/prog_static"; then
	# The program must not need the shared library.
	if command -v readelf >/dev/null 2>&1 &&
	    readelf -d "$tmp/prog_static" | grep NEEDED | grep -q libjemalloc; then
		fail static "the statically linked program still needs libjemalloc.so"
	else
		pass static
	fi
fi

# --- shared ---------------------------------------------------------------------
if [ -z "$so" ] || [ ! -f "$so" ]; then
	fail shared "JEMALLOC_SO ('$so') is not a file"
else
	libdir=$(cd "$(dirname "$so")" && pwd)
	# Link by file name so that no libjemalloc.so symlink is needed.
	if ! "$cc" -I"$top/include" -o "$tmp/prog_shared" "$tmp/prog.c" "$so" \
	    -Wl,-rpath,"$libdir" -lpthread -ldl > "$tmp/shared.cc" 2>&1; then
		fail shared "cannot link against $so: $(head -c 1500 "$tmp/shared.cc")"
	elif run_prog shared "$tmp/prog_shared"; then
		pass shared
	fi
	if [ -e "$libdir/libjemalloc.so" ]; then
		if ! "$cc" -I"$top/include" -o "$tmp/prog_l" "$tmp/prog.c" \
		    -L"$libdir" -ljemalloc -Wl,-rpath,"$libdir" -lpthread \
		    > "$tmp/l.cc" 2>&1; then
			fail shared_ljemalloc "cannot link with -ljemalloc: $(head -c 1500 "$tmp/l.cc")"
		elif run_prog shared_ljemalloc "$tmp/prog_l"; then
			pass shared_ljemalloc
		fi
	else
		skip shared_ljemalloc "no libjemalloc.so symlink next to $so"
	fi
fi

exit $failed
