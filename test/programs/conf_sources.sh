#!/bin/sh
# The MALLOC_CONF sources and their precedence (facts §3.1): the
# application's malloc_conf symbol (source 1), the target of the
# /etc/malloc.conf link (source 2, /etc/<prefix>malloc.conf with a prefix)
# and the ${JE_CPREFIX}MALLOC_CONF variable (source 3) are parsed in that
# order, a later assignment to the same key winning, and keys set by only
# one source all apply.  The program defines `malloc_conf` under
# JEMALLOC_MANGLE, which in a prefixed build must become je_malloc_conf.
#
# The /etc link is only tried as root, when /etc is writable and no such
# link exists; it is removed as soon as those runs are done and by the exit
# trap whatever happens.  Otherwise those cases are skipped.
#
# Environment: JEMALLOC_SO, JE_PREFIX, JE_CPREFIX, CC, TOP.

name=programs/conf_sources
so=${JEMALLOC_SO:-}
top=${TOP:-.}
cc=${CC:-cc}
var="${JE_CPREFIX:-}MALLOC_CONF"
link="/etc/${JE_PREFIX:-}malloc.conf"
failed=0

pass() { echo "pass: $name/$1"; }
fail() { echo "fail: $name/$1"; shift; [ $# -gt 0 ] && echo "$name: $*" >&2; failed=1; }
skip() { echo "skip: $name/$1"; shift; echo "$name: skipped: $*" >&2; }

all="symbol_mangled symbol_applies env_overrides_symbol sources_merge symbol_bad_pair link_applies link_overrides_symbol env_overrides_link"
skip_all() {
	for c in $all; do skip "$c" "$1"; done
	exit 0
}

command -v "$cc" >/dev/null 2>&1 || skip_all "compiler '$cc' not found"
if [ -z "$so" ] || [ ! -f "$so" ]; then
	fail symbol_applies "JEMALLOC_SO ('$so') is not a file"
	exit 1
fi
if [ -L "$link" ] || [ -e "$link" ]; then
	skip_all "$link already exists: the sources cannot be controlled"
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/jeconfsrc.XXXXXX") || exit 1
made_link=0
# shellcheck disable=SC2317
cleanup() {
	if [ "$made_link" = 1 ]; then
		rm -f "$link"
		made_link=0
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

TO=""
command -v timeout >/dev/null 2>&1 && TO="timeout 60"

cat > "$tmp/prog.c" <<'EOF'
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>

#define JEMALLOC_MANGLE
#include <jemalloc/jemalloc.h>

#ifdef SYMCONF
const char *malloc_conf = SYMCONF;
#endif

static void
show_unsigned(const char *name) {
	unsigned v = 0;
	size_t sz = sizeof(v);
	if (mallctl(name, &v, &sz, NULL, 0) == 0)
		printf("%s=%u\n", name, v);
	else
		printf("%s=<error>\n", name);
}

static void
show_ssize(const char *name) {
	ssize_t v = 0;
	size_t sz = sizeof(v);
	if (mallctl(name, &v, &sz, NULL, 0) == 0)
		printf("%s=%zd\n", name, v);
	else
		printf("%s=<error>\n", name);
}

int
main(void) {
	void *p = malloc(100);
	if (p == NULL)
		return 3;
	free(p);
	show_unsigned("opt.narenas");
	show_ssize("opt.lg_tcache_max");
	show_ssize("opt.dirty_decay_ms");
	printf("done\n");
	return 0;
}
EOF

libdir=$(cd "$(dirname "$so")" && pwd)
build() { # build OUTPUT [CFLAGS...]
	out=$1
	shift
	if ! "$cc" -I"$top/include" "$@" -o "$tmp/$out" "$tmp/prog.c" "$so" \
	    -Wl,-rpath,"$libdir" -lpthread > "$tmp/cc.err" 2>&1; then
		fail symbol_applies "cannot build the test program: $(head -c 1500 "$tmp/cc.err")"
		exit 1
	fi
}
build plain
build sym '-DSYMCONF="narenas:5,lg_tcache_max:12"'
build badsym '-DSYMCONF="abort_conf:false,bogus:1,narenas:5"'

ulimit -c 0 2>/dev/null || :

# run PROG [CONF]: runs the program with $var=CONF (unset if no CONF).
# Sets $rc; output in $tmp/out and $tmp/err.
run() {
	prog=$1
	# shellcheck disable=SC2086
	if [ $# -ge 2 ]; then
		(cd "$tmp" && exec env -u MALLOC_CONF -u JE_MALLOC_CONF "$var=$2" \
		    $TO "$tmp/$prog" > "$tmp/out" 2> "$tmp/err")
	else
		(cd "$tmp" && exec env -u MALLOC_CONF -u JE_MALLOC_CONF \
		    $TO "$tmp/$prog" > "$tmp/out" 2> "$tmp/err")
	fi
	rc=$?
}

# value NAME: what the last run printed for NAME.
value() { sed -n "s/^$1=//p" "$tmp/out" | head -n 1; }

# check CASE NAME=VALUE...: the last run completed silently with these values.
check() {
	c=$1
	shift
	if [ $rc -ne 0 ] || ! grep -qx "done" "$tmp/out"; then
		fail "$c" "status $rc: $(head -c 300 "$tmp/err")"
		return
	fi
	if grep -q '<jemalloc>' "$tmp/err"; then
		fail "$c" "unexpected message: $(head -c 300 "$tmp/err")"
		return
	fi
	for kv in "$@"; do
		k=${kv%%=*}
		want=${kv#*=}
		got=$(value "$k")
		if [ "$got" != "$want" ]; then
			fail "$c" "$k is '$got', expected '$want'"
			return
		fi
	done
	pass "$c"
}

# The symbol has the library's public name.
want_sym="${JE_PREFIX:-}malloc_conf"
if command -v nm >/dev/null 2>&1; then
	if nm "$tmp/sym" 2>/dev/null | grep -Eq "[DdRrBbGg] $want_sym\$"; then
		pass symbol_mangled
	else
		fail symbol_mangled "the program does not define $want_sym: $(nm "$tmp/sym" | grep malloc_conf)"
	fi
else
	skip symbol_mangled "nm not found"
fi

run plain
base_narenas=$(value opt.narenas)
if [ $rc -ne 0 ] || [ -z "$base_narenas" ] || [ "$base_narenas" = 5 ]; then
	fail symbol_applies "the plain program: status $rc, narenas '$base_narenas': $(head -c 300 "$tmp/err")"
fi

# 1. The symbol alone.
run sym
check symbol_applies opt.narenas=5 opt.lg_tcache_max=12 opt.dirty_decay_ms=10000

# 2. The environment overrides the symbol ...
run sym "narenas:6"
check env_overrides_symbol opt.narenas=6 opt.lg_tcache_max=12

# 3. ... and each source's other keys still apply.
run sym "dirty_decay_ms:4000,lg_tcache_max:13"
check sources_merge opt.narenas=5 opt.lg_tcache_max=13 opt.dirty_decay_ms=4000

# 4. Errors in the symbol are reported like any other.
run badsym
if [ $rc -ne 0 ] || ! grep -qx "done" "$tmp/out"; then
	fail symbol_bad_pair "status $rc: $(head -c 300 "$tmp/err")"
elif ! grep -qx '<jemalloc>: Invalid conf pair: bogus:1' "$tmp/err"; then
	fail symbol_bad_pair "no 'Invalid conf pair: bogus:1' line: $(head -c 300 "$tmp/err")"
elif [ "$(value opt.narenas)" != 5 ]; then
	fail symbol_bad_pair "narenas is '$(value opt.narenas)', expected 5"
else
	pass symbol_bad_pair
fi

# 5. The /etc link, between the symbol and the environment.
why=""
if [ "$(id -u 2>/dev/null)" != 0 ]; then
	why="not root: $link cannot be created"
elif [ ! -w /etc ]; then
	why="/etc is not writable"
elif ! ln -s "narenas:7,dirty_decay_ms:7000" "$link" 2>/dev/null; then
	why="cannot create $link"
fi
if [ -n "$why" ]; then
	for c in link_applies link_overrides_symbol env_overrides_link; do
		skip "$c" "$why"
	done
else
	made_link=1
	run plain
	r1=$rc; cp "$tmp/out" "$tmp/out1"; cp "$tmp/err" "$tmp/err1"
	run sym
	r2=$rc; cp "$tmp/out" "$tmp/out2"; cp "$tmp/err" "$tmp/err2"
	run sym "narenas:6"
	r3=$rc; cp "$tmp/out" "$tmp/out3"; cp "$tmp/err" "$tmp/err3"
	rm -f "$link"
	made_link=0
	if [ -L "$link" ]; then
		fail link_applies "could not remove $link"
	fi
	rc=$r1; cp "$tmp/out1" "$tmp/out"; cp "$tmp/err1" "$tmp/err"
	check link_applies opt.narenas=7 opt.dirty_decay_ms=7000 opt.lg_tcache_max=15
	rc=$r2; cp "$tmp/out2" "$tmp/out"; cp "$tmp/err2" "$tmp/err"
	check link_overrides_symbol opt.narenas=7 opt.dirty_decay_ms=7000 opt.lg_tcache_max=12
	rc=$r3; cp "$tmp/out3" "$tmp/out"; cp "$tmp/err3" "$tmp/err"
	check env_overrides_link opt.narenas=6 opt.dirty_decay_ms=7000 opt.lg_tcache_max=12
fi

exit $failed
