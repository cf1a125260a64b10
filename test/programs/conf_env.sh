#!/bin/sh
# The ${JE_CPREFIX}MALLOC_CONF environment variable: an unknown key gives a
# "<jemalloc>: " warning and, with abort_conf:false, the program still runs
# to completion; with abort_conf:true it aborts; valid options are silent.
# Checks that depend on the conf parser are skipped (not failed) while the
# library prints no "<jemalloc>" warning at all for a bad key.
#
# Environment: JEMALLOC_SO, JE_PREFIX, JE_CPREFIX, CC, TOP.

name=programs/conf_env
so=${JEMALLOC_SO:-}
top=${TOP:-.}
cc=${CC:-cc}
var="${JE_CPREFIX:-}MALLOC_CONF"
failed=0

pass() { echo "pass: $name/$1"; }
fail() { echo "fail: $name/$1"; shift; [ $# -gt 0 ] && echo "$name: $*" >&2; failed=1; }
skip() { echo "skip: $name/$1"; shift; echo "$name: skipped: $*" >&2; }

all="bad_key_warns valid_silent abort_conf other_var_ignored"
skip_all() {
	for c in $all; do skip "$c" "$1"; done
	exit 0
}

command -v "$cc" >/dev/null 2>&1 || skip_all "compiler '$cc' not found"
if [ -z "$so" ] || [ ! -f "$so" ]; then
	fail bad_key_warns "JEMALLOC_SO ('$so') is not a file"
	exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/jeconf.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM HUP

TO=""
command -v timeout >/dev/null 2>&1 && TO="timeout 60"

cat > "$tmp/prog.c" <<'EOF'
#include <stdio.h>
#include <string.h>

#define JEMALLOC_MANGLE
#include <jemalloc/jemalloc.h>

int
main(void) {
	/* Allocation makes sure the library has initialized. */
	char *p = malloc(100);
	if (p == NULL)
		return 3;
	memset(p, 1, 100);
	free(p);
	p = mallocx(5000, MALLOCX_ZERO);
	if (p == NULL || p[4999] != 0)
		return 4;
	dallocx(p, 0);
	printf("done\n");
	return 0;
}
EOF

libdir=$(cd "$(dirname "$so")" && pwd)
if ! "$cc" -I"$top/include" -o "$tmp/prog" "$tmp/prog.c" "$so" \
    -Wl,-rpath,"$libdir" -lpthread > "$tmp/cc.err" 2>&1; then
	fail bad_key_warns "cannot build the test program: $(head -c 1500 "$tmp/cc.err")"
	exit 1
fi

# No core files from the abort_conf check.
ulimit -c 0 2>/dev/null || :

# run CONF [VAR]: runs the program with VAR (default $var) set to CONF,
# in $tmp.  Sets $rc; output in $tmp/out and $tmp/err.
run() {
	v=${2:-$var}
	# shellcheck disable=SC2086
	(cd "$tmp" && exec env -u MALLOC_CONF -u JE_MALLOC_CONF "$v=$1" $TO \
	    "$tmp/prog" > "$tmp/out" 2> "$tmp/err")
	rc=$?
}

# Without any conf the program runs silently.
run ""
if [ $rc -ne 0 ] || ! grep -qx done "$tmp/out"; then
	fail bad_key_warns "the program fails even without a conf string (status $rc): $(head -c 300 "$tmp/err")"
	exit 1
fi

# 1. Unknown key: warning, and the program completes.
run "abort_conf:false,bogus_key:1"
if ! grep -q '<jemalloc>' "$tmp/err"; then
	skip_all "no <jemalloc> warning for $var=abort_conf:false,bogus_key:1 (conf parser not finished?)"
fi
if [ $rc -ne 0 ]; then
	fail bad_key_warns "status $rc with abort_conf:false: $(head -c 300 "$tmp/err")"
elif ! grep -qx done "$tmp/out"; then
	fail bad_key_warns "the program did not run to completion"
elif ! grep -q '<jemalloc>: ' "$tmp/err"; then
	fail bad_key_warns "the warning lacks the '<jemalloc>: ' prefix: $(head -c 300 "$tmp/err")"
elif ! grep -q 'bogus_key' "$tmp/err"; then
	fail bad_key_warns "the warning does not name the bad pair: $(head -c 300 "$tmp/err")"
else
	pass bad_key_warns
fi

# 2. Valid options: no warnings.
run "abort_conf:false,narenas:2,dirty_decay_ms:5000,muzzy_decay_ms:5000,tcache:true,lg_tcache_max:15,retain:true,percpu_arena:disabled,metadata_thp:disabled"
if [ $rc -ne 0 ] || ! grep -qx done "$tmp/out"; then
	fail valid_silent "status $rc with valid options: $(head -c 300 "$tmp/err")"
elif grep -q '<jemalloc>' "$tmp/err"; then
	fail valid_silent "warnings for valid options: $(grep '<jemalloc>' "$tmp/err" | head -5)"
else
	pass valid_silent
fi

# 3. abort_conf:true makes an invalid option fatal.
run "abort_conf:true,bogus_key:1"
if [ $rc -eq 0 ]; then
	fail abort_conf "the program exited 0 with abort_conf:true and a bad key"
elif [ $rc -eq 124 ]; then
	fail abort_conf "the program hung with abort_conf:true and a bad key"
elif grep -qx done "$tmp/out"; then
	fail abort_conf "the program ran to completion with abort_conf:true"
elif ! grep -q '<jemalloc>' "$tmp/err"; then
	fail abort_conf "no <jemalloc> message before aborting"
else
	pass abort_conf
fi

# 4. Only the library's own variable is read: with a prefix, plain
#    MALLOC_CONF is libc's business; without one, JE_MALLOC_CONF is nobody's.
if [ -n "${JE_CPREFIX:-}" ]; then
	other=MALLOC_CONF
else
	other=JE_MALLOC_CONF
fi
run "abort_conf:false,bogus_key:1" "$other"
if [ $rc -ne 0 ] || ! grep -qx done "$tmp/out"; then
	fail other_var_ignored "status $rc with $other set: $(head -c 300 "$tmp/err")"
elif grep -q '<jemalloc>' "$tmp/err"; then
	fail other_var_ignored "the library read $other: $(head -c 300 "$tmp/err")"
else
	pass other_var_ignored
fi

exit $failed
