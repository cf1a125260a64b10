#!/bin/sh
# C++ programs get this library's operators new and delete:
#   preload      a program built with plain $CXX (neither our header nor
#                our library) run with LD_PRELOAD=$JEMALLOC_SO: operator
#                new is libjemalloc's (dladdr), new/delete move
#                thread.allocated/deallocated (mallctl found with dlsym)
#                by the usable sizes, bad_alloc is thrown, and the output
#                matches a run without the library;
#   stats_print  the same program with ${JE_CPREFIX}MALLOC_CONF=
#                stats_print:true prints the library's statistics at exit;
#   shared       the program linked with -ljemalloc;
#   static       the program linked with $JEMALLOC_A (the archive's C++
#                member comes in; it calls mallctl directly);
#   compiler     $CXX itself (cc1plus, a large C++ program) preloaded
#                builds the program, and that program's output is right.
# The operators keep their standard names in a prefixed build too, so
# every check runs there as well.  Skipped when the library was built
# without C++ (--disable-cxx) or no C++ compiler works.
#
# Environment: JEMALLOC_SO, JEMALLOC_A, JE_PREFIX, JE_CPREFIX, JE_CXX, CXX,
# CXX_STD, TOP, TEST_MODE.

name=programs/cxx_preload
so=${JEMALLOC_SO:-}
ar=${JEMALLOC_A:-}
top=${TOP:-.}
p=${JE_PREFIX:-}
var="${JE_CPREFIX:-}MALLOC_CONF"
failed=0

pass() { echo "pass: $name/$1"; }
fail() { echo "fail: $name/$1"; shift; [ $# -gt 0 ] && echo "$name: $*" >&2; failed=1; }
skip() { echo "skip: $name/$1"; shift; echo "$name: skipped: $*" >&2; }

checks="preload stats_print shared static compiler"
skip_all() {
	for c in $checks; do skip "$c" "$1"; done
	exit 0
}

[ "${JE_CXX:-0}" = 1 ] || skip_all "library built without C++ operators (--disable-cxx or no C++ compiler)"
cxx=${CXX:-}
if [ -z "$cxx" ]; then
	for cand in c++ g++ clang++; do
		if command -v "$cand" >/dev/null 2>&1; then
			cxx=$cand
			break
		fi
	done
fi
[ -n "$cxx" ] && command -v "$cxx" >/dev/null 2>&1 ||
    skip_all "no C++ compiler ('${CXX:-}', c++, g++, clang++)"
if [ -z "$so" ] || [ ! -f "$so" ]; then
	fail preload "JEMALLOC_SO ('$so') is not a file"
	exit 1
fi
std=${CXX_STD:-c++17}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/jecxx.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM HUP

limit=120
[ "${TEST_MODE:-short}" = long ] && limit=600
TO=""
command -v timeout >/dev/null 2>&1 && TO="timeout $limit"

# The program: "work" prints a checksum of a container workload (the same
# with or without the library); "check" also verifies, through mallctl,
# that the operators are this library's.  With -DDIRECT (static link) it
# calls mallctl through our header instead of dlsym.
cat > "$tmp/prog.cpp" <<'EOF'
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <new>
#include <string>
#include <unordered_map>
#include <vector>

#include <dlfcn.h>

#ifdef DIRECT
#define JEMALLOC_MANGLE
#include <jemalloc/jemalloc.h>
#endif

typedef int (mallctl_t)(const char *, void *, size_t *, void *, size_t);

static int errors;
#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "line %d: check failed: %s\n", __LINE__, #cond); \
		errors++;						\
	}								\
} while (0)

static void *
escape(void *p) {
	__asm__ volatile("" : : "r"(p) : "memory");
	return p;
}

static volatile size_t huge = (size_t)-1 / 2;

static unsigned long
workload() {
	unsigned long sum = 0, seed = 99;
	std::vector<std::string> v;
	for (int i = 0; i < 200000; i++) {
		seed = seed * 6364136223846793005UL + 1442695040888963407UL;
		v.push_back(std::string((seed >> 33) % 100 + 1, 'a' + i % 26) +
		    std::to_string(i));
	}
	std::sort(v.begin(), v.end());
	std::map<std::string, int> m;
	std::unordered_map<int, std::unique_ptr<std::vector<int>>> u;
	for (size_t i = 0; i < v.size(); i += 3) {
		m[v[i]] = (int)i;
		u[(int)i].reset(new std::vector<int>(i % 50, (int)i));
	}
	for (const auto &kv : m)
		sum = sum * 31 + kv.first.size() + (unsigned long)kv.second;
	for (size_t i = 0; i < v.size(); i += 3)
		sum += u[(int)i]->size();
	try {
		char *big = new char[huge];
		escape(big);
		sum = 0;
	} catch (const std::bad_alloc &) {
		sum += 1;
	}
	return sum;
}

int
main(int argc, char **argv) {
	bool check = argc > 1 && strcmp(argv[1], "check") == 0;
	const char *mname = argc > 2 ? argv[2] : "mallctl";
	if (check) {
#ifdef DIRECT
		(void)mname;
		mallctl_t *ctl = mallctl;
#else
		mallctl_t *ctl = (mallctl_t *)dlsym(RTLD_DEFAULT, mname);
		if (ctl == NULL) {
			fprintf(stderr, "%s not found\n", mname);
			return 2;
		}
		void *(*op)(std::size_t) = &::operator new;
		Dl_info info;
		CHECK(dladdr((void *)op, &info) != 0 && info.dli_fname != NULL &&
		    strstr(info.dli_fname, "libjemalloc") != NULL);
#endif
		uint64_t *ap = NULL, *dp = NULL;
		size_t sz = sizeof(ap);
		CHECK(ctl("thread.allocatedp", &ap, &sz, NULL, 0) == 0);
		sz = sizeof(dp);
		CHECK(ctl("thread.deallocatedp", &dp, &sz, NULL, 0) == 0);
		if (ap == NULL || dp == NULL)
			return 1;
		static const size_t sizes[] = {1, 100, 4000, 40000, 1 << 20};
		for (size_t i = 0; i < 5; i++) {
			uint64_t a0 = *ap, d0 = *dp;
			char *c = new char[sizes[i]];
			escape(c);
			c[sizes[i] - 1] = 1;
			uint64_t grown = *ap - a0;
			CHECK(grown >= sizes[i] && grown < sizes[i] + sizes[i] / 4 + 16);
			delete[] c;
			CHECK(*dp - d0 == grown);
			a0 = *ap;
			d0 = *dp;
			void *q = ::operator new(sizes[i]);
			escape(q);
			CHECK(*ap - a0 == grown);
			::operator delete(q, sizes[i]);
			CHECK(*dp - d0 == grown);
		}
#if defined(__cpp_aligned_new)
		{
			uint64_t a0 = *ap, d0 = *dp;
			void *q = ::operator new(10, std::align_val_t(4096));
			escape(q);
			CHECK(((uintptr_t)q & 4095) == 0);
			uint64_t grown = *ap - a0;
			CHECK(grown >= 4096);
			::operator delete(q, 10, std::align_val_t(4096));
			CHECK(*dp - d0 == grown);
		}
#endif
	}
	unsigned long sum = workload();
	if (errors != 0)
		return 1;
	printf("cxx %lu\n", sum);
	return 0;
}
EOF

# Builds $tmp/$1 from prog.cpp with the rest of the arguments; the
# compiler's output goes to $tmp/$1.cc.
build() {
	out=$1
	shift
	env -u LD_PRELOAD "$cxx" -std="$std" -O2 -o "$tmp/$out" "$tmp/prog.cpp" \
	    "$@" > "$tmp/$out.cc" 2>&1
}

printf '#include <new>\nint main() { delete new int(0); return 0; }\n' > "$tmp/hello.cpp"
if ! env -u LD_PRELOAD "$cxx" -std="$std" -o "$tmp/hello" "$tmp/hello.cpp" \
    > "$tmp/hello.cc" 2>&1; then
	skip_all "'$cxx' cannot build a C++ program: $(head -c 500 "$tmp/hello.cc")"
fi
if ! build plain -ldl; then
	fail preload "cannot build the test program: $(head -c 1500 "$tmp/plain.cc")"
	exit 1
fi
if ! env -u LD_PRELOAD $TO "$tmp/plain" > "$tmp/plain.out" 2> "$tmp/plain.err"; then
	skip_all "the test program fails without the library: $(head -c 300 "$tmp/plain.err")"
fi

# check NAME OUT ERR STATUS: the program's run succeeded with the output
# of the plain run and no allocator message.
check_run() {
	if [ "$4" -ne 0 ]; then
		fail "$1" "status $4: $(tail -c 600 "$3")"
	elif ! cmp -s "$tmp/plain.out" "$2"; then
		fail "$1" "output '$(head -c 200 "$2")' vs '$(cat "$tmp/plain.out")'"
	elif grep -q '<jemalloc>' "$3"; then
		fail "$1" "allocator messages: $(grep '<jemalloc>' "$3" | head -5)"
	else
		return 0
	fi
	return 1
}

# --- preload --------------------------------------------------------------------
LD_PRELOAD="$so" $TO "$tmp/plain" check "${p}mallctl" > "$tmp/pre.out" 2> "$tmp/pre.err"
check_run preload "$tmp/pre.out" "$tmp/pre.err" $? && pass preload

# --- stats_print ----------------------------------------------------------------
env "$var=stats_print:true" LD_PRELOAD="$so" $TO "$tmp/plain" \
    > "$tmp/stats.out" 2> "$tmp/stats.err"
rc=$?
if [ $rc -ne 0 ]; then
	fail stats_print "status $rc: $(tail -c 300 "$tmp/stats.err")"
elif ! cat "$tmp/stats.out" "$tmp/stats.err" | grep -q '___ Begin jemalloc statistics ___'; then
	fail stats_print "no statistics printed at exit with $var=stats_print:true"
elif ! grep -qx "$(cat "$tmp/plain.out")" "$tmp/stats.out"; then
	fail stats_print "program output missing: $(head -c 200 "$tmp/stats.out")"
else
	pass stats_print
fi

# --- shared ---------------------------------------------------------------------
libdir=$(dirname "$so")
if ! build shared -L"$libdir" -Wl,-rpath,"$libdir" -ljemalloc -ldl; then
	fail shared "cannot link with -ljemalloc: $(head -c 1000 "$tmp/shared.cc")"
else
	env -u LD_PRELOAD $TO "$tmp/shared" check "${p}mallctl" > "$tmp/shared.out" 2> "$tmp/shared.err"
	check_run shared "$tmp/shared.out" "$tmp/shared.err" $? && pass shared
fi

# --- static ---------------------------------------------------------------------
# Besides the archive: what jemalloc-config says (a profiling build adds
# its unwinder and libm).
static_libs="-lpthread -ldl"
if [ -x "$top/bin/jemalloc-config" ]; then
	static_libs=$("$top/bin/jemalloc-config" --libs | sed 's/-ljemalloc//')
fi
if [ -z "$ar" ] || [ ! -f "$ar" ]; then
	fail static "JEMALLOC_A ('$ar') is not a file"
elif ! build static -DDIRECT -I"$top/include" "$ar" $static_libs; then
	fail static "cannot link against $ar: $(head -c 1500 "$tmp/static.cc")"
elif command -v nm >/dev/null 2>&1 &&
    ! nm "$tmp/static" 2>/dev/null | grep -q ' jemalloc_cxx_malloc$'; then
	fail static "the archive's C++ member was not linked in"
else
	env -u LD_PRELOAD $TO "$tmp/static" check > "$tmp/static.out" 2> "$tmp/static.err"
	check_run static "$tmp/static.out" "$tmp/static.err" $? && pass static
fi

# --- compiler -------------------------------------------------------------------
if ! LD_PRELOAD="$so" $TO "$cxx" -std="$std" -O2 -o "$tmp/byjem" "$tmp/prog.cpp" -ldl \
    > "$tmp/comp.out" 2> "$tmp/comp.err"; then
	fail compiler "preloaded '$cxx' failed: $(tail -c 600 "$tmp/comp.err")"
elif grep -q '<jemalloc>' "$tmp/comp.err"; then
	fail compiler "allocator messages from '$cxx': $(grep '<jemalloc>' "$tmp/comp.err" | head -5)"
else
	LD_PRELOAD="$so" $TO "$tmp/byjem" check "${p}mallctl" > "$tmp/byjem.out" 2> "$tmp/byjem.err"
	check_run compiler "$tmp/byjem.out" "$tmp/byjem.err" $? && pass compiler
fi

exit $failed
