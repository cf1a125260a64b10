#!/bin/sh
# The shared library exports exactly the expected symbols: the 22 public
# names (with $JE_PREFIX), plus, in the unprefixed build only, the glibc
# override names, plus, when built with C++, the C++ operators new and
# delete under their standard mangled names (prefixed build or not; the
# aligned forms when the compiler has C++17 aligned new).  Nothing else:
# no typeinfo, vtables or instantiated library templates.
#
# Environment: JEMALLOC_SO, JE_PREFIX, JE_CXX, JE_CXX_ALIGNED (see
# test/run.sh and the Makefile).

name=programs/symbols
so=${JEMALLOC_SO:-}
p=${JE_PREFIX:-}
cxx=${JE_CXX:-0}
cxx_aligned=${JE_CXX_ALIGNED:-0}
failed=0

pass() { echo "pass: $name/$1"; }
fail() { echo "fail: $name/$1"; shift; [ $# -gt 0 ] && echo "$name: $*" >&2; failed=1; }
skip() { echo "skip: $name/$1"; shift; echo "$name: skipped: $*" >&2; }

public="aligned_alloc calloc dallocx free mallctl mallctlbymib
mallctlnametomib malloc malloc_conf malloc_message malloc_stats_print
malloc_usable_size mallocx nallocx posix_memalign rallocx realloc sallocx
sdallocx xallocx memalign valloc"
data="malloc_conf malloc_message"
glibc="reallocarray pvalloc __libc_calloc __libc_free __libc_malloc
__libc_memalign __libc_realloc __libc_valloc __posix_memalign"
# operator new/new[] (size; size, nothrow), delete/delete[] (ptr; ptr,
# nothrow; ptr, size) ...
cxx_ops="_Znwm _Znam _ZnwmRKSt9nothrow_t _ZnamRKSt9nothrow_t
_ZdlPv _ZdaPv _ZdlPvRKSt9nothrow_t _ZdaPvRKSt9nothrow_t _ZdlPvm _ZdaPvm"
# ... and with std::align_val_t (C++17).
cxx_aligned_ops="_ZnwmSt11align_val_t _ZnamSt11align_val_t
_ZnwmSt11align_val_tRKSt9nothrow_t _ZnamSt11align_val_tRKSt9nothrow_t
_ZdlPvSt11align_val_t _ZdaPvSt11align_val_t
_ZdlPvSt11align_val_tRKSt9nothrow_t _ZdaPvSt11align_val_tRKSt9nothrow_t
_ZdlPvmSt11align_val_t _ZdaPvmSt11align_val_t"
cxx_expected=""
if [ "$cxx" = 1 ]; then
	cxx_expected=$cxx_ops
	[ "$cxx_aligned" = 1 ] && cxx_expected="$cxx_expected $cxx_aligned_ops"
fi

if [ -z "$so" ] || [ ! -f "$so" ]; then
	fail exports "JEMALLOC_SO ('$so') is not a file"
	exit 1
fi
if ! command -v nm >/dev/null 2>&1; then
	skip exports "nm not found"
	exit 0
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/jesyms.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM HUP

if ! nm -D --defined-only "$so" > "$tmp/nm" 2> "$tmp/nm.err"; then
	fail exports "nm -D failed: $(cat "$tmp/nm.err")"
	exit 1
fi

# "ADDR TYPE NAME[@VERSION]" -> "NAME TYPE" for the symbol types we check.
awk 'NF >= 3 && $2 ~ /^[TWDBVi]$/ {
	n = $3; sub(/@.*/, "", n); print n, $2
}' "$tmp/nm" | sort -u > "$tmp/typed"
cut -d' ' -f1 "$tmp/typed" | sort -u > "$tmp/actual"

{
	for s in $public; do echo "$p$s"; done
	if [ -z "$p" ]; then
		for s in $glibc; do echo "$s"; done
	fi
	for s in $cxx_expected; do echo "$s"; done
} | sort -u > "$tmp/expected"

# 1. Every public name is exported.
missing=""
for s in $public; do
	grep -qx "$p$s" "$tmp/actual" || missing="$missing $p$s"
done
if [ -z "$missing" ]; then
	pass public
else
	fail public "missing public symbols:$missing"
fi

# 2. The glibc override names: all present without a prefix, none with one.
if [ -z "$p" ]; then
	missing=""
	for s in $glibc; do
		grep -qx "$s" "$tmp/actual" || missing="$missing $s"
	done
	if [ -z "$missing" ]; then
		pass glibc_overrides
	else
		fail glibc_overrides "missing glibc override symbols:$missing"
	fi
else
	present=""
	for s in $glibc; do
		grep -qx "$s" "$tmp/actual" && present="$present $s"
	done
	if [ -z "$present" ]; then
		pass glibc_overrides
	else
		fail glibc_overrides "prefixed build exports glibc names:$present"
	fi
fi

# 2b. The C++ operators: all present with C++ (standard names whatever the
# prefix), no C++ symbol at all without it.
if [ "$cxx" = 1 ]; then
	missing=""
	for s in $cxx_expected; do
		grep -qx "$s" "$tmp/actual" || missing="$missing $s"
	done
	if [ -z "$missing" ]; then
		pass cxx_operators
	else
		fail cxx_operators "missing C++ operators:$missing"
	fi
else
	present=$(grep '^_Z' "$tmp/actual" | tr '\n' ' ')
	if [ -z "$present" ]; then
		pass cxx_operators
	else
		fail cxx_operators "built without C++ but exports:$present"
	fi
fi

# 2c. No other C++ symbol leaks (typeinfo _ZTI/_ZTS, vtables _ZTV, std::
# templates and inlines _ZNSt..., _ZSt...).
leaks=""
for s in $(grep '^_Z' "$tmp/actual"); do
	grep -qx "$s" "$tmp/expected" || leaks="$leaks $s"
done
if [ -z "$leaks" ]; then
	pass cxx_no_leaks
else
	fail cxx_no_leaks "C++ symbols exported beyond the operators:$leaks"
fi

# 3. Nothing else is exported.
comm -13 "$tmp/expected" "$tmp/actual" > "$tmp/unexpected"
if [ ! -s "$tmp/unexpected" ]; then
	pass no_unexpected
else
	fail no_unexpected "unexpected exported symbols:" \
	    "$(tr '\n' ' ' < "$tmp/unexpected")"
fi

# 4. Data symbols are objects, functions are code.
bad=""
while read -r sym type; do
	is_data=0
	for d in $data; do
		[ "$p$d" = "$sym" ] && is_data=1
	done
	grep -qx "$sym" "$tmp/expected" || continue
	case "$is_data:$type" in
	1:[DBV]|0:[TWi]) ;;
	*) bad="$bad $sym($type)" ;;
	esac
done < "$tmp/typed"
if [ -z "$bad" ]; then
	pass symbol_types
else
	fail symbol_types "symbols of the wrong kind:$bad"
fi

# 5. The prefixed build does not export the plain malloc names.
if [ -n "$p" ]; then
	plain=""
	for s in malloc free calloc realloc posix_memalign aligned_alloc \
	    memalign valloc malloc_usable_size; do
		grep -qx "$s" "$tmp/actual" && plain="$plain $s"
	done
	if [ -z "$plain" ]; then
		pass no_plain_names
	else
		fail no_plain_names "prefixed build exports:$plain"
	fi
fi

# 6. The C++ runtime: needed (dynamically, so that the operators share the
# application's new_handler) with C++, not needed without it.
if command -v readelf >/dev/null 2>&1; then
	needed=$(readelf -d "$so" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
	case "$cxx: $needed" in
	1:*libstdc++*|1:*libc++*) pass cxx_runtime ;;
	1:*) fail cxx_runtime "built with C++ but does not need a C++ runtime: $needed" ;;
	*libstdc++*|*libc++.*) fail cxx_runtime "built without C++ but needs: $needed" ;;
	*) pass cxx_runtime ;;
	esac
else
	skip cxx_runtime "readelf not found"
fi

# 7. The soname is libjemalloc.so.2.
if command -v readelf >/dev/null 2>&1; then
	if readelf -d "$so" 2>/dev/null | grep -q 'SONAME.*\[libjemalloc\.so\.2\]'; then
		pass soname
	else
		fail soname "SONAME is not libjemalloc.so.2"
	fi
else
	skip soname "readelf not found"
fi

exit $failed
