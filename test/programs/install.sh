#!/bin/sh
# `make install` into a staging directory installs the library, the header,
# jemalloc.pc and jemalloc-config, and a program builds against them
# through pkg-config (or the .pc file's flags when pkg-config is absent).
set -u
tmp=$(mktemp -d "${TMPDIR:-/tmp}/jeinstall.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
prefix=$(sed -n 's/^prefix = //p' "$TOP/config.mk")
libdir=$(sed -n 's/^libdir = //p' "$TOP/config.mk")
includedir=$(sed -n 's/^includedir = //p' "$TOP/config.mk")
bindir=$(sed -n 's/^bindir = //p' "$TOP/config.mk")
stage=$tmp/stage

if make -s -C "$TOP" install DESTDIR="$stage" >"$tmp/log" 2>&1; then
	echo "pass: programs/install/make_install"
else
	echo "fail: programs/install/make_install"
	cat "$tmp/log" >&2
	exit 1
fi

ok=1
for f in "$libdir/libjemalloc.so.2" "$libdir/libjemalloc.so" \
    "$libdir/libjemalloc.a" "$includedir/jemalloc/jemalloc.h" \
    "$libdir/pkgconfig/jemalloc.pc" "$bindir/jemalloc-config"; do
	if [ ! -e "$stage$f" ]; then
		echo "missing after install: $f" >&2
		ok=0
	fi
done
[ $ok = 1 ] && echo "pass: programs/install/files" || echo "fail: programs/install/files"

v=$("$stage$bindir/jemalloc-config" --version)
case $v in
5.1.0-*) echo "pass: programs/install/jemalloc_config" ;;
*) echo "fail: programs/install/jemalloc_config"; echo "version: $v" >&2 ;;
esac
grep -q '^Version: 5.1.0' "$stage$libdir/pkgconfig/jemalloc.pc" &&
    grep -q -- '-ljemalloc' "$stage$libdir/pkgconfig/jemalloc.pc" &&
    echo "pass: programs/install/pc_file" || echo "fail: programs/install/pc_file"

cat > "$tmp/prog.c" <<'PROG'
#include <stdio.h>
#define JEMALLOC_MANGLE
#include <jemalloc/jemalloc.h>
int main(void) {
	const char *v;
	size_t sz = sizeof(v);
	if (mallctl("version", &v, &sz, NULL, 0) != 0)
		return 1;
	void *p = malloc(100);
	printf("%s %zu\n", v, malloc_usable_size(p));
	free(p);
	return 0;
}
PROG
if command -v pkg-config >/dev/null 2>&1; then
	flags=$(PKG_CONFIG_SYSROOT_DIR="$stage" PKG_CONFIG_PATH="$stage$libdir/pkgconfig" \
	    pkg-config --cflags --libs jemalloc)
else
	flags="-I$stage$includedir -L$stage$libdir -ljemalloc"
fi
if $CC -o "$tmp/prog" "$tmp/prog.c" $flags -Wl,-rpath,"$stage$libdir" 2>"$tmp/cc.log" &&
    out=$("$tmp/prog") && [ "$out" = "$v 112" ]; then
	echo "pass: programs/install/build_against_installed"
else
	echo "fail: programs/install/build_against_installed"
	cat "$tmp/cc.log" >&2
	echo "output: ${out:-}" >&2
fi
exit 0
