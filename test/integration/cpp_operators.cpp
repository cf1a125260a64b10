/*
 * The C++ operators new and delete (src/jemalloc_cpp.cpp), through the
 * shared library, in every build (prefixed too: the operators keep their
 * standard names).  Counts come from thread.allocatedp/deallocatedp, which
 * grow by the usable size of each allocation and deallocation made by this
 * library, so they show which function served a call.
 *
 * - ours: operator new resolves to libjemalloc, and new/delete move the
 *   thread's counters.
 * - sizes: operator new/delete and new[]/delete[] over the size classes
 *   (1 B .. 4 MiB): usable size = nallocx, contents kept, counters exact.
 * - expressions: new/delete expressions of objects and arrays (with a
 *   destructor, so with an array cookie), sized by the compiler.
 * - new_zero: new(0) (all forms) gives distinct non-null pointers.
 * - nothrow_null: the nothrow forms return nullptr on absurd sizes and
 *   alignments, without a new_handler.
 * - throws_bad_alloc: the throwing forms throw std::bad_alloc.
 * - handler_loop: a new_handler is called until it uninstalls itself
 *   (then bad_alloc / nullptr); a handler's own exception leaves a
 *   throwing new as it is and makes a nothrow new return nullptr.
 * - handler_retry (forked child): under mem_limit.hard, a new that does
 *   not fit calls the handler, which frees a reserve and uninstalls
 *   itself; the retry succeeds.
 * - sized_delete: delete(ptr, size) and delete[](ptr, size) count the
 *   usable size of the size passed (sdallocx): a large object deleted
 *   with a smaller size in the release build counts that size's class
 *   (free would count the real one); the debug build stops on the
 *   mismatch, naming sdallocx.  Sized delete of nullptr does nothing.
 * - aligned: C++17 aligned new/new[]/nothrow for alignments 64 B .. 1 MiB
 *   give aligned pointers of nallocx(size, MALLOCX_ALIGN(a)) bytes; sized
 *   aligned deletes count that size, unsized ones the real size; over-
 *   aligned types through new expressions.
 * - threads: four threads mixing new/delete forms.
 */
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>

#include <dlfcn.h>
#include <pthread.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* After every standard header: with a prefix, malloc etc. become macros. */
#define JEMALLOC_MANGLE
#include <jemalloc/jemalloc.h>

#include "test.h"
#include "test_alloc.h"
#include "test_ctl.h"


#define KiB ((size_t)1 << 10)
#define MiB ((size_t)1 << 20)
/* No size class holds this; an mmap of it fails too. */
#define ABSURD (SIZE_MAX - 4 * KiB)

/* escape() (test_alloc.h) also keeps the compiler from pairing up and
 * removing new and delete. */

/* --- thread counters ------------------------------------------------------- */

/* thread.allocatedp / deallocatedp; null without statistics. */
static __thread uint64_t *allocp;
static __thread uint64_t *deallocp;

static bool
counters_init(void) {
	size_t sz = sizeof(allocp);
	if (mallctl("thread.allocatedp", &allocp, &sz, NULL, 0) != 0) {
		allocp = NULL;
		return false;
	}
	sz = sizeof(deallocp);
	if (mallctl("thread.deallocatedp", &deallocp, &sz, NULL, 0) != 0) {
		allocp = deallocp = NULL;
		return false;
	}
	return true;
}

static uint64_t
allocated(void) {
	return allocp != NULL ? *(volatile uint64_t *)allocp : 0;
}

static uint64_t
deallocated(void) {
	return deallocp != NULL ? *(volatile uint64_t *)deallocp : 0;
}

static bool
config_bool(const char *name) {
	bool v = false;
	size_t sz = sizeof(v);
	return mallctl(name, &v, &sz, NULL, 0) == 0 && v;
}

/* A sparse pattern (every 509th byte and the last), checked by intact(). */
static void
mark(void *p, size_t size, unsigned char seed) {
	if (size == 0)
		return;
	unsigned char *c = static_cast<unsigned char *>(p);
	for (size_t i = 0; i < size; i += 509)
		c[i] = (unsigned char)(seed + i);
	c[size - 1] = seed;
}

static bool
intact(const void *p, size_t size, unsigned char seed) {
	if (size == 0)
		return true;
	const unsigned char *c = static_cast<const unsigned char *>(p);
	for (size_t i = 0; i < size; i += 509) {
		if (i != size - 1 && c[i] != (unsigned char)(seed + i))
			return false;
	}
	return c[size - 1] == seed;
}

/* Sizes around the class boundaries, 1 B .. 4 MiB. */
static const size_t test_sizes[] = {
	1, 7, 8, 9, 16, 17, 48, 100, 128, 129, 512, 1000, 1024, 3000, 4096,
	4097, 8192, 14336, 14337, 16384, 20000, 65536, 100000, 1 * MiB,
	1 * MiB + 1, 3 * MiB, 4 * MiB
};
#define NSIZES_TESTED (sizeof(test_sizes) / sizeof(test_sizes[0]))

/* --- ours ------------------------------------------------------------------- */

TEST(ours) {
	void *(*op_new)(std::size_t) = &::operator new;
	Dl_info info;
	memset(&info, 0, sizeof(info));
	assertf(dladdr(reinterpret_cast<void *>(op_new), &info) != 0,
	    "dladdr(operator new) failed");
	expectf(info.dli_fname != NULL &&
	    strstr(info.dli_fname, "libjemalloc") != NULL,
	    "operator new is defined in %s, not libjemalloc",
	    info.dli_fname != NULL ? info.dli_fname : "(null)");
	void (*op_delete)(void *, std::size_t) = &::operator delete;
	memset(&info, 0, sizeof(info));
	expectf(dladdr(reinterpret_cast<void *>(op_delete), &info) != 0 &&
	    info.dli_fname != NULL &&
	    strstr(info.dli_fname, "libjemalloc") != NULL,
	    "operator delete(void *, size_t) is not libjemalloc's");

	if (!counters_init())
		test_skip("no thread.allocatedp (built without stats)");
	uint64_t a0 = allocated(), d0 = deallocated();
	int *ip = new int(42);
	escape(ip);
	expectf(allocated() - a0 == nallocx(sizeof(int), 0),
	    "new int: thread.allocated grew by %" PRIu64 ", not %zu",
	    allocated() - a0, nallocx(sizeof(int), 0));
	expectf(malloc_usable_size(ip) == nallocx(sizeof(int), 0),
	    "malloc_usable_size(new int) = %zu", malloc_usable_size(ip));
	delete ip;
	expectf(deallocated() - d0 == nallocx(sizeof(int), 0),
	    "delete: thread.deallocated grew by %" PRIu64,
	    deallocated() - d0);
}

/* --- sizes ------------------------------------------------------------------ */

TEST(sizes) {
	bool counters = counters_init();
	for (size_t i = 0; i < NSIZES_TESTED; i++) {
		size_t size = test_sizes[i];
		size_t usize = nallocx(size, 0);
		for (int form = 0; form < 4; form++) {
			uint64_t a0 = allocated();
			void *p;
			switch (form) {
			case 0: p = ::operator new(opaque(size)); break;
			case 1: p = ::operator new[](opaque(size)); break;
			case 2: p = ::operator new(opaque(size), std::nothrow);
				break;
			default: p = ::operator new[](opaque(size),
			    std::nothrow); break;
			}
			escape(p);
			assertf(p != NULL, "form %d, size %zu: NULL", form,
			    size);
			uint64_t a1 = allocated();
			expectf(malloc_usable_size(p) == usize,
			    "form %d, size %zu: usable %zu, nallocx %zu", form,
			    size, malloc_usable_size(p), usize);
			expectf(((uintptr_t)p & 15) == 0,
			    "form %d, size %zu: %p not 16-byte aligned", form,
			    size, p);
			if (counters)
				expectf(a1 - a0 == usize, "form %d, size %zu: "
				    "allocated +%" PRIu64 ", not %zu", form,
				    size, a1 - a0, usize);
			mark(p, size, (unsigned char)(i * 4 + form));
			expectf(intact(p, size, (unsigned char)(i * 4 + form)),
			    "form %d, size %zu: contents lost", form, size);
			uint64_t d0 = deallocated();
			switch (form) {
			case 0: ::operator delete(p); break;
			case 1: ::operator delete[](p); break;
			case 2: ::operator delete(p, std::nothrow); break;
			default: ::operator delete[](p, std::nothrow); break;
			}
			if (counters)
				expectf(deallocated() - d0 == usize,
				    "form %d, size %zu: deallocated +%" PRIu64
				    ", not %zu", form, size,
				    deallocated() - d0, usize);
		}
	}
	/* Many live objects at once: no overlap. */
	static void *live[2000];
	for (size_t i = 0; i < 2000; i++) {
		size_t size = 1 + (i * 37) % 3000;
		live[i] = ::operator new(size);
		mark(live[i], size, (unsigned char)i);
	}
	for (size_t i = 0; i < 2000; i++) {
		size_t size = 1 + (i * 37) % 3000;
		expectf(intact(live[i], size, (unsigned char)i),
		    "object %zu (%zu bytes) overwritten", i, size);
		::operator delete(live[i], size);
	}
}

/* --- expressions -------------------------------------------------------------- */

static int dtor_calls;

struct Counted {
	uint64_t v[5];
	Counted() { v[0] = 7; }
	~Counted() { dtor_calls++; }
};

TEST(expressions) {
	bool counters = counters_init();

	uint64_t a0 = allocated(), d0 = deallocated();
	Counted *c = new Counted;
	escape(c);
	expectf(c->v[0] == 7, "constructor did not run");
	if (counters)
		expectf(allocated() - a0 == nallocx(sizeof(Counted), 0),
		    "new Counted: +%" PRIu64, allocated() - a0);
	dtor_calls = 0;
	delete c;
	expectf(dtor_calls == 1, "destructor calls: %d", dtor_calls);
	if (counters)
		expectf(deallocated() - d0 == nallocx(sizeof(Counted), 0),
		    "delete Counted: +%" PRIu64, deallocated() - d0);

	/* Arrays with a destructor carry a cookie; sized delete[] passes
	 * the size with it, which must still map to the same class. */
	for (size_t n = 1; n <= 5000; n = n * 3 + 1) {
		a0 = allocated();
		d0 = deallocated();
		Counted *arr = new Counted[opaque(n)];
		escape(arr);
		uint64_t grown = allocated() - a0;
		for (size_t i = 0; i < n; i++)
			arr[i].v[1] = i;
		bool ok = true;
		for (size_t i = 0; i < n; i++)
			ok = ok && arr[i].v[0] == 7 && arr[i].v[1] == i;
		expectf(ok, "new Counted[%zu]: elements wrong", n);
		dtor_calls = 0;
		delete[] arr;
		expectf(dtor_calls == (int)n, "delete[] of %zu: %d destructors",
		    n, dtor_calls);
		if (counters) {
			expectf(grown >= n * sizeof(Counted) &&
			    grown == nallocx((size_t)grown, 0),
			    "new Counted[%zu]: +%" PRIu64, n, grown);
			expectf(deallocated() - d0 == grown,
			    "delete[] Counted[%zu]: +%" PRIu64 ", new took %"
			    PRIu64, n, deallocated() - d0, grown);
		}
	}

	/* Plain arrays. */
	for (size_t n = 1; n < 2 * MiB; n = n * 5 + 3) {
		char *s = new char[opaque(n)];
		escape(s);
		memset(s, 'x', n);
		expectf(malloc_usable_size(s) == nallocx(n, 0),
		    "new char[%zu]: usable %zu", n, malloc_usable_size(s));
		delete[] s;
	}
}

/* --- new(0) -------------------------------------------------------------------- */

TEST(new_zero) {
	void *p[8];
	p[0] = ::operator new(opaque(0));
	p[1] = ::operator new(opaque(0));
	p[2] = ::operator new[](opaque(0));
	p[3] = ::operator new(opaque(0), std::nothrow);
	p[4] = ::operator new[](opaque(0), std::nothrow);
	p[5] = new char[opaque(0)];
	int n = 6;
#ifdef __cpp_aligned_new
	p[6] = ::operator new(opaque(0), std::align_val_t(64));
	p[7] = ::operator new[](opaque(0), std::align_val_t(4096),
	    std::nothrow);
	n = 8;
#endif
	for (int i = 0; i < n; i++) {
		escape(p[i]);
		assertf(p[i] != NULL, "new(0), form %d: NULL", i);
		expectf(malloc_usable_size(p[i]) >= 1,
		    "new(0), form %d: usable size 0", i);
		for (int j = 0; j < i; j++)
			expectf(p[i] != p[j], "new(0): forms %d and %d both %p",
			    i, j, p[i]);
	}
	::operator delete(p[0]);
	::operator delete(p[1], (size_t)0);
	::operator delete[](p[2], (size_t)0);
	::operator delete(p[3], std::nothrow);
	::operator delete[](p[4]);
	delete[] static_cast<char *>(p[5]);
#ifdef __cpp_aligned_new
	::operator delete(p[6], (size_t)0, std::align_val_t(64));
	::operator delete[](p[7], std::align_val_t(4096));
#endif
}

/* --- failure without a handler -------------------------------------------------------- */

TEST(nothrow_null) {
	std::set_new_handler(nullptr);
	static const size_t sizes[] = {ABSURD, SIZE_MAX, SIZE_MAX / 2 + 1,
	    (size_t)0x7000000000000001ULL};
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t size = opaque(sizes[i]);
		expectf(::operator new(size, std::nothrow) == NULL,
		    "new(%#zx, nothrow) not NULL", size);
		expectf(::operator new[](size, std::nothrow) == NULL,
		    "new[](%#zx, nothrow) not NULL", size);
		expectf(escape(new (std::nothrow) char[size]) == NULL,
		    "new (nothrow) char[%#zx] not NULL", size);
#ifdef __cpp_aligned_new
		expectf(::operator new(size, std::align_val_t(64),
		    std::nothrow) == NULL,
		    "aligned new(%#zx, 64, nothrow) not NULL", size);
		expectf(::operator new[](size, std::align_val_t(1 << 20),
		    std::nothrow) == NULL,
		    "aligned new[](%#zx, 1 MiB, nothrow) not NULL", size);
#endif
	}
#ifdef __cpp_aligned_new
	/* An alignment no size class can meet (2^62). */
	expectf(::operator new(opaque(1), std::align_val_t((size_t)1 << 62),
	    std::nothrow) == NULL, "new(1, align 2^62, nothrow) not NULL");
#endif
}

/* Runs the call in a try block; which exception left it. */
enum caught_t { CAUGHT_NONE, CAUGHT_BAD_ALLOC, CAUGHT_OTHER };

template <typename F>
static caught_t
try_call(F f, void **out) {
	*out = NULL;
	try {
		*out = f();
	} catch (const std::bad_alloc &) {
		return CAUGHT_BAD_ALLOC;
	} catch (...) {
		return CAUGHT_OTHER;
	}
	return CAUGHT_NONE;
}

TEST(throws_bad_alloc) {
	std::set_new_handler(nullptr);
	static const size_t sizes[] = {ABSURD, SIZE_MAX, SIZE_MAX / 2 + 1};
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t size = opaque(sizes[i]);
		void *p;
		expectf(try_call([size] { return ::operator new(size); }, &p)
		    == CAUGHT_BAD_ALLOC && p == NULL,
		    "new(%#zx) did not throw bad_alloc", size);
		expectf(try_call([size] { return ::operator new[](size); },
		    &p) == CAUGHT_BAD_ALLOC && p == NULL,
		    "new[](%#zx) did not throw bad_alloc", size);
		/* bad_array_new_length is a bad_alloc too.  (escape: the
		 * compiler may drop a new expression whose result is only
		 * compared, and assume it succeeded.) */
		expectf(try_call([size] {
			return escape(new char[size]); }, &p)
		    == CAUGHT_BAD_ALLOC && p == NULL,
		    "new char[%#zx] did not throw bad_alloc", size);
#ifdef __cpp_aligned_new
		expectf(try_call([size] { return ::operator new(size,
		    std::align_val_t(256)); }, &p) == CAUGHT_BAD_ALLOC &&
		    p == NULL, "aligned new(%#zx) did not throw bad_alloc",
		    size);
		expectf(try_call([size] { return ::operator new[](size,
		    std::align_val_t(65536)); }, &p) == CAUGHT_BAD_ALLOC &&
		    p == NULL, "aligned new[](%#zx) did not throw bad_alloc",
		    size);
#endif
	}
	/* The process goes on allocating. */
	void *p = ::operator new(100);
	escape(p);
	::operator delete(p, 100);
}

/* --- new_handler ------------------------------------------------------------------ */

static int handler_calls;
static int handler_limit;

/* Uninstalls itself on its handler_limit-th call. */
static void
counting_handler() {
	if (++handler_calls >= handler_limit)
		std::set_new_handler(nullptr);
}

struct handler_error {
	int code;
};

static void
throwing_handler() {
	handler_calls++;
	throw handler_error{handler_calls};
}

TEST(handler_loop) {
	size_t size = opaque(ABSURD);
	void *p;
	struct {
		const char *name;
		bool nothrow;
		void *(*call)(size_t);
	} forms[] = {
		{"new", false, [](size_t s) { return ::operator new(s); }},
		{"new[]", false, [](size_t s) { return ::operator new[](s); }},
		{"new nothrow", true, [](size_t s) {
			return ::operator new(s, std::nothrow); }},
		{"new[] nothrow", true, [](size_t s) {
			return ::operator new[](s, std::nothrow); }},
#ifdef __cpp_aligned_new
		{"aligned new", false, [](size_t s) {
			return ::operator new(s, std::align_val_t(128)); }},
		{"aligned new[] nothrow", true, [](size_t s) {
			return ::operator new[](s, std::align_val_t(8192),
			    std::nothrow); }},
#endif
	};
	for (size_t f = 0; f < sizeof(forms) / sizeof(forms[0]); f++) {
		/* Called until it uninstalls itself, then the failure. */
		handler_calls = 0;
		handler_limit = 3;
		std::set_new_handler(counting_handler);
		caught_t c = try_call([&] { return forms[f].call(size); }, &p);
		expectf(handler_calls == 3, "%s: handler called %d times, "
		    "not 3", forms[f].name, handler_calls);
		expectf(p == NULL, "%s: got %p", forms[f].name, p);
		expectf(c == (forms[f].nothrow ? CAUGHT_NONE :
		    CAUGHT_BAD_ALLOC), "%s: caught %d", forms[f].name, (int)c);
		expectf(std::get_new_handler() == nullptr,
		    "%s: handler still installed", forms[f].name);

		/* A handler's own exception. */
		handler_calls = 0;
		std::set_new_handler(throwing_handler);
		c = try_call([&] { return forms[f].call(size); }, &p);
		expectf(handler_calls == 1, "%s: throwing handler called %d "
		    "times", forms[f].name, handler_calls);
		expectf(p == NULL, "%s: got %p", forms[f].name, p);
		expectf(c == (forms[f].nothrow ? CAUGHT_NONE : CAUGHT_OTHER),
		    "%s: with a throwing handler caught %d", forms[f].name,
		    (int)c);
		std::set_new_handler(nullptr);
	}
	/* A successful allocation never calls the handler. */
	handler_calls = 0;
	handler_limit = 1;
	std::set_new_handler(counting_handler);
	p = ::operator new(opaque(1000));
	escape(p);
	::operator delete(p);
	expectf(handler_calls == 0, "handler called for a new that fits");
	std::set_new_handler(nullptr);
}

static void *reserve;
static int retry_calls;

/* Gives the reserve back and uninstalls itself. */
static void
release_reserve() {
	retry_calls++;
	free(reserve);
	reserve = NULL;
	std::set_new_handler(nullptr);
}

static void
retry_child(bool nothrow) {
	size_t f0 = footprint();
	CCHECK(f0 > 0);
	size_t limit = f0 + 64 * MiB;
	CCHECK(mallctl("mem_limit.hard", NULL, NULL, &limit,
	    sizeof(limit)) == 0);
	reserve = malloc(48 * MiB);
	CCHECK(reserve != NULL);
	memset(reserve, 1, 48 * MiB);
	/* Does not fit next to the reserve. */
	void *probe = malloc(opaque(40 * MiB));
	CCHECK(probe == NULL);
	retry_calls = 0;
	std::set_new_handler(release_reserve);
	void *p = nothrow ? ::operator new(opaque(40 * MiB), std::nothrow) :
	    ::operator new(opaque(40 * MiB));
	CCHECK(p != NULL);
	CCHECK(retry_calls == 1);
	CCHECK(reserve == NULL);
	memset(p, 2, 40 * MiB);
	::operator delete(p, 40 * MiB);
	_exit(0);
}

TEST(handler_retry) {
	size_t sz = sizeof(size_t), v;
	if (mallctl("mem_limit.hard", &v, &sz, NULL, 0) != 0)
		test_skip("no mem_limit.hard");
	for (int nothrow = 0; nothrow < 2; nothrow++) {
		fflush(NULL);
		pid_t pid = fork();
		assertf(pid >= 0, "fork failed");
		if (pid == 0) {
			alarm(60);
			retry_child(nothrow != 0);
		}
		int st = test_wait_child(pid);
		expectf(st == 0, "%s: child exit status %d",
		    nothrow ? "nothrow new" : "new", st);
	}
}

/* --- sized delete -------------------------------------------------------------------- */

TEST(sized_delete) {
	if (!counters_init())
		test_skip("no thread.deallocatedp (built without stats)");
	for (size_t i = 0; i < NSIZES_TESTED; i++) {
		size_t size = test_sizes[i];
		void *p = ::operator new(opaque(size));
		escape(p);
		uint64_t d0 = deallocated();
		::operator delete(p, size);
		expectf(deallocated() - d0 == nallocx(size, 0),
		    "delete(p, %zu): +%" PRIu64 ", not %zu", size,
		    deallocated() - d0, nallocx(size, 0));
		p = ::operator new[](opaque(size));
		escape(p);
		d0 = deallocated();
		::operator delete[](p, size);
		expectf(deallocated() - d0 == nallocx(size, 0),
		    "delete[](p, %zu): +%" PRIu64, size, deallocated() - d0);
	}

	/* nullptr: nothing happens, sized or not. */
	uint64_t d0 = deallocated();
	::operator delete(nullptr, 100);
	::operator delete[](nullptr, 100);
	::operator delete(nullptr);
	::operator delete[](nullptr);
#ifdef __cpp_aligned_new
	::operator delete(nullptr, 100, std::align_val_t(64));
	::operator delete[](nullptr, 100, std::align_val_t(4096));
	::operator delete(nullptr, std::align_val_t(64));
#endif
	expectf(deallocated() == d0, "deleting nullptr counted %" PRIu64,
	    deallocated() - d0);

	/*
	 * The size reaches sdallocx: a 64 KiB object deleted as 40000 bytes
	 * counts 40960 (the class of 40000) in the release build, where
	 * sdallocx frees a large object by its real class; free() would
	 * count 65536.  The debug build checks the size and stops.
	 */
	if (!config_bool("config.debug")) {
		void *p = ::operator new(opaque(64 * KiB));
		escape(p);
		d0 = deallocated();
		::operator delete(p, 40000);
		expectf(deallocated() - d0 == nallocx(40000, 0),
		    "delete(64 KiB object, 40000): +%" PRIu64 ", not %zu "
		    "(not through sdallocx?)", deallocated() - d0,
		    nallocx(40000, 0));
		/* The object really went away: its memory serves again. */
		void *q = ::operator new(opaque(64 * KiB));
		escape(q);
		::operator delete(q, 64 * KiB);
	} else {
		int fds[2];
		assertf(pipe(fds) == 0, "pipe failed");
		fflush(NULL);
		pid_t pid = fork();
		assertf(pid >= 0, "fork failed");
		if (pid == 0) {
			dup2(fds[1], 2);
			void *p = ::operator new(opaque(64 * KiB));
			escape(p);
			::operator delete(p, 40000);
			_exit(0);
		}
		close(fds[1]);
		char buf[1024];
		size_t n = 0;
		ssize_t r;
		while (n < sizeof(buf) - 1 &&
		    (r = read(fds[0], buf + n, sizeof(buf) - 1 - n)) > 0)
			n += (size_t)r;
		buf[n] = '\0';
		close(fds[0]);
		int st = test_wait_child(pid);
		expectf(st == 128 + SIGABRT, "debug: delete(p, wrong size) "
		    "exit status %d, not SIGABRT", st);
		expectf(strstr(buf, "sdallocx") != NULL &&
		    strstr(buf, "size mismatch") != NULL,
		    "debug: no sdallocx size report: '%s'", buf);
	}
}

/* --- aligned ----------------------------------------------------------------------- */

#ifdef __cpp_aligned_new
struct alignas(256) Over {
	unsigned char b[300];
};

TEST(aligned) {
	bool counters = counters_init();
	for (size_t al = 64; al <= MiB; al <<= 1) {
		const size_t sizes[] = {1, 100, al / 2, al, al + 1, 3 * al};
		for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
			size_t size = sizes[s];
			size_t usize = nallocx(size, MALLOCX_ALIGN(al));
			std::align_val_t a = std::align_val_t(al);
			for (int form = 0; form < 4; form++) {
				uint64_t a0 = allocated();
				void *p;
				switch (form) {
				case 0: p = ::operator new(opaque(size), a);
					break;
				case 1: p = ::operator new[](opaque(size), a);
					break;
				case 2: p = ::operator new(opaque(size), a,
				    std::nothrow); break;
				default: p = ::operator new[](opaque(size), a,
				    std::nothrow); break;
				}
				escape(p);
				assertf(p != NULL, "align %zu size %zu form %d: "
				    "NULL", al, size, form);
				expectf(((uintptr_t)p & (al - 1)) == 0,
				    "align %zu size %zu form %d: %p", al, size,
				    form, p);
				expectf(malloc_usable_size(p) == usize,
				    "align %zu size %zu form %d: usable %zu, "
				    "nallocx %zu", al, size, form,
				    malloc_usable_size(p), usize);
				if (counters)
					expectf(allocated() - a0 == usize,
					    "align %zu size %zu form %d: +%"
					    PRIu64, al, size, form,
					    allocated() - a0);
				mark(p, size, (unsigned char)(al + form));
				expectf(intact(p, size,
				    (unsigned char)(al + form)),
				    "align %zu size %zu: contents lost", al,
				    size);
				uint64_t d0 = deallocated();
				switch (form) {
				case 0: ::operator delete(p, size, a); break;
				case 1: ::operator delete[](p, size, a); break;
				case 2: ::operator delete(p, a, std::nothrow);
					break;
				default: ::operator delete[](p, a); break;
				}
				/* The sized forms count the class of (size,
				 * alignment); a sized delete that lost the
				 * alignment would count the unaligned class. */
				if (counters)
					expectf(deallocated() - d0 == usize,
					    "align %zu size %zu form %d: "
					    "deallocated +%" PRIu64 ", not %zu",
					    al, size, form, deallocated() - d0,
					    usize);
			}
		}
	}

	/* Over-aligned types through new expressions. */
	Over *o = new Over;
	escape(o);
	expectf(((uintptr_t)o & 255) == 0, "new Over: %p", (void *)o);
	o->b[299] = 1;
	delete o;
	Over *arr = new Over[opaque(5)];
	escape(arr);
	expectf(((uintptr_t)arr & 255) == 0, "new Over[5]: %p", (void *)arr);
	arr[4].b[299] = 1;
	delete[] arr;
	Over *nt = new (std::nothrow) Over;
	expectf(nt != NULL && ((uintptr_t)nt & 255) == 0,
	    "new (nothrow) Over: %p", (void *)nt);
	delete nt;
}
#else
TEST(aligned) {
	test_skip("the compiler has no C++17 aligned new");
}
#endif

/* --- threads -------------------------------------------------------------------------- */

static void *
worker(void *arg) {
	uint64_t seed = (uint64_t)(uintptr_t)arg * 0x9e3779b97f4a7c15ULL + 1;
	static const size_t NSLOTS = 128;
	void *slot[NSLOTS];
	size_t slot_size[NSLOTS];
	memset(slot, 0, sizeof(slot));
	for (int i = 0; i < 40000; i++) {
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		size_t k = (size_t)(seed >> 40) % NSLOTS;
		if (slot[k] != NULL) {
			if (!intact(slot[k], slot_size[k], (unsigned char)k))
				return (void *)1;
			if (seed & 1)
				::operator delete(slot[k], slot_size[k]);
			else
				::operator delete(slot[k]);
			slot[k] = NULL;
		} else {
			size_t size = (size_t)(seed >> 20) % 6000 + 1;
			slot[k] = (seed & 2) ? ::operator new(size) :
			    ::operator new[](size, std::nothrow);
			if (slot[k] == NULL)
				return (void *)2;
			slot_size[k] = size;
			mark(slot[k], size, (unsigned char)k);
		}
	}
	for (size_t k = 0; k < NSLOTS; k++)
		::operator delete(slot[k]);
	return NULL;
}

TEST(threads) {
	pthread_t th[4];
	for (uintptr_t i = 0; i < 4; i++)
		assertf(pthread_create(&th[i], NULL, worker, (void *)i) == 0,
		    "pthread_create failed");
	for (int i = 0; i < 4; i++) {
		void *r;
		pthread_join(th[i], &r);
		expectf(r == NULL, "thread %d: failure %p", i, r);
	}
}

int
main(void) {
	return test_run(TEST_CASE(ours), TEST_CASE(sizes),
	    TEST_CASE(expressions), TEST_CASE(new_zero),
	    TEST_CASE(nothrow_null), TEST_CASE(throws_bad_alloc),
	    TEST_CASE(handler_loop), TEST_CASE(handler_retry),
	    TEST_CASE(sized_delete), TEST_CASE(aligned), TEST_CASE(threads));
}
