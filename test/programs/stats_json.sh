#!/bin/sh
# malloc_stats_print() JSON checked by a real parser: a program prints the
# statistics with "J" plus every subset of "gmdablx" (128 reports, with two
# arenas in use), and python3's json module must accept each one and find
# the sections the options ask for.  Then the exit-time report of
# ${JE_CPREFIX}MALLOC_CONF=stats_print:true, as text and, with
# stats_print_opts:J, as JSON.  Skipped when python3 is absent.
#
# Environment: JEMALLOC_SO, JE_PREFIX, JE_CPREFIX, JE_STATS, CC, TOP.

name=programs/stats_json
so=${JEMALLOC_SO:-}
top=${TOP:-.}
cc=${CC:-cc}
var="${JE_CPREFIX:-}MALLOC_CONF"
failed=0

pass() { echo "pass: $name/$1"; }
fail() { echo "fail: $name/$1"; shift; [ $# -gt 0 ] && echo "$name: $*" >&2; failed=1; }
skip() { echo "skip: $name/$1"; shift; echo "$name: skipped: $*" >&2; }

all="all_combinations atexit_text atexit_json"
skip_all() {
	for c in $all; do skip "$c" "$1"; done
	exit 0
}

command -v python3 >/dev/null 2>&1 || skip_all "python3 not found"
command -v "$cc" >/dev/null 2>&1 || skip_all "compiler '$cc' not found"
if [ -z "$so" ] || [ ! -f "$so" ]; then
	fail all_combinations "JEMALLOC_SO ('$so') is not a file"
	exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/jestats.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM HUP

TO=""
command -v timeout >/dev/null 2>&1 && TO="timeout 120"

cat > "$tmp/prog.c" <<'EOF'
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define JEMALLOC_MANGLE
#include <jemalloc/jemalloc.h>

/* Appends to the open file; stdio may allocate, which is fine here. */
static void
write_cb(void *opaque, const char *s) {
	fputs(s, (FILE *)opaque);
}

static void *
thread_main(void *arg) {
	unsigned ind = 1;
	mallctl("thread.arena", NULL, NULL, &ind, sizeof(ind));
	void *p = malloc(200);
	void *q = malloc(70000);
	free(p);
	free(q);
	return arg;
}

/* prog DIR: writes DIR/<mask>.json for each subset of "gmdablx".
 * prog: allocates a little and exits (for the exit-time report). */
int
main(int argc, char **argv) {
	void *keep[32];
	for (int i = 0; i < 32; i++)
		keep[i] = malloc(16 + i * 300);
	void *big = malloc(1 << 20);
	pthread_t t;
	if (pthread_create(&t, NULL, thread_main, NULL) == 0)
		pthread_join(t, NULL);
	if (argc > 1) {
		const char *letters = "gmdablx";
		for (unsigned mask = 0; mask < 128; mask++) {
			char opts[16] = "J", path[4096];
			size_t n = 1;
			for (unsigned b = 0; b < 7; b++) {
				if (mask & (1u << b))
					opts[n++] = letters[b];
			}
			opts[n] = '\0';
			snprintf(path, sizeof(path), "%s/%u.json", argv[1], mask);
			FILE *f = fopen(path, "w");
			if (f == NULL)
				return 2;
			malloc_stats_print(write_cb, f, opts);
			fclose(f);
		}
	}
	for (int i = 0; i < 32; i++)
		free(keep[i]);
	free(big);
	printf("done\n");
	return 0;
}
EOF

libdir=$(cd "$(dirname "$so")" && pwd)
if ! "$cc" -I"$top/include" -o "$tmp/prog" "$tmp/prog.c" "$so" \
    -Wl,-rpath,"$libdir" -lpthread > "$tmp/cc.err" 2>&1; then
	fail all_combinations "cannot build the test program: $(head -c 1500 "$tmp/cc.err")"
	exit 1
fi

stats=${JE_STATS:-1}

# 1. Every combination parses, and carries the sections asked for.
mkdir "$tmp/json"
if ! (exec env -u MALLOC_CONF -u JE_MALLOC_CONF $TO "$tmp/prog" "$tmp/json" \
    > "$tmp/out" 2> "$tmp/err") || ! grep -qx done "$tmp/out"; then
	fail all_combinations "the program failed: $(head -c 500 "$tmp/err")"
else
	cat > "$tmp/check.py" <<'EOF'
import json, sys
d, stats = sys.argv[1], sys.argv[2] == "1"
letters = "gmdablx"
errors = []
for mask in range(128):
    opts = "J" + "".join(c for b, c in enumerate(letters) if mask & (1 << b))
    omit = set(c for b, c in enumerate(letters) if mask & (1 << b))
    try:
        with open("%s/%d.json" % (d, mask)) as f:
            doc = json.load(f)
    except Exception as e:
        errors.append("%s: %s" % (opts, e))
        continue
    top = doc.get("jemalloc")
    if not isinstance(top, dict):
        errors.append("%s: no jemalloc object" % opts)
        continue
    for k in ("version", "config", "opt", "arenas"):
        if (k in top) == ("g" in omit):
            errors.append("%s: key %s wrongly %s" % (opts, k,
                "present" if k in top else "absent"))
    if "arenas" in top:
        a = top["arenas"]
        if len(a.get("bin", [])) != a.get("nbins") or \
                len(a.get("lextent", [])) != a.get("nlextents"):
            errors.append("%s: arenas.bin/lextent lengths" % opts)
    if not stats:
        continue
    st = top.get("stats", {})
    for k in ("allocated", "active", "metadata", "metadata_thp",
              "resident", "mapped", "retained", "background_thread"):
        if k not in st:
            errors.append("%s: stats.%s missing" % (opts, k))
    if not (st.get("allocated", 0) <= st.get("active", 0) <=
            st.get("resident", 0) <= st.get("mapped", 0)):
        errors.append("%s: allocated <= active <= resident <= mapped" % opts)
    if ("mutexes" in st) == ("x" in omit):
        errors.append("%s: stats.mutexes" % opts)
    sa = top.get("stats.arenas", {})
    if ("merged" in sa) == ("m" in omit):
        errors.append("%s: merged view" % opts)
    if "destroyed" in sa and "d" in omit:
        errors.append("%s: destroyed view" % opts)
    numbered = [k for k in sa if k.isdigit()]
    if bool(numbered) == ("a" in omit):
        errors.append("%s: per-arena views %s" % (opts, numbered))
    for k, v in sa.items():
        if ("bins" in v) == ("b" in omit) or \
                ("lextents" in v) == ("l" in omit) or \
                ("mutexes" in v) == ("x" in omit):
            errors.append("%s: sections of arena %s" % (opts, k))
        if "bins" in v and len(v["bins"]) != 36:
            errors.append("%s: %s has %d bins" % (opts, k, len(v["bins"])))
for e in errors[:20]:
    print(e)
sys.exit(1 if errors else 0)
EOF
	if python3 "$tmp/check.py" "$tmp/json" "$stats" > "$tmp/py.out" 2>&1; then
		pass all_combinations
	else
		fail all_combinations "$(head -c 2000 "$tmp/py.out")"
	fi
fi

# 2. stats_print:true prints the text report at exit (to stderr).
(exec env -u MALLOC_CONF -u JE_MALLOC_CONF "$var=stats_print:true" $TO \
    "$tmp/prog" > "$tmp/out" 2> "$tmp/err")
rc=$?
if [ $rc -ne 0 ] || ! grep -qx done "$tmp/out"; then
	fail atexit_text "status $rc: $(head -c 300 "$tmp/err")"
elif ! grep -qx '___ Begin jemalloc statistics ___' "$tmp/err" ||
    ! grep -qx -- '--- End jemalloc statistics ---' "$tmp/err"; then
	fail atexit_text "no report on stderr: $(head -c 300 "$tmp/err")"
elif ! grep -q '^  opt.stats_print: true$' "$tmp/err"; then
	fail atexit_text "opt.stats_print not reported as true"
else
	pass atexit_text
fi

# 3. stats_print_opts reaches the exit-time report: JSON without mutexes.
(exec env -u MALLOC_CONF -u JE_MALLOC_CONF \
    "$var=stats_print:true,stats_print_opts:Jx" $TO \
    "$tmp/prog" > "$tmp/out" 2> "$tmp/err")
rc=$?
if [ $rc -ne 0 ] || ! grep -qx done "$tmp/out"; then
	fail atexit_json "status $rc: $(head -c 300 "$tmp/err")"
elif ! python3 -c '
import json, sys
doc = json.load(open(sys.argv[1]))["jemalloc"]
assert doc["opt"]["stats_print_opts"] == "Jx", doc["opt"]
assert "mutexes" not in doc.get("stats", {})
' "$tmp/err" > "$tmp/py.out" 2>&1; then
	fail atexit_json "stderr is not the JSON report: $(head -c 300 "$tmp/py.out") / $(head -c 300 "$tmp/err")"
else
	pass atexit_json
fi

exit $failed
