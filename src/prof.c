/* prof: the heap profiler; see prof.h. */
#include "jemalloc_internal.h"
#include "prof.h"
#include "arena.h"
#include "extent.h"
#include "jemalloc_inlines.h"
#include "large.h"
#include "mutex.h"
#include "sz.h"
#include "tsd.h"

bool opt_prof = false;
bool opt_prof_active = true;
bool opt_prof_thread_active_init = true;
size_t opt_lg_prof_sample = LG_PROF_SAMPLE_DEFAULT;
ssize_t opt_lg_prof_interval = LG_PROF_INTERVAL_DEFAULT;
bool opt_prof_gdump = false;
bool opt_prof_final = false;
bool opt_prof_leak = false;
bool opt_prof_accum = false;
char opt_prof_prefix[PATH_MAX + 1] = PROF_PREFIX_DEFAULT;
uint64_t prof_interval = 0;
size_t lg_prof_sample = LG_PROF_SAMPLE_DEFAULT;
bool prof_dump_pending = false;

#ifdef JEMALLOC_PROF

#include <ctype.h>
#include <inttypes.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <link.h>
#include <math.h>
#include <unistd.h>

#if defined(JEMALLOC_PROF_LIBUNWIND)
#  define UNW_LOCAL_ONLY
#  include <libunwind.h>
#elif defined(JEMALLOC_PROF_LIBGCC)
#  include <unwind.h>
#endif

#define PROF_TCTX_CACHE 64

#ifdef JEMALLOC_PROF_LIBGCC
/*
 * A thread's memo of a recent walk through the frame-size cache and the
 * context it led to, by the first return address.  Checking it costs a
 * load and a compare per frame: with the same frame sizes (they follow
 * from the return addresses), the same stack slots must hold the same
 * return addresses.  Made stale by any change of a cached frame size
 * (prof_ucache_gen) or a new epoch; its context is always one in the
 * thread's context cache (taking one out of the cache clears the memos
 * that name it).
 */
#define PROF_MEMO_N 8
#define PROF_MEMO_FRAMES 64
typedef struct prof_memo_s {
	uintptr_t ip[PROF_MEMO_FRAMES];	/* ip[0]: the application frame's */
	uint32_t k[PROF_MEMO_FRAMES];	/* frame sizes (k[n - 1] unused) */
	unsigned n;
	uint64_t span;			/* k[0] + ... + k[n - 2] */
	uint64_t gen;			/* prof_ucache_gen when made */
	struct prof_tctx_s *tctx;	/* NULL: empty */
} prof_memo_t;
#else
typedef struct prof_memo_s {
	unsigned n;
} prof_memo_t;
#endif

struct prof_tdata_s {
	uint64_t thr_uid;
	char *thread_name;		/* NULL: none */
	bool active;			/* thread.prof.active */
	bool attached;			/* its thread is alive */
	uint64_t ntctx;			/* tctxs that name this tdata */
	uint64_t prng;
	int64_t interval;		/* the count the last draw started */
	prof_tdata_t *next;		/* all tdatas */
	uintptr_t stack_lo, stack_hi;	/* stack walks stay inside */
	uint64_t ucache_walks;		/* walks up to the last check */
	uint32_t verify_every, verify_left;	/* walks between checks */
	/* The thread's recent contexts, by backtrace hash (see
	 * prof_tctx_cached); under prof_mtx, read by the thread alone. */
	prof_tctx_t *tctx_cache[PROF_TCTX_CACHE];
#ifdef JEMALLOC_PROF_LIBGCC
	prof_memo_t memo[PROF_MEMO_N];	/* the thread's alone */
#endif
	size_t draw_lg;			/* the rate draw_scale is for */
	double draw_scale;
	prof_cnt_t dump_cnt;		/* scratch, under prof_mtx */
};

struct prof_tctx_s {
	prof_gctx_t *gctx;
	prof_tdata_t *tdata;
	uint64_t epoch;
	/* Atomic: frees subtract without a lock; only the owning thread
	 * adds, without a lock, while the context is in its cache. */
	prof_cnt_t cnts;
	bool cached;			/* in tdata's cache (under prof_mtx) */
	prof_cnt_t dump_cnts;		/* a dump's snapshot (under prof_mtx) */
	prof_tctx_t *next;		/* the gctx's list */
};

struct prof_gctx_s {
	prof_gctx_t *hnext;		/* hash chain */
	uint64_t hash;
	prof_tctx_t *tctxs;
	unsigned len;
	void *vec[];
};

static malloc_mutex_t prof_mtx;
static void prof_tctx_cache_clear_locked(prof_tdata_t *tdata);
static malloc_mutex_t prof_dump_mtx;
static bool prof_booted = false;

/* Under prof_mtx. */
static prof_gctx_t **prof_table;
static size_t prof_table_size;	/* power of two */
static size_t prof_table_count;
static prof_tdata_t *prof_tdatas;
static uint64_t prof_next_thr_uid;
static uint64_t prof_epoch;	/* written under prof_mtx; atomic */
static size_t prof_ntctx;	/* all tctxs */
static size_t prof_sweep_at;	/* prof_ntctx that triggers a sweep */

static bool prof_active_val;
static bool prof_thread_active_init_val;
static bool prof_gdump_val;

/* Under prof_dump_mtx. */
static uint64_t prof_dump_seq, prof_dump_mseq, prof_dump_iseq,
    prof_dump_useq;
static char prof_dump_buf[PROF_DUMP_BUFSIZE];
static size_t prof_dump_buf_end;
static int prof_dump_fd;
static bool prof_dump_err;

/* Interval and growth dump triggers. */
static uint64_t prof_idump_accum;	/* atomic */
static bool prof_idump_pending;		/* atomic */
static bool prof_gdump_pending;		/* atomic */
static size_t prof_gdump_high;		/* atomic: highest footprint seen */

/* The allocator's own code, for dropping its frames from backtraces
 * (empty when it is linked into the executable). */
static uintptr_t prof_lib_lo, prof_lib_hi;
static bool prof_lib_range_known;

/* --- metadata -------------------------------------------------------------------- */

/* Profiler metadata: arena 0, no cache, counted as internal memory. */
static void *
prof_meta_alloc(tsdn_t *tsdn, size_t size) {
	size_t usize = sz_s2u(size);
	arena_t *a0 = arena_get_from_ind(0);
	void *p = ipallocztm(tsdn, usize, QUANTUM, true, NULL, true, a0);
	if (config_stats && p != NULL)
		atomic_fetch_add_zu(&a0->stats.internal, usize, ATOMIC_RELAXED);
	return p;
}

static void
prof_meta_free(tsdn_t *tsdn, void *p) {
	if (p == NULL)
		return;
	if (config_stats) {
		atomic_fetch_sub_zu(&arena_get_from_ind(0)->stats.internal,
		    isalloc(tsdn, p), ATOMIC_RELAXED);
	}
	idalloctm(tsdn, p, NULL, true);
}

/* --- backtraces -------------------------------------------------------------------- */

static int
prof_lib_range_cb(struct dl_phdr_info *info, size_t size, void *arg) {
	uintptr_t target = (uintptr_t)arg;
	bool mine = false;
	uintptr_t lo = UINTPTR_MAX, hi = 0;
	for (unsigned i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
			continue;
		uintptr_t a = info->dlpi_addr + ph->p_vaddr;
		uintptr_t b = a + ph->p_memsz;
		if (target >= a && target < b)
			mine = true;
		if (a < lo)
			lo = a;
		if (b > hi)
			hi = b;
	}
	if (!mine)
		return 0;
	/* The executable itself ("" name) also holds the program's code. */
	if (info->dlpi_name != NULL && info->dlpi_name[0] != '\0') {
		prof_lib_lo = lo;
		prof_lib_hi = hi;
	}
	return 1;
}

static void
prof_lib_range_init(void) {
	if (__atomic_load_n(&prof_lib_range_known, __ATOMIC_ACQUIRE))
		return;
	dl_iterate_phdr(prof_lib_range_cb, (void *)(uintptr_t)prof_boot1);
	__atomic_store_n(&prof_lib_range_known, true, __ATOMIC_RELEASE);
}

static bool
prof_in_lib(void *ip) {
	return (uintptr_t)ip >= prof_lib_lo && (uintptr_t)ip < prof_lib_hi;
}

#define PROF_RAW_MAX (PROF_BT_MAX + 32)

#if defined(JEMALLOC_PROF_LIBUNWIND)
static unsigned
prof_backtrace_raw(tsd_t *tsd, void **vec, uintptr_t *cfa, unsigned max) {
	(void)tsd; (void)cfa;
	int n = unw_backtrace(vec, (int)max);
	return n > 0 ? (unsigned)n : 0;
}
#elif defined(JEMALLOC_PROF_LIBGCC)
typedef struct {
	void **vec;
	uintptr_t *cfa;
	unsigned len;
	unsigned max;
	bool end;	/* the unwinder ran out of frames (not of room) */
} prof_unwind_arg_t;

static _Unwind_Reason_Code
prof_unwind_cb(struct _Unwind_Context *ctx, void *arg) {
	prof_unwind_arg_t *a = (prof_unwind_arg_t *)arg;
	void *ip = (void *)_Unwind_GetIP(ctx);
	if (ip == NULL) {
		a->end = true;
		return _URC_END_OF_STACK;
	}
	a->vec[a->len] = ip;
	a->cfa[a->len] = (uintptr_t)_Unwind_GetCFA(ctx);
	a->len++;
	return a->len == a->max ? _URC_END_OF_STACK : _URC_NO_REASON;
}

static unsigned
prof_backtrace_raw_end(void **vec, uintptr_t *cfa, unsigned max, bool *end) {
	prof_unwind_arg_t a = {vec, cfa, 0, max, false};
	_Unwind_Reason_Code r = _Unwind_Backtrace(prof_unwind_cb, &a);
	/* END_OF_STACK with room left: the last frame was the outermost. */
	*end = a.end || (r == _URC_END_OF_STACK && a.len < max);
	return a.len;
}

/*
 * A cache of frame sizes in front of libgcc's unwinder, which spends about
 * 2,000 instructions per frame interpreting call-frame information.  For
 * a return address ip the cache holds k = CFA(frame) - CFA(callee's
 * frame), learned from libgcc's walks: given the callee's CFA (the slot
 * above the return address), the frame's CFA is k bytes higher and its own
 * return address lies just below that.  One 64-bit word per entry, ip in
 * the high bits and v in the low ones, so readers never see a torn entry:
 *   v = k (a multiple of 8; 0: the outermost frame), seen once;
 *   v = k | 2: seen twice with the same k (only these are used);
 *   v = 1: not cacheable (the size varied: alloca, stack realignment).
 * A walk through the cache stops (and libgcc takes over) at any address it
 * does not know or that would leave the thread's stack, and every 32nd
 * walk of a thread (every 1024th after its first 256, every 4096th after
 * its first 2048) is checked against libgcc: the addresses of a path
 * that disagreed are marked not cacheable.
 */
#define PROF_UCACHE_LG 12
#define PROF_UCACHE_V_BITS 17
#define PROF_UCACHE_V_MASK (((uint64_t)1 << PROF_UCACHE_V_BITS) - 1)
#define PROF_UCACHE_PROBES 8
#define PROF_UCACHE_NONE 1
#define PROF_UCACHE_CONFIRMED 2
static uint64_t prof_ucache[1U << PROF_UCACHE_LG];	/* atomic */
/* Walks that libgcc contradicted (test hook and statistics). */
static uint64_t prof_ucache_mismatches;
/* Bumped when an entry becomes not cacheable (atomic; see prof_memo_t). */
static uint64_t prof_ucache_gen;

static uint64_t *
prof_ucache_slot(uintptr_t ip, unsigned probe) {
	size_t i = (size_t)((ip * UINT64_C(0x9e3779b97f4a7c15)) >> (64 -
	    PROF_UCACHE_LG));
	return &prof_ucache[(i + probe) & ((1U << PROF_UCACHE_LG) - 1)];
}

/* The confirmed frame size of ip in *k; false when there is none. */
static bool
prof_ucache_get(uintptr_t ip, uint64_t *k) {
	for (unsigned n = 0; n < PROF_UCACHE_PROBES; n++) {
		uint64_t e = __atomic_load_n(prof_ucache_slot(ip, n),
		    __ATOMIC_RELAXED);
		if (e == 0)
			return false;
		if ((e >> PROF_UCACHE_V_BITS) == ip) {
			uint64_t v = e & PROF_UCACHE_V_MASK;
			if (!(v & PROF_UCACHE_CONFIRMED) || v ==
			    PROF_UCACHE_NONE)
				return false;
			*k = v & ~(uint64_t)PROF_UCACHE_CONFIRMED;
			return true;
		}
	}
	return false;
}

/* Records an observation of k for ip (k = PROF_UCACHE_NONE: never cache). */
static void
prof_ucache_put(uintptr_t ip, uint64_t k) {
	if (ip == 0 || (ip >> (64 - PROF_UCACHE_V_BITS)) != 0 || k >
	    PROF_UCACHE_V_MASK || (k != PROF_UCACHE_NONE && (k & 7) != 0))
		return;
	uint64_t key = (uint64_t)ip << PROF_UCACHE_V_BITS;
	for (unsigned n = 0; n < PROF_UCACHE_PROBES; n++) {
		uint64_t *slot = prof_ucache_slot(ip, n);
		uint64_t e = __atomic_load_n(slot, __ATOMIC_RELAXED);
		if (e == 0 && __atomic_compare_exchange_n(slot, &e, key | k,
		    false, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
			return;
		if ((e & ~PROF_UCACHE_V_MASK) != key)
			continue;
		uint64_t v = e & PROF_UCACHE_V_MASK, nv;
		if (v == PROF_UCACHE_NONE || k == PROF_UCACHE_NONE)
			nv = PROF_UCACHE_NONE;
		else if ((v & ~(uint64_t)PROF_UCACHE_CONFIRMED) == k)
			nv = k | PROF_UCACHE_CONFIRMED;
		else
			nv = PROF_UCACHE_NONE;	/* the size varies */
		if (nv != v) {
			__atomic_store_n(slot, key | nv, __ATOMIC_RELAXED);
			if (nv == PROF_UCACHE_NONE)
				__atomic_fetch_add(&prof_ucache_gen, 1,
				    __ATOMIC_RELEASE);
		}
		return;
	}
}

/*
 * The walk through the cache from the application frame (return address
 * at ra_slot), with each frame's size in ks.  Returns the frame count, or
 * 0 when libgcc must walk.
 */
static unsigned
prof_ucache_walk(const prof_tdata_t *tdata, void **vec, uint32_t *ks,
    unsigned max, void **ra_slot) {
	uintptr_t lo = tdata->stack_lo, hi = tdata->stack_hi;
	uintptr_t cfa = (uintptr_t)(ra_slot + 1);
	if (hi == 0 || cfa <= lo || cfa > hi)
		return 0;
	uintptr_t ip = (uintptr_t)*ra_slot;
	unsigned n = 0;
	while (n < max) {
		vec[n++] = (void *)ip;
		uint64_t k;
		if (!prof_ucache_get(ip, &k))
			return 0;
		ks[n - 1] = (uint32_t)k;	/* k <= PROF_UCACHE_V_MASK */
		if (k == 0)
			return n;
		cfa += k;
		if (cfa > hi || cfa - 8 < lo)
			return 0;
		ip = *(uintptr_t *)(cfa - 8);
	}
	return n;
}

/*
 * Learns the frame sizes of a libgcc walk from frame j (the application
 * frame).  In the callback, _Unwind_GetCFA gives a frame's stack pointer
 * at its call, i.e. its callee's CFA (sp[j] is the slot above the return
 * address), so frame i spans sp[i] .. sp[i + 1].
 */
static void
prof_ucache_learn(void *const *raw, const uintptr_t *sp, unsigned n,
    unsigned j, bool end) {
	for (unsigned i = j; i + 1 < n; i++) {
		if (sp[i + 1] <= sp[i])
			return;
		prof_ucache_put((uintptr_t)raw[i], sp[i + 1] - sp[i]);
	}
	if (end && n > j)
		prof_ucache_put((uintptr_t)raw[n - 1], 0);
}

#else
/* Frame pointers: each frame starts with the caller's frame pointer and
 * the return address.  The walk stays inside the thread's stack and
 * stops at the first frame that does not look like one. */
static unsigned
prof_backtrace_raw(tsd_t *tsd, void **vec, uintptr_t *cfa, unsigned max) {
	(void)cfa;
	prof_tdata_t *tdata = tsd->prof_tdata;
	uintptr_t lo = tdata != NULL ? tdata->stack_lo : 0;
	uintptr_t hi = tdata != NULL ? tdata->stack_hi : 0;
	void **fp = (void **)__builtin_frame_address(0);
	unsigned n = 0;
	while (n < max && fp != NULL) {
		uintptr_t f = (uintptr_t)fp;
		if ((f & 7) != 0 || (hi != 0 && (f < lo || f + 16 > hi)))
			break;
		void *ret = fp[1];
		if (ret == NULL)
			break;
		vec[n++] = ret;
		void **next = (void **)fp[0];
		if ((uintptr_t)next <= f || (uintptr_t)next - f > (1U << 24))
			break;
		fp = next;
	}
	return n;
}
#endif

/* Copies frames from start on, less any that still lie in the allocator
 * (the C++ operators calling in). */
static unsigned
prof_backtrace_copy(void **vec, void *const *raw, unsigned n, unsigned start) {
	while (start < n && prof_in_lib(raw[start]))
		start++;
	unsigned len = n - start;
	if (len > PROF_BT_MAX)
		len = PROF_BT_MAX;
	memcpy(vec, &raw[start], len * sizeof(void *));
	return len;
}

#ifdef JEMALLOC_PROF_LIBGCC
/* Keeps a walk through the cache for prof_memo_put (too long: none). */
static void
prof_memo_prepare(prof_memo_t *m, void *const *raw, const uint32_t *ks,
    unsigned n, uint64_t gen) {
	m->n = 0;
	if (n > PROF_MEMO_FRAMES)
		return;
	m->gen = gen;
	m->span = 0;
	for (unsigned i = 0; i < n; i++) {
		m->ip[i] = (uintptr_t)raw[i];
		m->k[i] = ks[i];
		if (i + 1 < n)
			m->span += ks[i];
	}
	m->n = n;
}
#endif

/*
 * The call chain of the allocation: frames from the application's frame
 * (whose return address the public function keeps at ra_slot) outwards;
 * the allocator's own frames are dropped.  libgcc builds: a walk through
 * the frame-size cache is checked against libgcc when verify is set, and
 * left in *memo (memo->n = 0: none).
 */
static unsigned
prof_backtrace(tsd_t *tsd, void **vec, void **ra_slot, bool verify,
    prof_memo_t *memo) {
	void *raw[PROF_RAW_MAX];
	uintptr_t cfa[PROF_RAW_MAX];
	void *ra = ra_slot != NULL ? *ra_slot : NULL;
	prof_lib_range_init();
#ifdef JEMALLOC_PROF_LIBGCC
	prof_tdata_t *tdata = tsd->prof_tdata;
	memo->n = 0;
	if (ra_slot != NULL && tdata != NULL) {
		uint32_t ks[PROF_RAW_MAX];
		/* Read before the entries the walk uses: a change after it
		 * makes the memo stale. */
		uint64_t gen = __atomic_load_n(&prof_ucache_gen,
		    __ATOMIC_ACQUIRE);
		unsigned n = prof_ucache_walk(tdata, raw, ks, PROF_RAW_MAX,
		    ra_slot);
		if (n > 0) {
			if (!verify) {
				prof_memo_prepare(memo, raw, ks, n, gen);
				return prof_backtrace_copy(vec, raw, n, 0);
			}
			void *full[PROF_RAW_MAX];
			bool end;
			unsigned m = prof_backtrace_raw_end(full, cfa,
			    PROF_RAW_MAX, &end);
			unsigned j = 0;
			while (j < m && full[j] != ra)
				j++;
			if (j < m && m - j >= n && memcmp(&full[j], raw, n *
			    sizeof(void *)) == 0) {
				prof_memo_prepare(memo, raw, ks, n, gen);
				return prof_backtrace_copy(vec, raw, n, 0);
			}
			/* The cache was wrong on this path: never again. */
			__atomic_fetch_add(&prof_ucache_mismatches, 1,
			    __ATOMIC_RELAXED);
			for (unsigned i = 0; i < n; i++) {
				prof_ucache_put((uintptr_t)raw[i],
				    PROF_UCACHE_NONE);
			}
			if (j == m)
				j = 0;
			return prof_backtrace_copy(vec, full, m, j);
		}
	}
	bool end;
	unsigned n = prof_backtrace_raw_end(raw, cfa, PROF_RAW_MAX, &end);
#else
	(void)verify;
	(void)memo;
	unsigned n = prof_backtrace_raw(tsd, raw, cfa, PROF_RAW_MAX);
#endif
	unsigned start = 0;
	bool found = false;
	for (unsigned i = 0; i < n; i++) {
		if (raw[i] == ra) {
			start = i;
			found = true;
			break;
		}
	}
#ifdef JEMALLOC_PROF_LIBGCC
	/* The slot above the return address is the callee's CFA. */
	if (found && cfa[start] == (uintptr_t)(ra_slot + 1))
		prof_ucache_learn(raw, cfa, n, start, end);
#endif
	(void)found;
	return prof_backtrace_copy(vec, raw, n, start);
}

uint64_t
prof_backtrace_cache_mismatches(void) {
#ifdef JEMALLOC_PROF_LIBGCC
	return __atomic_load_n(&prof_ucache_mismatches, __ATOMIC_RELAXED);
#else
	return 0;
#endif
}

/* --- per-thread data ------------------------------------------------------------- */

static uint64_t
prof_prng_next(uint64_t *state) {
	*state = *state * UINT64_C(6364136223846793005) +
	    UINT64_C(1442695040888963407);
	return *state;
}

static void
prof_stack_bounds(prof_tdata_t *tdata) {
#if !defined(JEMALLOC_PROF_LIBUNWIND)
	pthread_attr_t attr;
	if (pthread_getattr_np(pthread_self(), &attr) == 0) {
		void *addr;
		size_t size;
		if (pthread_attr_getstack(&attr, &addr, &size) == 0) {
			tdata->stack_lo = (uintptr_t)addr;
			tdata->stack_hi = (uintptr_t)addr + size;
		}
		pthread_attr_destroy(&attr);
	}
#else
	(void)tdata;
#endif
}

/* The thread's profiling data, created on first use (NULL on failure or
 * in threads that cannot keep any). */
static prof_tdata_t *
prof_tdata_get(tsd_t *tsd) {
	prof_tdata_t *tdata = tsd->prof_tdata;
	if (likely(tdata != NULL))
		return tdata;
	if (tsd->state != tsd_state_nominal && tsd->state !=
	    tsd_state_nominal_slow)
		return NULL;
	tsdn_t *tsdn = tsd_tsdn(tsd);
	pre_reentrancy(tsd);
	tdata = prof_meta_alloc(tsdn, sizeof(prof_tdata_t));
	if (tdata != NULL)
		prof_stack_bounds(tdata);
	post_reentrancy(tsd);
	if (tdata == NULL)
		return NULL;
	malloc_mutex_lock(&prof_mtx);
	tdata->thr_uid = prof_next_thr_uid++;
	tdata->active = prof_thread_active_init_val;
	tdata->attached = true;
	tdata->verify_every = tdata->verify_left = 32;
	tdata->prng = tdata->thr_uid * UINT64_C(0x9e3779b97f4a7c15) ^
	    (uint64_t)(uintptr_t)tsd;
	tdata->next = prof_tdatas;
	prof_tdatas = tdata;
	malloc_mutex_unlock(&prof_mtx);
	tsd->prof_tdata = tdata;
	return tdata;
}

/* Under prof_mtx: unlinks and frees a tdata nobody refers to any more. */
static void
prof_tdata_maybe_destroy_locked(tsdn_t *tsdn, prof_tdata_t *tdata) {
	if (tdata->attached || tdata->ntctx != 0)
		return;
	for (prof_tdata_t **p = &prof_tdatas; *p != NULL; p = &(*p)->next) {
		if (*p == tdata) {
			*p = tdata->next;
			break;
		}
	}
	prof_meta_free(tsdn, tdata->thread_name);
	prof_meta_free(tsdn, tdata);
}

void
prof_tsd_init(tsd_t *tsd) {
	tsd->prof_tdata = NULL;
	/* With profiling on, the first allocation sets the thread up. */
	tsd->prof_sample_left = opt_prof ? 0 : INT64_MAX;
}

void
prof_tdata_cleanup(tsd_t *tsd) {
	prof_tdata_t *tdata = tsd->prof_tdata;
	if (tdata == NULL)
		return;
	tsd->prof_tdata = NULL;
	tsd->prof_sample_left = INT64_MAX;
	malloc_mutex_lock(&prof_mtx);
	prof_tctx_cache_clear_locked(tdata);
	tdata->attached = false;
	prof_tdata_maybe_destroy_locked(tsd_tsdn(tsd), tdata);
	malloc_mutex_unlock(&prof_mtx);
}

/* --- sampling ------------------------------------------------------------------ */

/*
 * log2 by table: log2(1 + i/256) for i = 0..256, filled at boot, and a
 * straight line between neighbours (error below 3e-6, far under what the
 * interval distribution can show; libm's log and log1p cost ~90
 * instructions per draw).
 */
#define PROF_LOG2_LG 8
static double prof_log2_tab[(1U << PROF_LOG2_LG) + 1];

static void
prof_log2_init(void) {
	for (unsigned i = 0; i <= (1U << PROF_LOG2_LG); i++) {
		prof_log2_tab[i] = log2(1.0 + (double)i / (double)(1U <<
		    PROF_LOG2_LG));
	}
}

/* x must be a positive normal number. */
static inline double
prof_log2(double x) {
	uint64_t b;
	memcpy(&b, &x, sizeof(b));
	int e = (int)((b >> 52) & 0x7ff) - 1023;
	unsigned i = (unsigned)(b >> (52 - PROF_LOG2_LG)) & ((1U <<
	    PROF_LOG2_LG) - 1);
	uint64_t rest = b & (((uint64_t)1 << (52 - PROF_LOG2_LG)) - 1);
	/* Signed conversions: unsigned ones take a branch or two on x86. */
	double f = (double)(int64_t)rest * (1.0 / (double)((uint64_t)1 <<
	    (52 - PROF_LOG2_LG)));
	return (double)e + prof_log2_tab[i] + f * (prof_log2_tab[i + 1] -
	    prof_log2_tab[i]);
}

/* 1 / log2(1 - p) for p = 2^-lg, once per rate. */
static JEMALLOC_NOINLINE void
prof_draw_scale_set(prof_tdata_t *tdata, size_t lg) {
	double p = 1.0 / (double)((uint64_t)1 << lg);
	tdata->draw_scale = M_LN2 / log1p(-p);
	tdata->draw_lg = lg;
}

static inline uint64_t
prof_interval_draw(prof_tdata_t *tdata) {
	size_t lg = __atomic_load_n(&lg_prof_sample, __ATOMIC_RELAXED);
	if (lg == 0)
		return 1;
	if (unlikely(lg != tdata->draw_lg))
		prof_draw_scale_set(tdata, lg);
	/* Geometric with p = 2^-lg: the number of bytes up to and including
	 * the next sample point, floor(log(u) / log(1 - p)) + 1 with u
	 * uniform in (0, 1). */
	uint64_t r = prof_prng_next(&tdata->prng) >> 11;
	double u = ((double)(int64_t)r + 0.5) * (1.0 / 9007199254740992.0);
	double v = prof_log2(u) * tdata->draw_scale;
	if (!(v < 9.0e18))
		return (uint64_t)INT64_MAX;
	return (uint64_t)(int64_t)v + 1;	/* v >= 0: truncation is floor */
}

uint64_t
prof_sample_interval_draw(tsd_t *tsd) {
	prof_tdata_t *tdata = tsd->prof_tdata;
	return tdata == NULL ? 1 : prof_interval_draw(tdata);
}

static void
prof_idump_account(uint64_t bytes) {
	uint64_t interval = __atomic_load_n(&prof_interval, __ATOMIC_RELAXED);
	if (interval == 0)
		return;
	uint64_t cur = __atomic_add_fetch(&prof_idump_accum, bytes,
	    __ATOMIC_RELAXED);
	while (cur >= interval) {
		if (__atomic_compare_exchange_n(&prof_idump_accum, &cur,
		    cur - interval, false, __ATOMIC_RELAXED,
		    __ATOMIC_RELAXED)) {
			__atomic_store_n(&prof_idump_pending, true,
			    __ATOMIC_RELAXED);
			__atomic_store_n(&prof_dump_pending, true,
			    __ATOMIC_RELEASE);
			break;
		}
	}
}

bool
prof_sample_hard(tsd_t *tsd, size_t usize) {
	bool fresh = tsd->prof_tdata == NULL;
	prof_tdata_t *tdata = prof_tdata_get(tsd);
	if (unlikely(tdata == NULL)) {
		tsd->prof_sample_left = INT64_MAX;
		return false;
	}
	if (!fresh) {
		/* Bytes counted since the last draw, this call included. */
		prof_idump_account((uint64_t)(tdata->interval -
		    tsd->prof_sample_left));
	}
	tdata->interval = (int64_t)prof_interval_draw(tdata);
	tsd->prof_sample_left = tdata->interval;
	if (fresh) {
		/* The first call of a thread only starts its count. */
		tsd->prof_sample_left -= (int64_t)usize;
		if (tsd->prof_sample_left > 0)
			return false;
		tdata->interval = (int64_t)prof_interval_draw(tdata);
		tsd->prof_sample_left = tdata->interval;
	}
	return tdata->active && __atomic_load_n(&prof_active_val,
	    __ATOMIC_RELAXED);
}

/* --- contexts ------------------------------------------------------------------------ */

static uint64_t
prof_bt_hash(void *const *vec, unsigned len) {
	uint64_t h = UINT64_C(0xcbf29ce484222325) ^ len;
	for (unsigned i = 0; i < len; i++) {
		h ^= (uint64_t)(uintptr_t)vec[i];
		h *= UINT64_C(0x100000001b3);
		h ^= h >> 29;
	}
	h *= UINT64_C(0xff51afd7ed558ccd);
	h ^= h >> 33;
	return h;
}

/* Under prof_mtx: doubles the table. */
static void
prof_table_grow_locked(tsdn_t *tsdn) {
	size_t nsize = prof_table_size * 2;
	prof_gctx_t **nt = prof_meta_alloc(tsdn, nsize * sizeof(*nt));
	if (nt == NULL)
		return;		/* longer chains, still correct */
	for (size_t i = 0; i < prof_table_size; i++) {
		prof_gctx_t *g = prof_table[i];
		while (g != NULL) {
			prof_gctx_t *next = g->hnext;
			size_t j = g->hash & (nsize - 1);
			g->hnext = nt[j];
			nt[j] = g;
			g = next;
		}
	}
	prof_meta_free(tsdn, prof_table);
	prof_table = nt;
	prof_table_size = nsize;
}

/* Whether g is the backtrace vec (len frames, hash h). */
static inline bool
prof_gctx_is(const prof_gctx_t *g, void *const *vec, unsigned len,
    uint64_t h) {
	if (g->hash != h || g->len != len)
		return false;
	for (unsigned i = 0; i < len; i++) {
		if (g->vec[i] != vec[i])
			return false;
	}
	return true;
}

/* Under prof_mtx: the thread's context for this backtrace (hash h) in
 * the current epoch, created if needed. */
static prof_tctx_t *
prof_lookup_locked(tsdn_t *tsdn, prof_tdata_t *tdata, void *const *vec,
    unsigned len, uint64_t h) {
	prof_gctx_t *g;
	for (g = prof_table[h & (prof_table_size - 1)]; g != NULL;
	    g = g->hnext) {
		if (prof_gctx_is(g, vec, len, h))
			break;
	}
	if (g == NULL) {
		g = prof_meta_alloc(tsdn, sizeof(prof_gctx_t) + len *
		    sizeof(void *));
		if (g == NULL)
			return NULL;
		g->hash = h;
		g->len = len;
		memcpy(g->vec, vec, len * sizeof(void *));
		size_t i = h & (prof_table_size - 1);
		g->hnext = prof_table[i];
		prof_table[i] = g;
		if (++prof_table_count > prof_table_size)
			prof_table_grow_locked(tsdn);
	}
	prof_tctx_t *t;
	for (t = g->tctxs; t != NULL; t = t->next) {
		if (t->tdata == tdata && t->epoch == prof_epoch)
			return t;
	}
	t = prof_meta_alloc(tsdn, sizeof(prof_tctx_t));
	if (t == NULL) {
		if (g->tctxs == NULL) {
			/* Undo the empty gctx. */
			size_t i = h & (prof_table_size - 1);
			for (prof_gctx_t **p = &prof_table[i]; *p != NULL;
			    p = &(*p)->hnext) {
				if (*p == g) {
					*p = g->hnext;
					break;
				}
			}
			prof_table_count--;
			prof_meta_free(tsdn, g);
		}
		return NULL;
	}
	t->gctx = g;
	t->tdata = tdata;
	t->epoch = prof_epoch;
	t->next = g->tctxs;
	g->tctxs = t;
	tdata->ntctx++;
	prof_ntctx++;
	return t;
}

/*
 * Context lifetime.  A context whose last object is freed stays (the
 * site's next sample reuses it, instead of freeing and allocating a gctx
 * and a tctx per sample); dumps leave it out.  Sweeps free such contexts
 * once the number of contexts has doubled since the last sweep (at least
 * PROF_SWEEP_MIN), and at prof.reset.  A context in its thread's cache is
 * never swept: the thread counts into it without the lock.  A free's
 * last touch of a context is the decrement of its object count, so a
 * sweep that sees the count at zero may free it.
 */
#define PROF_SWEEP_MIN 256

static uint64_t
prof_cnt_load(const uint64_t *c) {
	return __atomic_load_n(c, __ATOMIC_ACQUIRE);
}

/* Nothing to report: no live object, and no cumulative counts to keep. */
static bool
prof_tctx_reportless(const prof_tctx_t *t) {
	return prof_cnt_load(&t->cnts.curobjs) == 0 && !(opt_prof_accum &&
	    t->epoch == prof_epoch);
}

/* Under prof_mtx: frees a tctx, then its gctx and tdata if they became
 * unreferenced. */
static void
prof_tctx_destroy_locked(tsdn_t *tsdn, prof_tctx_t *t) {
	assert(!t->cached);
	prof_gctx_t *g = t->gctx;
	for (prof_tctx_t **p = &g->tctxs; *p != NULL; p = &(*p)->next) {
		if (*p == t) {
			*p = t->next;
			break;
		}
	}
	prof_tdata_t *tdata = t->tdata;
	tdata->ntctx--;
	prof_ntctx--;
	prof_meta_free(tsdn, t);
	prof_tdata_maybe_destroy_locked(tsdn, tdata);
	if (g->tctxs == NULL) {
		size_t i = g->hash & (prof_table_size - 1);
		for (prof_gctx_t **p = &prof_table[i]; *p != NULL;
		    p = &(*p)->hnext) {
			if (*p == g) {
				*p = g->hnext;
				break;
			}
		}
		prof_table_count--;
		prof_meta_free(tsdn, g);
	}
}

/* Under prof_mtx: frees every uncached context with nothing to report. */
static void
prof_sweep_locked(tsdn_t *tsdn) {
	for (size_t i = 0; i < prof_table_size; i++) {
		prof_gctx_t *g = prof_table[i];
		while (g != NULL) {
			prof_gctx_t *gnext = g->hnext;
			prof_tctx_t *t = g->tctxs;
			while (t != NULL) {
				prof_tctx_t *tnext = t->next;
				bool last = tnext == NULL;
				/* The gctx goes with its last tctx. */
				if (!t->cached && prof_tctx_reportless(t))
					prof_tctx_destroy_locked(tsdn, t);
				if (last)
					break;
				t = tnext;
			}
			g = gnext;
		}
	}
	prof_sweep_at = prof_ntctx * 2 > PROF_SWEEP_MIN ? prof_ntctx * 2 :
	    PROF_SWEEP_MIN;
}

static unsigned
prof_tctx_cache_slot(uint64_t h) {
	return (unsigned)(h >> 32) & (PROF_TCTX_CACHE - 1);
}

/* The thread's cached context for this backtrace in the current epoch,
 * or NULL; no lock. */
static prof_tctx_t *
prof_tctx_cached(const prof_tdata_t *tdata, void *const *vec, unsigned len,
    uint64_t h) {
	prof_tctx_t *t = tdata->tctx_cache[prof_tctx_cache_slot(h)];
	if (t == NULL)
		return NULL;
	if (t->epoch != __atomic_load_n(&prof_epoch, __ATOMIC_RELAXED) ||
	    !prof_gctx_is(t->gctx, vec, len, h))
		return NULL;
	return t;
}

#ifdef JEMALLOC_PROF_LIBGCC
static unsigned
prof_memo_slot(uintptr_t ip) {
	return (unsigned)((ip * UINT64_C(0x9e3779b97f4a7c15)) >> 61) &
	    (PROF_MEMO_N - 1);
}

/* The context of the memo for the walk from ra_slot if the stack still
 * holds its path, else NULL. */
static prof_tctx_t *
prof_memo_get(const prof_tdata_t *tdata, void **ra_slot) {
	uintptr_t ip = (uintptr_t)*ra_slot;
	const prof_memo_t *m = &tdata->memo[prof_memo_slot(ip)];
	if (m->tctx == NULL || m->ip[0] != ip || m->gen !=
	    __atomic_load_n(&prof_ucache_gen, __ATOMIC_ACQUIRE))
		return NULL;
	uintptr_t cfa = (uintptr_t)(ra_slot + 1);
	if (cfa <= tdata->stack_lo || cfa + m->span > tdata->stack_hi)
		return NULL;
	for (unsigned i = 1; i < m->n; i++) {
		cfa += m->k[i - 1];
		if (*(const uintptr_t *)(cfa - 8) != m->ip[i])
			return NULL;
	}
	if (m->tctx->epoch != __atomic_load_n(&prof_epoch, __ATOMIC_RELAXED))
		return NULL;
	return m->tctx;
}

static void
prof_memo_put(prof_tdata_t *tdata, const prof_memo_t *m, prof_tctx_t *t) {
	prof_memo_t *slot = &tdata->memo[prof_memo_slot(m->ip[0])];
	*slot = *m;
	slot->tctx = t;
}

/* The walk from ip could not be memoised (libgcc took it, or it was
 * too long): a memo for ip would stand for a different walk. */
static void
prof_memo_clear(prof_tdata_t *tdata, uintptr_t ip) {
	prof_memo_t *slot = &tdata->memo[prof_memo_slot(ip)];
	if (slot->tctx != NULL && slot->ip[0] == ip)
		slot->tctx = NULL;
}
#endif

/* Under prof_mtx: t leaves its thread's context cache. */
static void
prof_tctx_uncache_locked(prof_tdata_t *tdata, prof_tctx_t *t) {
	t->cached = false;
#ifdef JEMALLOC_PROF_LIBGCC
	for (unsigned i = 0; i < PROF_MEMO_N; i++) {
		if (tdata->memo[i].tctx == t)
			tdata->memo[i].tctx = NULL;
	}
#else
	(void)tdata;
#endif
}

/* Under prof_mtx: takes the thread's cached contexts out of its cache
 * (the thread ends). */
static void
prof_tctx_cache_clear_locked(prof_tdata_t *tdata) {
	for (unsigned i = 0; i < PROF_TCTX_CACHE; i++) {
		if (tdata->tctx_cache[i] != NULL) {
			prof_tctx_uncache_locked(tdata, tdata->tctx_cache[i]);
			tdata->tctx_cache[i] = NULL;
		}
	}
}

/* The thread's context for this backtrace: from its cache, else looked up
 * (or made) under prof_mtx and cached, replacing the slot's context. */
static prof_tctx_t *
prof_tctx_get(tsdn_t *tsdn, prof_tdata_t *tdata, void *const *vec,
    unsigned len) {
	uint64_t h = prof_bt_hash(vec, len);
	prof_tctx_t *t = prof_tctx_cached(tdata, vec, len, h);
	if (likely(t != NULL))
		return t;
	malloc_mutex_lock(&prof_mtx);
	prof_tctx_t **slot = &tdata->tctx_cache[prof_tctx_cache_slot(h)];
	if (*slot != NULL) {
		prof_tctx_uncache_locked(tdata, *slot);
		*slot = NULL;
	}
	if (prof_ntctx >= prof_sweep_at)
		prof_sweep_locked(tsdn);
	t = prof_lookup_locked(tsdn, tdata, vec, len, h);
	if (t != NULL) {
		t->cached = true;
		*slot = t;
	}
	malloc_mutex_unlock(&prof_mtx);
	return t;
}

/* The radix-tree element of ptr's page (ptr is ours and live). */
JEMALLOC_ALWAYS_INLINE rtree_leaf_elm_t *
prof_elm_lookup(tsdn_t *tsdn, const void *ptr) {
	rtree_ctx_t fallback;
	rtree_ctx_t *ctx = tsdn_rtree_ctx(tsdn, &fallback);
	return rtree_leaf_elm_lookup(&extents_rtree, ctx, (uintptr_t)ptr,
	    false, false);
}

/*
 * Sets the size class an object is freed and measured by, in its extent
 * and in the radix-tree element of its first page: every lookup by the
 * object's address reads that element (the object starts in its
 * extent's first page), and nothing reads the size class from the last
 * page's.
 */
static void
prof_szind_set(extent_t *extent, rtree_leaf_elm_t *elm, unsigned szind) {
	extent_szind_set(extent, szind);
	rtree_leaf_elm_szind_slab_update(elm, szind, false);
}

/* The context of a sample whose walk the memo could not stand in for
 * (out of line: its buffers stay off the common path's frame). */
static JEMALLOC_NOINLINE prof_tctx_t *
prof_tctx_walk(tsd_t *tsd, prof_tdata_t *tdata, void **ra_slot,
    bool verify) {
	void *vec[PROF_BT_MAX];
	prof_memo_t memo;
	/* libgcc and the metadata allocations may call malloc. */
	pre_reentrancy(tsd);
	unsigned len = prof_backtrace(tsd, vec, ra_slot, verify, &memo);
	prof_tctx_t *t = prof_tctx_get(tsd_tsdn(tsd), tdata, vec, len);
#ifdef JEMALLOC_PROF_LIBGCC
	if (t != NULL && memo.n > 0)
		prof_memo_put(tdata, &memo, t);
	else if (ra_slot != NULL)
		prof_memo_clear(tdata, (uintptr_t)*ra_slot);
#endif
	post_reentrancy(tsd);
	return t;
}

void
prof_malloc_sampled(tsd_t *tsd, void *ptr, size_t usize, void **ra_slot) {
	tsdn_t *tsdn = tsd_tsdn(tsd);
	rtree_leaf_elm_t *elm = prof_elm_lookup(tsdn, ptr);
	assert(elm != NULL);
	extent_t *extent = rtree_leaf_elm_bits_extent_get(
	    rtree_leaf_elm_bits_read(elm, true));
	if (usize <= SMALL_MAXCLASS) {
		/* Promoted: the LARGE_MINCLASS extent becomes an object of
		 * the requested class (see imalloc_sample). */
		prof_szind_set(extent, elm, sz_size2index(usize));
	}
	prof_tdata_t *tdata = prof_tdata_get(tsd);
	if (tdata == NULL)
		return;
	prof_tctx_t *t = NULL;
	bool verify = false;
#ifdef JEMALLOC_PROF_LIBGCC
	if (ra_slot != NULL) {
		/* Walks are checked against libgcc often while a thread's
		 * paths are new, then now and then, then rarely. */
		if (unlikely(--tdata->verify_left == 0)) {
			uint64_t w = tdata->ucache_walks += tdata->verify_every;
			tdata->verify_every = w < 256 ? 32 : w < 2048 ? 1024 :
			    4096;
			tdata->verify_left = tdata->verify_every;
			verify = true;
		}
		if (!verify)
			t = prof_memo_get(tdata, ra_slot);
	}
#endif
	if (t == NULL)
		t = prof_tctx_walk(tsd, tdata, ra_slot, verify);
	if (t != NULL) {
		/* Cached: neither a sweep nor another thread's lookup
		 * changes it until this thread replaces it. */
		/* Bytes before objects: a dump that sees the object (by
		 * acquire) sees its bytes. */
		__atomic_fetch_add(&t->cnts.curbytes, usize, __ATOMIC_RELAXED);
		__atomic_fetch_add(&t->cnts.curobjs, 1, __ATOMIC_RELEASE);
		if (opt_prof_accum) {
			__atomic_fetch_add(&t->cnts.accumbytes, usize,
			    __ATOMIC_RELAXED);
			__atomic_fetch_add(&t->cnts.accumobjs, 1,
			    __ATOMIC_RELEASE);
		}
		extent_prof_tctx_set(extent, t);
	}
}

bool
prof_sampled(tsdn_t *tsdn, const void *ptr) {
	extent_t *extent = extent_lookup(tsdn, ptr, true);
	return extent != NULL && !extent_slab_get(extent) &&
	    extent_prof_tctx_get(extent) != NULL;
}

/*
 * A sampled extent is freed: drops its record, and turns a promoted
 * object back into the LARGE_MINCLASS extent it is.  elm is its first
 * page's radix-tree element, NULL to look it up.  Returns the class to
 * free it by.
 */
static unsigned
prof_extent_release(tsdn_t *tsdn, extent_t *extent, rtree_leaf_elm_t *elm,
    unsigned szind) {
	prof_tctx_t *t = extent_prof_tctx_get(extent);
	if (t != NULL) {
		extent_prof_tctx_set(extent, NULL);
		__atomic_fetch_sub(&t->cnts.curbytes, sz_index2size(szind),
		    __ATOMIC_RELAXED);
		/* The last touch of t (see "Context lifetime"). */
		uint64_t was = __atomic_fetch_sub(&t->cnts.curobjs, 1,
		    __ATOMIC_RELEASE);
		assert(was > 0);
		(void)was;
	}
	if (szind < NBINS) {
		szind = sz_size2index(LARGE_MINCLASS);
		if (elm == NULL)
			elm = prof_elm_lookup(tsdn, extent_addr_get(extent));
		prof_szind_set(extent, elm, szind);
	}
	return szind;
}

unsigned
prof_free_hook(tsd_t *tsd, rtree_leaf_elm_t *elm, unsigned szind) {
	tsdn_t *tsdn = tsd_tsdn(tsd);
	extent_t *extent = rtree_leaf_elm_bits_extent_get(
	    rtree_leaf_elm_bits_read(elm, true));
	if (extent == NULL || extent_slab_get(extent) ||
	    extent_state_get(extent) != extent_state_active)
		return szind;
	return prof_extent_release(tsdn, extent, elm, szind);
}

void
prof_extent_reset(tsdn_t *tsdn, extent_t *extent) {
	prof_extent_release(tsdn, extent, NULL,
	    extent_szind_get_maybe_invalid(extent));
}

size_t
prof_bt_count(void) {
	malloc_mutex_lock(&prof_mtx);
	size_t n = prof_table_count;
	malloc_mutex_unlock(&prof_mtx);
	return n;
}

/* --- dumps --------------------------------------------------------------------------- */

static void
prof_dump_flush(void) {
	if (prof_dump_buf_end == 0)
		return;
	size_t off = 0;
	while (off < prof_dump_buf_end && !prof_dump_err) {
		ssize_t w = malloc_write_fd(prof_dump_fd, prof_dump_buf + off,
		    prof_dump_buf_end - off);
		if (w <= 0)
			prof_dump_err = true;
		else
			off += (size_t)w;
	}
	prof_dump_buf_end = 0;
}

static void
prof_dump_write(const char *s, size_t len) {
	while (len > 0) {
		if (prof_dump_buf_end == PROF_DUMP_BUFSIZE)
			prof_dump_flush();
		size_t n = PROF_DUMP_BUFSIZE - prof_dump_buf_end;
		if (n > len)
			n = len;
		memcpy(prof_dump_buf + prof_dump_buf_end, s, n);
		prof_dump_buf_end += n;
		s += n;
		len -= n;
	}
}

JEMALLOC_FORMAT(1, 2)
static void
prof_dump_printf(const char *format, ...) {
	char buf[256];
	va_list ap;
	va_start(ap, format);
	malloc_vsnprintf(buf, sizeof(buf), format, ap);
	va_end(ap);
	prof_dump_write(buf, strlen(buf));
}

static void
prof_dump_cnts(const prof_cnt_t *c) {
	prof_dump_printf("%"PRIu64": %"PRIu64" [%"PRIu64": %"PRIu64"]",
	    c->curobjs, c->curbytes, c->accumobjs, c->accumbytes);
}

static void
prof_cnt_add(prof_cnt_t *sum, const prof_cnt_t *c) {
	sum->curobjs += c->curobjs;
	sum->curbytes += c->curbytes;
	sum->accumobjs += c->accumobjs;
	sum->accumbytes += c->accumbytes;
}

static bool
prof_cnt_empty(const prof_cnt_t *c) {
	return c->curobjs == 0 && c->accumobjs == 0;
}

/* Under prof_mtx: a tctx's counts as a dump shows them (none from older
 * epochs; cumulative counts only with prof_accum). */
static prof_cnt_t
prof_tctx_dump_cnts(const prof_tctx_t *t) {
	prof_cnt_t c = {0, 0, 0, 0};
	if (t->epoch != prof_epoch)
		return c;
	/* The two counts change one after the other without the lock: no
	 * objects means no bytes. */
	c.curobjs = prof_cnt_load(&t->cnts.curobjs);
	c.curbytes = c.curobjs == 0 ? 0 : prof_cnt_load(&t->cnts.curbytes);
	if (opt_prof_accum) {
		c.accumobjs = prof_cnt_load(&t->cnts.accumobjs);
		c.accumbytes = c.accumobjs == 0 ? 0 :
		    prof_cnt_load(&t->cnts.accumbytes);
	}
	return c;
}

/* Under prof_mtx: sums per thread and in all. */
static void
prof_dump_sum_locked(prof_cnt_t *all, size_t *ngctx) {
	memset(all, 0, sizeof(*all));
	*ngctx = 0;
	for (prof_tdata_t *d = prof_tdatas; d != NULL; d = d->next)
		memset(&d->dump_cnt, 0, sizeof(d->dump_cnt));
	for (size_t i = 0; i < prof_table_size; i++) {
		for (prof_gctx_t *g = prof_table[i]; g != NULL; g = g->hnext) {
			bool any = false;
			for (prof_tctx_t *t = g->tctxs; t != NULL;
			    t = t->next) {
				/* One snapshot, so that a dump's records
				 * add up to its totals. */
				prof_cnt_t c = prof_tctx_dump_cnts(t);
				t->dump_cnts = c;
				prof_cnt_add(&t->tdata->dump_cnt, &c);
				prof_cnt_add(all, &c);
				any |= !prof_cnt_empty(&c);
			}
			if (any)
				(*ngctx)++;
		}
	}
}

static void
prof_dump_maps(void) {
	prof_dump_printf("\nMAPPED_LIBRARIES:\n");
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	for (;;) {
		if (prof_dump_buf_end == PROF_DUMP_BUFSIZE)
			prof_dump_flush();
		ssize_t r = malloc_read_fd(fd, prof_dump_buf +
		    prof_dump_buf_end, PROF_DUMP_BUFSIZE - prof_dump_buf_end);
		if (r <= 0)
			break;
		prof_dump_buf_end += (size_t)r;
	}
	close(fd);
}

/*
 * The leak summary at exit, unsampled as jeprof does; filename is the
 * final dump that shows the details (NULL: none was written).
 */
static void
prof_leak_report(const prof_cnt_t *all, size_t ngctx, size_t lg,
    const char *filename) {
	if (all->curbytes == 0)
		return;
	double period = (double)((uint64_t)1 << lg);
	double ratio = ((double)all->curbytes / (double)all->curobjs) / period;
	double scale = 1.0 / (1.0 - exp(-ratio));
	uint64_t bytes = (uint64_t)round((double)all->curbytes * scale);
	uint64_t objs = (uint64_t)round((double)all->curobjs * scale);
	malloc_printf("<jemalloc>: Leak approximation summary: ~%"PRIu64
	    " byte%s, ~%"PRIu64" object%s, >= %zu context%s\n", bytes,
	    bytes != 1 ? "s" : "", objs, objs != 1 ? "s" : "", ngctx,
	    ngctx != 1 ? "s" : "");
	if (filename != NULL) {
		malloc_printf("<jemalloc>: Run jeprof on \"%s\" for leak "
		    "detail\n", filename);
	} else {
		malloc_printf("<jemalloc>: Set prof_final:true (or call "
		    "mallctl(\"prof.dump\")) and run jeprof on the dump for "
		    "leak detail\n");
	}
}

/* Under prof_dump_mtx: writes the whole profile to filename. */
static bool
prof_dump_file(const char *filename, bool leakcheck) {
	prof_dump_fd = open(filename, O_CREAT | O_WRONLY | O_TRUNC |
	    O_CLOEXEC, 0644);
	if (prof_dump_fd == -1) {
		malloc_printf("<jemalloc>: creat(\"%s\"), 0644) failed\n",
		    filename);
		if (opt_abort)
			abort();
		return true;
	}
	prof_dump_err = false;
	prof_dump_buf_end = 0;

	prof_cnt_t all;
	size_t ngctx;
	malloc_mutex_lock(&prof_mtx);
	prof_dump_sum_locked(&all, &ngctx);
	size_t lg = __atomic_load_n(&lg_prof_sample, __ATOMIC_RELAXED);
	prof_dump_printf("heap_v2/%"PRIu64"\n  t*: ", (uint64_t)1 << lg);
	prof_dump_cnts(&all);
	prof_dump_printf("\n");
	for (prof_tdata_t *d = prof_tdatas; d != NULL; d = d->next) {
		if (!d->attached && prof_cnt_empty(&d->dump_cnt))
			continue;
		prof_dump_printf("  t%"PRIu64": ", d->thr_uid);
		prof_dump_cnts(&d->dump_cnt);
		if (d->thread_name != NULL && d->thread_name[0] != '\0') {
			prof_dump_printf(" ");
			prof_dump_write(d->thread_name,
			    strlen(d->thread_name));
		}
		prof_dump_printf("\n");
	}
	for (size_t i = 0; i < prof_table_size; i++) {
		for (prof_gctx_t *g = prof_table[i]; g != NULL; g = g->hnext) {
			prof_cnt_t sum = {0, 0, 0, 0};
			for (prof_tctx_t *t = g->tctxs; t != NULL;
			    t = t->next) {
				prof_cnt_add(&sum, &t->dump_cnts);
			}
			if (prof_cnt_empty(&sum))
				continue;
			prof_dump_printf("@");
			for (unsigned k = 0; k < g->len; k++) {
				prof_dump_printf(" 0x%lx",
				    (unsigned long)(uintptr_t)g->vec[k]);
			}
			prof_dump_printf("\n  t*: ");
			prof_dump_cnts(&sum);
			prof_dump_printf("\n");
			for (prof_tctx_t *t = g->tctxs; t != NULL;
			    t = t->next) {
				prof_cnt_t c = t->dump_cnts;
				if (prof_cnt_empty(&c))
					continue;
				prof_dump_printf("  t%"PRIu64": ",
				    t->tdata->thr_uid);
				prof_dump_cnts(&c);
				prof_dump_printf("\n");
			}
		}
	}
	malloc_mutex_unlock(&prof_mtx);
	prof_dump_maps();
	prof_dump_flush();
	close(prof_dump_fd);

	if (leakcheck)
		prof_leak_report(&all, ngctx, lg, filename);
	return prof_dump_err;
}

/* <prefix>.<pid>.<seq>.<c><vseq>.heap, or .f.heap for the final dump. */
static void
prof_dump_filename(char *buf, char c, uint64_t vseq) {
	if (c == 'f') {
		malloc_snprintf(buf, PATH_MAX + 1, "%s.%d.%"PRIu64".f.heap",
		    opt_prof_prefix, (int)getpid(), prof_dump_seq);
	} else {
		malloc_snprintf(buf, PATH_MAX + 1, "%s.%d.%"PRIu64".%c%"PRIu64
		    ".heap", opt_prof_prefix, (int)getpid(), prof_dump_seq, c,
		    vseq);
	}
	prof_dump_seq++;
}

static bool
prof_dump_auto(char c) {
	if (!prof_booted || opt_prof_prefix[0] == '\0')
		return true;
	char filename[PATH_MAX + 1];
	malloc_mutex_lock(&prof_dump_mtx);
	uint64_t *vseq = c == 'm' ? &prof_dump_mseq : c == 'i' ?
	    &prof_dump_iseq : &prof_dump_useq;
	prof_dump_filename(filename, c, (*vseq)++);
	bool err = prof_dump_file(filename, false);
	malloc_mutex_unlock(&prof_dump_mtx);
	return err;
}

bool
prof_mdump(tsd_t *tsd, const char *filename) {
	if (!opt_prof || !prof_booted)
		return true;
	if (filename == NULL)
		return prof_dump_auto('m');
	pre_reentrancy(tsd);
	malloc_mutex_lock(&prof_dump_mtx);
	bool err = prof_dump_file(filename, false);
	malloc_mutex_unlock(&prof_dump_mtx);
	post_reentrancy(tsd);
	return err;
}

void
prof_gdump_note(size_t footprint) {
	size_t high = __atomic_load_n(&prof_gdump_high, __ATOMIC_RELAXED);
	while (footprint > high) {
		if (__atomic_compare_exchange_n(&prof_gdump_high, &high,
		    footprint, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
			if (__atomic_load_n(&prof_gdump_val,
			    __ATOMIC_RELAXED)) {
				__atomic_store_n(&prof_gdump_pending, true,
				    __ATOMIC_RELAXED);
				__atomic_store_n(&prof_dump_pending, true,
				    __ATOMIC_RELEASE);
			}
			break;
		}
	}
}

void
prof_pending_dumps(tsd_t *tsd) {
	if (tsd_reentrancy_level_get(tsd) > 0 || !prof_booted)
		return;
	__atomic_store_n(&prof_dump_pending, false, __ATOMIC_RELAXED);
	bool active = __atomic_load_n(&prof_active_val, __ATOMIC_RELAXED);
	pre_reentrancy(tsd);
	if (__atomic_exchange_n(&prof_idump_pending, false, __ATOMIC_ACQ_REL)
	    && active)
		prof_dump_auto('i');
	if (__atomic_exchange_n(&prof_gdump_pending, false, __ATOMIC_ACQ_REL)
	    && active)
		prof_dump_auto('u');
	post_reentrancy(tsd);
}

/* atexit: the final dump and the leak report. */
static void
prof_fdump(void) {
	if (!prof_booted)
		return;
	tsd_t *tsd = tsd_fetch();
	pre_reentrancy(tsd);
	malloc_mutex_lock(&prof_dump_mtx);
	if (opt_prof_final && opt_prof_prefix[0] != '\0') {
		char filename[PATH_MAX + 1];
		prof_dump_filename(filename, 'f', 0);
		prof_dump_file(filename, opt_prof_leak);
	} else if (opt_prof_leak) {
		prof_cnt_t all;
		size_t ngctx;
		malloc_mutex_lock(&prof_mtx);
		prof_dump_sum_locked(&all, &ngctx);
		malloc_mutex_unlock(&prof_mtx);
		prof_leak_report(&all, ngctx, __atomic_load_n(&lg_prof_sample,
		    __ATOMIC_RELAXED), NULL);
	}
	malloc_mutex_unlock(&prof_dump_mtx);
	post_reentrancy(tsd);
}

/* --- reset ---------------------------------------------------------------------- */

void
prof_reset(tsd_t *tsd, size_t lg_sample) {
	tsdn_t *tsdn = tsd_tsdn(tsd);
	malloc_mutex_lock(&prof_dump_mtx);
	malloc_mutex_lock(&prof_mtx);
	__atomic_store_n(&lg_prof_sample, lg_sample, __ATOMIC_RELAXED);
	__atomic_store_n(&prof_epoch, prof_epoch + 1, __ATOMIC_RELAXED);
	/* Contexts of the old epoch that count no live object go now; the
	 * others with a later sweep after their last object is freed. */
	prof_sweep_locked(tsdn);
	malloc_mutex_unlock(&prof_mtx);
	malloc_mutex_unlock(&prof_dump_mtx);
}

/* --- controls ------------------------------------------------------------------ */

bool
prof_active_get(void) {
	return __atomic_load_n(&prof_active_val, __ATOMIC_RELAXED);
}

bool
prof_active_set(bool active) {
	return __atomic_exchange_n(&prof_active_val, active, __ATOMIC_RELAXED);
}

bool
prof_thread_active_init_get(void) {
	return __atomic_load_n(&prof_thread_active_init_val, __ATOMIC_RELAXED);
}

bool
prof_thread_active_init_set(bool active) {
	return __atomic_exchange_n(&prof_thread_active_init_val, active,
	    __ATOMIC_RELAXED);
}

bool
prof_gdump_get(void) {
	return __atomic_load_n(&prof_gdump_val, __ATOMIC_RELAXED);
}

bool
prof_gdump_set(bool gdump) {
	return __atomic_exchange_n(&prof_gdump_val, gdump, __ATOMIC_RELAXED);
}

bool
prof_thread_active_get(tsd_t *tsd) {
	prof_tdata_t *tdata = prof_tdata_get(tsd);
	return tdata != NULL && tdata->active;
}

/* Returns true on failure. */
bool
prof_thread_active_set(tsd_t *tsd, bool active) {
	prof_tdata_t *tdata = prof_tdata_get(tsd);
	if (tdata == NULL)
		return true;
	tdata->active = active;
	return false;
}

const char *
prof_thread_name_get(tsd_t *tsd) {
	prof_tdata_t *tdata = prof_tdata_get(tsd);
	if (tdata == NULL || tdata->thread_name == NULL)
		return "";
	return tdata->thread_name;
}

/* 0, or the mallctl error: EFAULT for a bad name, EAGAIN without memory. */
int
prof_thread_name_set(tsd_t *tsd, const char *name) {
	if (name == NULL)
		return EFAULT;
	for (const char *p = name; *p != '\0'; p++) {
		if (!isgraph((unsigned char)*p) && !isblank((unsigned char)*p))
			return EFAULT;
	}
	prof_tdata_t *tdata = prof_tdata_get(tsd);
	if (tdata == NULL)
		return EAGAIN;
	size_t len = strlen(name);
	char *copy = NULL;
	if (len > 0) {
		pre_reentrancy(tsd);
		copy = prof_meta_alloc(tsd_tsdn(tsd), len + 1);
		post_reentrancy(tsd);
		if (copy == NULL)
			return EAGAIN;
		memcpy(copy, name, len + 1);
	}
	malloc_mutex_lock(&prof_mtx);
	char *old = tdata->thread_name;
	tdata->thread_name = copy;
	malloc_mutex_unlock(&prof_mtx);
	pre_reentrancy(tsd);
	prof_meta_free(tsd_tsdn(tsd), old);
	post_reentrancy(tsd);
	return 0;
}

/* --- boot ------------------------------------------------------------------------- */

void
prof_boot1(void) {
	/* Before the first draw (this thread may sample before boot2). */
	prof_log2_init();
	/* prof_leak alone turns profiling on, without automatic dumps. */
	if (opt_prof_leak && !opt_prof) {
		opt_prof = true;
		opt_prof_gdump = false;
	} else if (opt_prof && opt_lg_prof_interval >= 0) {
		prof_interval = (uint64_t)1 << opt_lg_prof_interval;
	}
	lg_prof_sample = opt_lg_prof_sample;
	prof_active_val = opt_prof_active;
	prof_thread_active_init_val = opt_prof_thread_active_init;
	prof_gdump_val = opt_prof_gdump;
}

/* Once arenas exist and the thread may allocate; returns true on
 * failure. */
bool
prof_boot2(tsd_t *tsd) {
	if (malloc_mutex_init(&prof_mtx, "prof", WITNESS_RANK_PROF) ||
	    malloc_mutex_init(&prof_dump_mtx, "prof_dump",
	    WITNESS_RANK_PROF_DUMP))
		return true;
	if (!opt_prof)
		return false;
	prof_sweep_at = PROF_SWEEP_MIN;
	prof_table_size = 1024;
	prof_table = prof_meta_alloc(tsd_tsdn(tsd), prof_table_size *
	    sizeof(*prof_table));
	if (prof_table == NULL)
		return true;
	if ((opt_prof_final && opt_prof_prefix[0] != '\0') || opt_prof_leak) {
		if (atexit(prof_fdump) != 0) {
			malloc_write("<jemalloc>: Error in atexit()\n");
			if (opt_abort)
				abort();
		}
	}
	prof_booted = true;
	return false;
}

#else /* !JEMALLOC_PROF: nothing of this is reachable. */

void prof_boot1(void) {}
bool prof_boot2(tsd_t *tsd) { return false; }
void prof_tsd_init(tsd_t *tsd) {}
void prof_tdata_cleanup(tsd_t *tsd) {}
bool prof_sample_hard(tsd_t *tsd, size_t usize) { return false; }
void prof_malloc_sampled(tsd_t *tsd, void *ptr, size_t usize,
    void **ra_slot) {}
unsigned prof_free_hook(tsd_t *tsd, rtree_leaf_elm_t *elm, unsigned szind) {
	return szind;
}
void prof_extent_reset(tsdn_t *tsdn, extent_t *extent) {}
bool prof_sampled(tsdn_t *tsdn, const void *ptr) { return false; }
void prof_gdump_note(size_t footprint) {}
void prof_pending_dumps(tsd_t *tsd) {}
uint64_t prof_sample_interval_draw(tsd_t *tsd) { return UINT64_MAX; }
size_t prof_bt_count(void) { return 0; }
uint64_t prof_backtrace_cache_mismatches(void) { return 0; }

#endif
