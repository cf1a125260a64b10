# Makefile for the jemalloc 5.1.0 re-implementation.  Run ./configure first.

ifeq ($(wildcard config.mk),)
$(error run ./configure first)
endif
include config.mk

SHELL = /bin/sh
SO_NAME = libjemalloc.so.2

# Library sources: one module per .c/.h pair in src/.
LIB_SRCS := $(sort $(wildcard src/*.c))
LIB_OBJS := $(patsubst src/%.c,build/src/%.o,$(LIB_SRCS))
# The C++ operators (src/jemalloc_cpp.cpp), when configure found a C++
# compiler; the shared library then links with $(CXX), i.e. against the
# C++ runtime (std::bad_alloc, std::get_new_handler, the unwinder).
ifeq ($(enable_cxx),1)
LIB_CXX_OBJS := build/src/jemalloc_cpp.o
LIB_LD = $(CXX)
else
LIB_CXX_OBJS :=
LIB_LD = $(CC)
endif
LIB_HDRS := $(wildcard src/*.h) include/jemalloc/jemalloc.h \
	include/jemalloc/internal/jemalloc_internal_defs.h \
	include/jemalloc/internal/size_classes.h

WARN = -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers \
	-Wshadow -Wpointer-arith -Wstrict-prototypes -Wmissing-prototypes
LIB_CFLAGS = -std=gnu11 $(CFLAGS) $(PROF_CFLAGS) $(EXTRA_CFLAGS) $(WARN) -fPIC \
	-fvisibility=hidden -pthread -D_GNU_SOURCE -D_REENTRANT \
	-fno-builtin-malloc -fno-builtin-calloc -fno-builtin-free \
	-fno-builtin-realloc \
	$(CPPFLAGS) -iquote src -Iinclude
LIB_LDLIBS = -pthread -ldl $(PROF_LIBS)
# No -fno-exceptions: operator new throws std::bad_alloc.  Hidden by
# default like the C code; the operators carry default visibility, and
# -fvisibility-inlines-hidden keeps instantiated library inlines local.
LIB_CXXFLAGS = -std=$(cxx_std) $(CXXFLAGS) -Wall -Wextra \
	-Wno-unused-parameter -fPIC -fvisibility=hidden \
	-fvisibility-inlines-hidden -pthread -D_GNU_SOURCE -D_REENTRANT \
	$(CPPFLAGS) -iquote src -Iinclude

TEST_CFLAGS = -std=gnu11 $(CFLAGS) $(EXTRA_CFLAGS) -Wall -Wextra \
	-Wno-unused-parameter -pthread -D_GNU_SOURCE $(CPPFLAGS) \
	-Iinclude -iquote test/include
TEST_CXXFLAGS = -std=$(cxx_std) $(CXXFLAGS) -Wall -Wextra \
	-Wno-unused-parameter -pthread -D_GNU_SOURCE $(CPPFLAGS) \
	-Iinclude -iquote test/include
TEST_RPATH = -Wl,-rpath,$(CURDIR)/lib

UNIT_SRCS := $(sort $(wildcard test/unit/*.c))
INTEGRATION_SRCS := $(sort $(wildcard test/integration/*.c))
INTEGRATION_CXX_SRCS := $(sort $(wildcard test/integration/*.cpp))
STRESS_SRCS := $(sort $(wildcard test/stress/*.c))
PROGRAM_TESTS := $(sort $(wildcard test/programs/*.sh))
TEST_HARNESS := $(wildcard test/src/*.c)
UNIT_BINS := $(patsubst test/%.c,build/test/%,$(UNIT_SRCS))
INTEGRATION_BINS := $(patsubst test/%.c,build/test/%,$(INTEGRATION_SRCS)) \
	$(patsubst test/%.cpp,build/test/%,$(INTEGRATION_CXX_SRCS))
STRESS_BINS := $(patsubst test/%.c,build/test/%,$(STRESS_SRCS))
TEST_BINS := $(UNIT_BINS) $(INTEGRATION_BINS) $(STRESS_BINS)

.PHONY: all lib tests check check-unit check-integration check-stress \
	check-programs install uninstall clean distclean demo stress

all: lib build/demo

lib: lib/$(SO_NAME) lib/libjemalloc.so lib/libjemalloc.a

# --- generated headers -------------------------------------------------------
build/gen_size_classes: tools/gen_size_classes.c config.mk
	@mkdir -p build
	$(CC) -O1 -o $@ $<

include/jemalloc/internal/size_classes.h: build/gen_size_classes
	./build/gen_size_classes $(lg_page) > $@.tmp && mv $@.tmp $@

# --- the library ---------------------------------------------------------------
build/src/%.o: src/%.c $(LIB_HDRS)
	@mkdir -p build/src
	$(CC) $(LIB_CFLAGS) -c -o $@ $<

build/src/%.o: src/%.cpp $(LIB_HDRS)
	@mkdir -p build/src
	$(CXX) $(LIB_CXXFLAGS) -c -o $@ $<

lib/$(SO_NAME): $(LIB_OBJS) $(LIB_CXX_OBJS)
	@mkdir -p lib
	$(LIB_LD) -shared -Wl,-soname,$(SO_NAME) -Wl,-z,now $(LDFLAGS) -o $@ \
		$(LIB_OBJS) $(LIB_CXX_OBJS) $(LIB_LDLIBS)

lib/libjemalloc.so: lib/$(SO_NAME)
	ln -sf $(SO_NAME) $@

# The archive holds one relocatable object in which every hidden symbol is
# made local, so static linking cannot clash with an application's names.
# The C++ operators are a second member, linked only into programs that
# use them (a C program needs no C++ runtime); the hidden entry points it
# calls (src/jemalloc_cpp.h) stay global for it.
CXX_BRIDGES = jemalloc_cxx_malloc jemalloc_cxx_free jemalloc_cxx_mallocx \
	jemalloc_cxx_sdallocx

lib/libjemalloc.a: $(LIB_OBJS) $(LIB_CXX_OBJS)
	@mkdir -p lib build
	ld -r -o build/jemalloc_all.o $(LIB_OBJS)
	objcopy --localize-hidden build/jemalloc_all.o
ifeq ($(enable_cxx),1)
	objcopy $(addprefix --globalize-symbol=,$(CXX_BRIDGES)) \
		build/jemalloc_all.o
endif
	rm -f $@
	ar rcs $@ build/jemalloc_all.o $(LIB_CXX_OBJS)

# --- demo ----------------------------------------------------------------------
build/demo: tools/demo.c lib/$(SO_NAME)
	$(CC) $(TEST_CFLAGS) -o $@ $< -Llib -ljemalloc $(TEST_RPATH)

demo: all
	./build/demo

# --- tests ---------------------------------------------------------------------
build/test/unit/%: test/unit/%.c $(LIB_OBJS) $(TEST_HARNESS) test/include/test.h
	@mkdir -p build/test/unit
	$(CC) $(TEST_CFLAGS) -iquote src -DJEMALLOC_UNIT_TEST -o $@ $< \
		$(TEST_HARNESS) $(LIB_OBJS) $(LIB_LDLIBS) -lm

build/test/integration/%: test/integration/%.c lib/$(SO_NAME) lib/libjemalloc.so $(TEST_HARNESS) test/include/test.h
	@mkdir -p build/test/integration
	$(CC) $(TEST_CFLAGS) -o $@ $< $(TEST_HARNESS) -Llib -ljemalloc \
		$(TEST_RPATH) -ldl -lm

# C++ tests: the harness is compiled as C, the test with $(CXX).  Without
# C++ (--disable-cxx) each one is a script that reports a skip.
HARNESS_OBJS := $(patsubst test/src/%.c,build/test/src/%.o,$(TEST_HARNESS))
.SECONDARY: $(HARNESS_OBJS)
build/test/src/%.o: test/src/%.c test/include/test.h
	@mkdir -p build/test/src
	$(CC) $(TEST_CFLAGS) -c -o $@ $<

ifeq ($(enable_cxx),1)
build/test/integration/%: test/integration/%.cpp lib/$(SO_NAME) lib/libjemalloc.so $(HARNESS_OBJS) test/include/test.h
	@mkdir -p build/test/integration
	$(CXX) $(TEST_CXXFLAGS) -o $@ $< $(HARNESS_OBJS) -Llib \
		-ljemalloc $(TEST_RPATH) -ldl
else
build/test/integration/%: test/integration/%.cpp config.mk
	@mkdir -p build/test/integration
	printf '#!/bin/sh\necho "skip: %s/all"\necho "%s: skipped: built with --disable-cxx" >&2\n' \
		$* $* > $@
	chmod +x $@
endif

build/test/stress/%: test/stress/%.c lib/$(SO_NAME) lib/libjemalloc.so $(TEST_HARNESS) test/include/test.h
	@mkdir -p build/test/stress
	$(CC) $(TEST_CFLAGS) -o $@ $< $(TEST_HARNESS) -Llib -ljemalloc \
		$(TEST_RPATH) -ldl -lm

tests: lib $(TEST_BINS)

TEST_ENV = JEMALLOC_SO=$(CURDIR)/lib/$(SO_NAME) JEMALLOC_A=$(CURDIR)/lib/libjemalloc.a \
	JE_PREFIX=$(je_prefix) JE_CPREFIX=$(je_cprefix) JE_DEBUG=$(enable_debug) \
	JE_STATS=$(enable_stats) JE_FILL=$(enable_fill) CC="$(CC)" \
	JE_CXX=$(enable_cxx) JE_CXX_ALIGNED=$(cxx_aligned_new) CXX="$(CXX)" \
	CXX_STD=$(cxx_std) \
	TOP=$(CURDIR) TEST_MODE=$${TEST_MODE:-short}

check: tests
	@$(TEST_ENV) sh test/run.sh $(UNIT_BINS) $(INTEGRATION_BINS) $(STRESS_BINS) $(PROGRAM_TESTS)

check-unit: tests
	@$(TEST_ENV) sh test/run.sh $(UNIT_BINS)
check-integration: tests
	@$(TEST_ENV) sh test/run.sh $(INTEGRATION_BINS)
check-stress: tests
	@$(TEST_ENV) sh test/run.sh $(STRESS_BINS)
check-programs: tests
	@$(TEST_ENV) sh test/run.sh $(PROGRAM_TESTS)

# Long soak of the stress tests.
stress: tests
	@$(TEST_ENV) TEST_MODE=long sh test/run.sh $(STRESS_BINS)

# --- install -------------------------------------------------------------------
install: lib
	install -d $(DESTDIR)$(libdir) $(DESTDIR)$(includedir)/jemalloc \
		$(DESTDIR)$(bindir) $(DESTDIR)$(libdir)/pkgconfig
	install -m 755 lib/$(SO_NAME) $(DESTDIR)$(libdir)/$(SO_NAME)
	ln -sf $(SO_NAME) $(DESTDIR)$(libdir)/libjemalloc.so
	install -m 644 lib/libjemalloc.a $(DESTDIR)$(libdir)/libjemalloc.a
	install -m 644 include/jemalloc/jemalloc.h $(DESTDIR)$(includedir)/jemalloc/jemalloc.h
	install -m 644 jemalloc.pc $(DESTDIR)$(libdir)/pkgconfig/jemalloc.pc
	install -m 755 bin/jemalloc-config $(DESTDIR)$(bindir)/jemalloc-config
	install -m 755 bin/jeprof-report $(DESTDIR)$(bindir)/jeprof-report

uninstall:
	rm -f $(DESTDIR)$(libdir)/$(SO_NAME) $(DESTDIR)$(libdir)/libjemalloc.so \
		$(DESTDIR)$(libdir)/libjemalloc.a \
		$(DESTDIR)$(includedir)/jemalloc/jemalloc.h \
		$(DESTDIR)$(libdir)/pkgconfig/jemalloc.pc \
		$(DESTDIR)$(bindir)/jemalloc-config $(DESTDIR)$(bindir)/jeprof-report

clean:
	rm -rf build lib

distclean: clean
	rm -f config.mk jemalloc.pc bin/jemalloc-config include/jemalloc/jemalloc.h \
		include/jemalloc/internal/jemalloc_internal_defs.h \
		include/jemalloc/internal/size_classes.h

# ==== benchmark suite (bench/) =========================================
# Appended block; see bench/README.md.  `make bench` measures ours against
# glibc, jemalloc 5.3, mimalloc and tcmalloc (BENCH_ROUNDS=N, BENCH_ONLY=...,
# BENCH_ALLOCS=..., BENCH_CALLGRIND=0 are passed through to bench/run.py);
# `make bench-quick` only checks that every workload runs correctly.
BENCH_NAMES := microbench larson prodcons falseshare rptest mstress large frag
BENCH_BINS := $(addprefix build/bench/,$(BENCH_NAMES)) build/bench/launch
BENCH_PYTHON ?= python3

build/bench/launch: bench/launch.c
	@mkdir -p build/bench
	$(CC) -O2 -o $@ $<

build/bench/%: bench/%.c bench/bench_common.h
	@mkdir -p build/bench
	$(CC) -O2 -pthread -o $@ $< -ldl -lm

bench-bins: $(BENCH_BINS)

bench: lib bench-bins
	$(BENCH_PYTHON) bench/run.py

bench-quick: lib bench-bins
	$(BENCH_PYTHON) bench/run.py --quick

.PHONY: bench bench-quick bench-bins
# ==== end of benchmark suite block =====================================

# ==== sanitizer runs and API fuzzer (test/sanitize.sh, test/fuzz/) ======
# Appended block.  `make check-sanitize` builds three copies of the tree
# under a temporary directory (this build is not touched) and runs the
# suite under UBSan (default configuration, whole suite), ASan and TSan
# (--with-jemalloc-prefix=je_); it ends with "N passed, N failed".
# `make fuzz` builds a prefixed copy with clang and runs the libFuzzer
# target test/fuzz/fuzz_api.c for FUZZ_SECONDS (60) on test/fuzz/corpus;
# `make fuzz-quick` runs it for 20 s.  Output goes to build/fuzz/.
FUZZ_SECONDS ?= 60

check-sanitize:
	sh test/sanitize.sh

fuzz:
	sh test/fuzz/run.sh $(FUZZ_SECONDS)

fuzz-quick:
	sh test/fuzz/run.sh 20

.PHONY: check-sanitize fuzz fuzz-quick
# ==== end of sanitizer and fuzzer block ================================

# ==== RSS decay benchmark (bench/rss_decay.c, bench/rss_decay.py) =======
# Appended block (issue 5).  `make bench-rss` builds a heap of mixed sizes
# (16 B .. 1 MiB), frees 90% of it and samples RSS for twice the decay time
# under ours and jemalloc 5.3 with the same MALLOC_CONF (cases: defaults +
# light activity, background_thread:true + light activity,
# background_thread:true + sleep); it reports whether ours reaches
# live x 1.1 + 16 MiB within that time and writes
# bench/results/rss_decay.{csv,md,png}.
#   RSS_DECAY_MS=N   dirty_decay_ms:N,muzzy_decay_ms:N for both allocators
#                    (default: each allocator's own defaults, window 20 s)
#   RSS_SIZE_MIB=N   heap size (default 1024; 64 for a quick run)
RSS_SIZE_MIB ?= 1024
RSS_DECAY_MS ?=

bench-rss: lib build/bench/rss_decay
	$(or $(BENCH_PYTHON),python3) bench/rss_decay.py --size-mib $(RSS_SIZE_MIB) \
		$(if $(RSS_DECAY_MS),--decay-ms $(RSS_DECAY_MS))

.PHONY: bench-rss
# ==== end of RSS decay benchmark block ==================================
