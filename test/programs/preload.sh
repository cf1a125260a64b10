#!/bin/sh
# Real programs run with LD_PRELOAD=$JEMALLOC_SO and give the same output
# as without it: python3 (millions of small objects, a 1M-element sort),
# sort(1) on 200k random lines, the C compiler building and a program it
# built.  Only for the unprefixed build, which replaces malloc.
#
# Environment: JEMALLOC_SO, JE_PREFIX, CC, TEST_MODE.

name=programs/preload
so=${JEMALLOC_SO:-}
failed=0

pass() { echo "pass: $name/$1"; }
fail() { echo "fail: $name/$1"; shift; [ $# -gt 0 ] && echo "$name: $*" >&2; failed=1; }
skip() { echo "skip: $name/$1"; shift; echo "$name: skipped: $*" >&2; }

checks="maps python sort cc"
if [ -n "${JE_PREFIX:-}" ]; then
	for c in $checks; do
		skip "$c" "prefixed build ($JE_PREFIX) does not replace malloc"
	done
	exit 0
fi
if [ -z "$so" ] || [ ! -f "$so" ]; then
	fail maps "JEMALLOC_SO ('$so') is not a file"
	exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/jepreload.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM HUP

# A time limit for preloaded commands, where timeout(1) exists.
limit=120
[ "${TEST_MODE:-short}" = long ] && limit=600
TO=""
command -v timeout >/dev/null 2>&1 && TO="timeout $limit"

# Runs "$@" with the library preloaded; stdout to $tmp/pre.out, stderr to
# $tmp/pre.err.  Returns the command's status.
run_pre() {
	# shellcheck disable=SC2086
	LD_PRELOAD="$so" $TO "$@" > "$tmp/pre.out" 2> "$tmp/pre.err"
}

# Same without the library.
run_plain() {
	env -u LD_PRELOAD "$@" > "$tmp/plain.out" 2> "$tmp/plain.err"
}

# True if the preloaded run printed an allocator error.
jemalloc_complained() {
	grep -q '<jemalloc>' "$tmp/pre.err"
}

# --- maps: the library is really loaded into the process ------------------
if ! command -v cat >/dev/null 2>&1; then
	skip maps "cat not found"
elif LD_PRELOAD="$so" cat /proc/self/maps > "$tmp/maps" 2> "$tmp/maps.err" &&
    grep -q libjemalloc "$tmp/maps"; then
	pass maps
else
	fail maps "libjemalloc is not mapped in a preloaded cat: $(head -c 500 "$tmp/maps.err")"
fi

# --- python -----------------------------------------------------------------
py=""
for cand in /usr/bin/python3 python3; do
	if command -v "$cand" >/dev/null 2>&1; then
		py=$(command -v "$cand")
		break
	fi
done
cat > "$tmp/work.py" <<'EOF'
import random, sys
random.seed(20240521)
# Many small objects: dicts, tuples, strings, lists.
table = {}
for i in range(120000):
    key = "k%07d" % i
    table[key] = (i, str(i * 7), [i, i + 1], {"a": i, "b": key})
total = 0
for key, (i, s, l, d) in table.items():
    total = (total * 131 + i + len(s) + l[1] + d["a"]) % 1000000007
# Churn: drop half, rebuild with other sizes.
for i in range(0, 120000, 2):
    del table["k%07d" % i]
for i in range(60000):
    table["n%d" % i] = "x" * (i % 300) + str(i)
total = (total + sum(len(v) for v in table.values() if isinstance(v, str))) % 1000000007
# Sort a million random ints.
nums = [random.getrandbits(40) for _ in range(1000000)]
nums.sort()
for j in range(0, len(nums), 997):
    total = (total * 31 + nums[j]) % 1000000007
ok = all(nums[k] <= nums[k + 1] for k in range(0, len(nums) - 1, 1013))
# Big strings and bytes, realloc-heavy appends.
buf = bytearray()
for i in range(200000):
    buf += b"%d," % i
total = (total + len(buf) + sum(buf[::4096])) % 1000000007
print(total, len(table), ok)
EOF
if [ -z "$py" ]; then
	skip python "python3 not found"
elif ! run_plain "$py" "$tmp/work.py"; then
	skip python "python3 fails even without the library: $(head -c 300 "$tmp/plain.err")"
elif ! run_pre "$py" "$tmp/work.py"; then
	fail python "preloaded python3 failed (status $?): $(tail -c 500 "$tmp/pre.err")"
elif ! cmp -s "$tmp/plain.out" "$tmp/pre.out"; then
	fail python "output differs: '$(cat "$tmp/pre.out")' vs '$(cat "$tmp/plain.out")'"
elif jemalloc_complained; then
	fail python "allocator messages: $(grep '<jemalloc>' "$tmp/pre.err" | head -5)"
elif ! LD_PRELOAD="$so" $TO "$py" -c 'print(open("/proc/self/maps").read())' 2>/dev/null |
    grep -q libjemalloc; then
	fail python "libjemalloc is not mapped into the preloaded python3"
else
	pass python
fi

# --- sort -------------------------------------------------------------------
if ! command -v sort >/dev/null 2>&1 || ! command -v awk >/dev/null 2>&1; then
	skip sort "sort or awk not found"
else
	awk 'BEGIN {
		srand(4242);
		pool = "";
		for (j = 0; j < 2000; j++)
			pool = pool sprintf("%c", 97 + int(rand() * 26));
		for (i = 0; i < 200000; i++) {
			s = substr(pool, int(rand() * 1950) + 1, int(rand() * 40) + 1);
			printf "%s %d %.6f\n", s, int(rand() * 1000000), rand();
		}
	}' > "$tmp/lines" 2> "$tmp/awk.err"
	if [ "$(wc -l < "$tmp/lines")" -ne 200000 ]; then
		skip sort "could not generate the input: $(head -c 300 "$tmp/awk.err")"
	else
		ok=1
		why=""
		for keys in "" "-k2,2n" "-r -k3,3"; do
			# shellcheck disable=SC2086
			LC_ALL=C env -u LD_PRELOAD sort -S 32M $keys "$tmp/lines" > "$tmp/sorted.plain" 2>/dev/null
			# shellcheck disable=SC2086
			# (-S bounds sort's buffer; a debug build junk-fills it.)
			if ! LC_ALL=C LD_PRELOAD="$so" $TO sort -S 32M $keys "$tmp/lines" \
			    > "$tmp/sorted.pre" 2> "$tmp/pre.err"; then
				ok=0; why="preloaded sort $keys failed"; break
			fi
			if ! cmp -s "$tmp/sorted.plain" "$tmp/sorted.pre"; then
				ok=0; why="sort $keys output differs"; break
			fi
			if jemalloc_complained; then
				ok=0; why="allocator messages from sort $keys"; break
			fi
		done
		# Also through a pipe with a small buffer (temporary files, merges).
		if [ $ok = 1 ]; then
			LC_ALL=C env -u LD_PRELOAD sort -S 64K "$tmp/lines" | cksum > "$tmp/ck.plain"
			LC_ALL=C LD_PRELOAD="$so" $TO sort -S 64K -T "$tmp" "$tmp/lines" 2> "$tmp/pre.err" |
			    cksum > "$tmp/ck.pre"
			if ! cmp -s "$tmp/ck.plain" "$tmp/ck.pre"; then
				ok=0; why="sort -S 64K output differs"
			elif jemalloc_complained; then
				ok=0; why="allocator messages from sort -S 64K"
			fi
		fi
		if [ $ok = 1 ]; then
			pass sort
		else
			fail sort "$why: $(head -c 300 "$tmp/pre.err")"
		fi
	fi
fi

# --- the C compiler, and a program it built ------------------------------------
cc=${CC:-cc}
cat > "$tmp/prog.c" <<'EOF'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct node { struct node *next; char *text; size_t len; };

static int
cmp(const void *a, const void *b) {
	unsigned long x = *(const unsigned long *)a, y = *(const unsigned long *)b;
	return x < y ? -1 : x > y;
}

int
main(void) {
	struct node *head = NULL;
	unsigned long sum = 0, seed = 12345;
	for (int i = 0; i < 100000; i++) {
		struct node *n = malloc(sizeof(*n));
		seed = seed * 6364136223846793005UL + 1442695040888963407UL;
		n->len = (seed >> 33) % 200 + 1;
		n->text = malloc(n->len);
		memset(n->text, 'a' + i % 26, n->len);
		n->next = head;
		head = n;
	}
	size_t cnt = 0;
	for (struct node *n = head; n != NULL; n = n->next)
		cnt++;
	unsigned long *arr = calloc(cnt, sizeof(*arr));
	size_t k = 0;
	while (head != NULL) {
		struct node *n = head;
		head = n->next;
		n->text = realloc(n->text, n->len * 3);
		memset(n->text + n->len, 'z', n->len * 2);
		arr[k++] = n->len * 131 + (unsigned char)n->text[0];
		free(n->text);
		free(n);
	}
	qsort(arr, k, sizeof(*arr), cmp);
	for (size_t i = 0; i < k; i += 101)
		sum = sum * 31 + arr[i];
	char *s = strdup("hello from a preloaded program");
	printf("%s %lu %zu\n", s, sum, k);
	free(s);
	free(arr);
	return 0;
}
EOF
if ! command -v "$cc" >/dev/null 2>&1; then
	skip cc "compiler '$cc' not found"
elif ! env -u LD_PRELOAD "$cc" -O1 -o "$tmp/prog.plain" "$tmp/prog.c" > "$tmp/cc.plain.err" 2>&1; then
	skip cc "'$cc' cannot build a test program: $(head -c 300 "$tmp/cc.plain.err")"
elif ! LD_PRELOAD="$so" $TO "$cc" -O1 -o "$tmp/prog" "$tmp/prog.c" \
    > "$tmp/pre.out" 2> "$tmp/pre.err"; then
	fail cc "preloaded '$cc' failed: $(tail -c 500 "$tmp/pre.err")"
elif jemalloc_complained; then
	fail cc "allocator messages from the compiler: $(grep '<jemalloc>' "$tmp/pre.err" | head -5)"
else
	"$tmp/prog.plain" > "$tmp/prog.plain.out" 2>&1
	if ! run_pre "$tmp/prog"; then
		fail cc "the program built under LD_PRELOAD failed when preloaded: $(tail -c 300 "$tmp/pre.err")"
	elif ! cmp -s "$tmp/prog.plain.out" "$tmp/pre.out"; then
		fail cc "program output differs: '$(cat "$tmp/pre.out")' vs '$(cat "$tmp/prog.plain.out")'"
	elif ! grep -q '^hello from a preloaded program ' "$tmp/pre.out"; then
		fail cc "unexpected program output: $(cat "$tmp/pre.out")"
	elif jemalloc_complained; then
		fail cc "allocator messages from the program"
	else
		pass cc
	fi
fi

exit $failed
