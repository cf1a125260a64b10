/*
 * The whole mallctl namespace of facts §4, table-driven.  Every name of the
 * tables (with <i> expanded to 0 and, where the manual allows it, to
 * MALLCTL_ARENAS_ALL; <j> to 0 and the last valid index; {counter} to the
 * seven mutex counters) is checked for:
 *   - mallctlnametomib: the component count, and partial MIBs (facts §2.1:
 *     *miblenp becomes the lesser of the component count and the input);
 *   - a read with the right size (nothing written past it), the same value
 *     through mallctlbymib;
 *   - a read with a wrong *oldlenp: EINVAL, as much as fits is copied and
 *     nothing past *oldlenp is touched;
 *   - EPERM for writes to read-only names and reads of write-only and void
 *     names, EINVAL for a wrong newlen, and a harmless write-back (the
 *     value just read) for read-write names;
 *   - ENOENT for names whose feature is not built (prof.*, opt.prof*,
 *     thread.prof.*, opt.utrace, opt.xmalloc ...) and for unknown names.
 * The extension names of this implementation (mem_limit.*,
 * opt.mem_limit_*) are walked as well.  Names with side effects are only
 * exercised where that is harmless: arena.<i>.purge/decay, epoch,
 * thread.tcache.flush, stats.mutexes.reset; reset/destroy only on arenas
 * made by arenas.create; background_thread is enabled then disabled.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#define JEMALLOC_MANGLE
#include <jemalloc/jemalloc.h>

#include "test.h"

/* --- the table ------------------------------------------------------------ */

typedef enum {
	M_R,		/* r- */
	M_RW,		/* rw */
	M_W,		/* -w */
	M_VOID		/* -- */
} ctl_mode_t;

/* What a name needs to exist. */
enum {
	N_NONE,
	N_STATS,	/* --enable-stats (config.stats) */
	N_FILL,		/* --enable-fill (config.fill) */
	N_UTRACE,	/* --enable-utrace (config.utrace) */
	N_XMALLOC,	/* --enable-xmalloc (config.xmalloc) */
	N_PROF,		/* --enable-prof (config.prof) */
	N_RETAIN	/* opt.retain (arena.<i>.retain_grow_limit) */
};

/* Row flags. */
#define X_I0		0x001u	/* <i> = 0 */
#define X_IALL		0x002u	/* <i> = MALLCTL_ARENAS_ALL */
#define X_JBIN		0x004u	/* <j> over the bins */
#define X_JLEXT		0x008u	/* <j> over the large classes */
#define X_MUTEX		0x010u	/* {c}: the seven mutex counters */
#define F_VOLATILE	0x020u	/* two reads may differ */
#define F_CREATES	0x040u	/* each read creates an object (cleaned up) */
#define F_SPECIAL	0x080u	/* rw, no generic checks (arenas.lookup) */
#define F_NOWB		0x800u	/* rw, reads checked but no write-back */
#define F_EFAULT_AUTO	0x100u	/* void: EFAULT on an automatic arena */
#define F_EXT		0x200u	/* an extension of this implementation */
#define F_DSS		0x400u	/* write back arena.0.dss's value */

typedef struct {
	const char *tmpl;
	size_t size;
	ctl_mode_t mode;
	unsigned need;
	unsigned flags;
} row_t;

#define B sizeof(bool)
#define U sizeof(unsigned)
#define ZU sizeof(size_t)
#define ZD sizeof(ssize_t)
#define U64 sizeof(uint64_t)
#define U32 sizeof(uint32_t)
#define STR sizeof(const char *)
#define PTR sizeof(void *)
#define IA (X_I0 | X_IALL)

static const row_t rows[] = {
	/* Top level. */
	{"version", STR, M_R, N_NONE, 0},
	{"epoch", U64, M_RW, N_NONE, F_VOLATILE},
	{"background_thread", B, M_RW, N_NONE, 0},
	{"max_background_threads", ZU, M_RW, N_NONE, 0},
	/* Extensions. */
	{"mem_limit.soft", ZU, M_RW, N_NONE, F_EXT},
	{"mem_limit.hard", ZU, M_RW, N_NONE, F_EXT},
	{"mem_limit.footprint", ZU, M_R, N_NONE, F_EXT | F_VOLATILE},

	/* config.* */
	{"config.cache_oblivious", B, M_R, N_NONE, 0},
	{"config.debug", B, M_R, N_NONE, 0},
	{"config.fill", B, M_R, N_NONE, 0},
	{"config.lazy_lock", B, M_R, N_NONE, 0},
	{"config.malloc_conf", STR, M_R, N_NONE, 0},
	{"config.prof", B, M_R, N_NONE, 0},
	{"config.prof_libgcc", B, M_R, N_NONE, 0},
	{"config.prof_libunwind", B, M_R, N_NONE, 0},
	{"config.stats", B, M_R, N_NONE, 0},
	{"config.utrace", B, M_R, N_NONE, 0},
	{"config.xmalloc", B, M_R, N_NONE, 0},

	/* opt.* */
	{"opt.abort", B, M_R, N_NONE, 0},
	{"opt.abort_conf", B, M_R, N_NONE, 0},
	{"opt.metadata_thp", STR, M_R, N_NONE, 0},
	{"opt.retain", B, M_R, N_NONE, 0},
	{"opt.dss", STR, M_R, N_NONE, 0},
	{"opt.narenas", U, M_R, N_NONE, 0},
	{"opt.percpu_arena", STR, M_R, N_NONE, 0},
	{"opt.background_thread", B, M_R, N_NONE, 0},
	{"opt.max_background_threads", ZU, M_R, N_NONE, 0},
	{"opt.dirty_decay_ms", ZD, M_R, N_NONE, 0},
	{"opt.muzzy_decay_ms", ZD, M_R, N_NONE, 0},
	{"opt.lg_extent_max_active_fit", ZU, M_R, N_NONE, 0},
	{"opt.stats_print", B, M_R, N_NONE, 0},
	{"opt.stats_print_opts", STR, M_R, N_NONE, 0},
	{"opt.junk", STR, M_R, N_FILL, 0},
	{"opt.zero", B, M_R, N_FILL, 0},
	{"opt.utrace", B, M_R, N_UTRACE, 0},
	{"opt.xmalloc", B, M_R, N_XMALLOC, 0},
	{"opt.tcache", B, M_R, N_NONE, 0},
	{"opt.lg_tcache_max", ZD, M_R, N_NONE, 0},
	{"opt.thp", STR, M_R, N_NONE, 0},
	{"opt.prof", B, M_R, N_PROF, 0},
	{"opt.prof_prefix", STR, M_R, N_PROF, 0},
	{"opt.prof_active", B, M_R, N_PROF, 0},
	{"opt.prof_thread_active_init", B, M_R, N_PROF, 0},
	{"opt.lg_prof_sample", ZU, M_R, N_PROF, 0},
	{"opt.prof_accum", B, M_R, N_PROF, 0},
	{"opt.lg_prof_interval", ZD, M_R, N_PROF, 0},
	{"opt.prof_gdump", B, M_R, N_PROF, 0},
	{"opt.prof_final", B, M_R, N_PROF, 0},
	{"opt.prof_leak", B, M_R, N_PROF, 0},
	{"opt.mem_limit_soft", ZU, M_R, N_NONE, F_EXT},
	{"opt.mem_limit_hard", ZU, M_R, N_NONE, F_EXT},

	/* thread.* */
	{"thread.arena", U, M_RW, N_NONE, 0},
	{"thread.allocated", U64, M_R, N_STATS, 0},
	{"thread.allocatedp", PTR, M_R, N_STATS, 0},
	{"thread.deallocated", U64, M_R, N_STATS, 0},
	{"thread.deallocatedp", PTR, M_R, N_STATS, 0},
	{"thread.tcache.enabled", B, M_RW, N_NONE, 0},
	{"thread.tcache.flush", 0, M_VOID, N_NONE, 0},
	/* 5.1.0 reads or sets it (one or the other per call): see
	 * test/integration/prof.c. */
	{"thread.prof.name", STR, M_RW, N_PROF, F_SPECIAL},
	{"thread.prof.active", B, M_RW, N_PROF, 0},

	/* tcache.* */
	{"tcache.create", U, M_R, N_NONE, F_CREATES | F_VOLATILE},
	{"tcache.flush", U, M_W, N_NONE, 0},
	{"tcache.destroy", U, M_W, N_NONE, 0},

	/* arena.<i>.* */
	{"arena.<i>.initialized", B, M_R, N_NONE, IA},
	{"arena.<i>.decay", 0, M_VOID, N_NONE, IA},
	{"arena.<i>.purge", 0, M_VOID, N_NONE, IA},
	{"arena.<i>.reset", 0, M_VOID, N_NONE, X_I0 | F_EFAULT_AUTO},
	{"arena.<i>.destroy", 0, M_VOID, N_NONE, X_I0 | F_EFAULT_AUTO},
	{"arena.<i>.dss", STR, M_RW, N_NONE, IA | F_DSS},
	{"arena.<i>.dirty_decay_ms", ZD, M_RW, N_NONE, X_I0},
	{"arena.<i>.muzzy_decay_ms", ZD, M_RW, N_NONE, X_I0},
	{"arena.<i>.retain_grow_limit", ZU, M_RW, N_RETAIN, X_I0},
	{"arena.<i>.extent_hooks", PTR, M_RW, N_NONE, X_I0},

	/* arenas.* */
	{"arenas.narenas", U, M_R, N_NONE, 0},
	{"arenas.dirty_decay_ms", ZD, M_RW, N_NONE, 0},
	{"arenas.muzzy_decay_ms", ZD, M_RW, N_NONE, 0},
	{"arenas.quantum", ZU, M_R, N_NONE, 0},
	{"arenas.page", ZU, M_R, N_NONE, 0},
	{"arenas.tcache_max", ZU, M_R, N_NONE, 0},
	{"arenas.nbins", U, M_R, N_NONE, 0},
	{"arenas.nhbins", U, M_R, N_NONE, 0},
	{"arenas.bin.<j>.size", ZU, M_R, N_NONE, X_JBIN},
	{"arenas.bin.<j>.nregs", U32, M_R, N_NONE, X_JBIN},
	{"arenas.bin.<j>.slab_size", ZU, M_R, N_NONE, X_JBIN},
	{"arenas.nlextents", U, M_R, N_NONE, 0},
	{"arenas.lextent.<j>.size", ZU, M_R, N_NONE, X_JLEXT},
	{"arenas.create", U, M_RW, N_NONE, F_CREATES | F_VOLATILE | F_NOWB},
	{"arenas.lookup", U, M_RW, N_NONE, F_SPECIAL},

	/* prof.* */
	{"prof.thread_active_init", B, M_RW, N_PROF, 0},
	{"prof.active", B, M_RW, N_PROF, 0},
	{"prof.dump", STR, M_W, N_PROF, 0},
	{"prof.gdump", B, M_RW, N_PROF, 0},
	{"prof.reset", ZU, M_W, N_PROF, 0},
	{"prof.lg_sample", ZU, M_R, N_PROF, 0},
	{"prof.interval", U64, M_R, N_PROF, 0},

	/* stats.* */
	{"stats.allocated", ZU, M_R, N_STATS, 0},
	{"stats.active", ZU, M_R, N_STATS, 0},
	{"stats.metadata", ZU, M_R, N_STATS, 0},
	{"stats.metadata_thp", ZU, M_R, N_STATS, 0},
	{"stats.resident", ZU, M_R, N_STATS, 0},
	{"stats.mapped", ZU, M_R, N_STATS, 0},
	{"stats.retained", ZU, M_R, N_STATS, 0},
	{"stats.background_thread.num_threads", ZU, M_R, N_STATS, 0},
	{"stats.background_thread.num_runs", U64, M_R, N_STATS, 0},
	{"stats.background_thread.run_interval", U64, M_R, N_STATS, 0},
	{"stats.mutexes.ctl.{c}", 0, M_R, N_STATS, X_MUTEX},
	{"stats.mutexes.background_thread.{c}", 0, M_R, N_STATS, X_MUTEX},
	{"stats.mutexes.prof.{c}", 0, M_R, N_STATS, X_MUTEX},
	{"stats.mutexes.reset", 0, M_VOID, N_STATS, 0},

	/* stats.arenas.<i>.* */
	{"stats.arenas.<i>.dss", STR, M_R, N_NONE, IA},
	{"stats.arenas.<i>.dirty_decay_ms", ZD, M_R, N_NONE, IA},
	{"stats.arenas.<i>.muzzy_decay_ms", ZD, M_R, N_NONE, IA},
	{"stats.arenas.<i>.nthreads", U, M_R, N_NONE, IA},
	{"stats.arenas.<i>.uptime", U64, M_R, N_NONE, IA},
	{"stats.arenas.<i>.pactive", ZU, M_R, N_NONE, IA},
	{"stats.arenas.<i>.pdirty", ZU, M_R, N_NONE, IA},
	{"stats.arenas.<i>.pmuzzy", ZU, M_R, N_NONE, IA},
	{"stats.arenas.<i>.mapped", ZU, M_R, N_STATS, IA},
	{"stats.arenas.<i>.retained", ZU, M_R, N_STATS, IA},
	{"stats.arenas.<i>.base", ZU, M_R, N_STATS, IA},
	{"stats.arenas.<i>.internal", ZU, M_R, N_STATS, IA},
	{"stats.arenas.<i>.metadata_thp", ZU, M_R, N_STATS, IA},
	{"stats.arenas.<i>.resident", ZU, M_R, N_STATS, IA},
	{"stats.arenas.<i>.tcache_bytes", ZU, M_R, N_STATS, IA},
	{"stats.arenas.<i>.dirty_npurge", U64, M_R, N_STATS, IA},
	{"stats.arenas.<i>.dirty_nmadvise", U64, M_R, N_STATS, IA},
	{"stats.arenas.<i>.dirty_purged", U64, M_R, N_STATS, IA},
	{"stats.arenas.<i>.muzzy_npurge", U64, M_R, N_STATS, IA},
	{"stats.arenas.<i>.muzzy_nmadvise", U64, M_R, N_STATS, IA},
	{"stats.arenas.<i>.muzzy_purged", U64, M_R, N_STATS, IA},
	{"stats.arenas.<i>.small.allocated", ZU, M_R, N_STATS, IA},
	{"stats.arenas.<i>.small.nmalloc", U64, M_R, N_STATS, IA},
	{"stats.arenas.<i>.small.ndalloc", U64, M_R, N_STATS, IA},
	{"stats.arenas.<i>.small.nrequests", U64, M_R, N_STATS, IA},
	{"stats.arenas.<i>.large.allocated", ZU, M_R, N_STATS, IA},
	{"stats.arenas.<i>.large.nmalloc", U64, M_R, N_STATS, IA},
	{"stats.arenas.<i>.large.ndalloc", U64, M_R, N_STATS, IA},
	{"stats.arenas.<i>.large.nrequests", U64, M_R, N_STATS, IA},
	{"stats.arenas.<i>.bins.<j>.nmalloc", U64, M_R, N_STATS, IA | X_JBIN},
	{"stats.arenas.<i>.bins.<j>.ndalloc", U64, M_R, N_STATS, IA | X_JBIN},
	{"stats.arenas.<i>.bins.<j>.nrequests", U64, M_R, N_STATS,
	    IA | X_JBIN},
	{"stats.arenas.<i>.bins.<j>.curregs", ZU, M_R, N_STATS, IA | X_JBIN},
	{"stats.arenas.<i>.bins.<j>.nfills", U64, M_R, N_NONE, IA | X_JBIN},
	{"stats.arenas.<i>.bins.<j>.nflushes", U64, M_R, N_NONE, IA | X_JBIN},
	{"stats.arenas.<i>.bins.<j>.nslabs", U64, M_R, N_STATS, IA | X_JBIN},
	{"stats.arenas.<i>.bins.<j>.nreslabs", U64, M_R, N_STATS, IA | X_JBIN},
	{"stats.arenas.<i>.bins.<j>.curslabs", ZU, M_R, N_STATS, IA | X_JBIN},
	{"stats.arenas.<i>.bins.<j>.mutex.{c}", 0, M_R, N_STATS,
	    IA | X_JBIN | X_MUTEX},
	{"stats.arenas.<i>.lextents.<j>.nmalloc", U64, M_R, N_STATS,
	    IA | X_JLEXT},
	{"stats.arenas.<i>.lextents.<j>.ndalloc", U64, M_R, N_STATS,
	    IA | X_JLEXT},
	{"stats.arenas.<i>.lextents.<j>.nrequests", U64, M_R, N_STATS,
	    IA | X_JLEXT},
	{"stats.arenas.<i>.lextents.<j>.curlextents", ZU, M_R, N_STATS,
	    IA | X_JLEXT},
	{"stats.arenas.<i>.mutexes.large.{c}", 0, M_R, N_STATS, IA | X_MUTEX},
	{"stats.arenas.<i>.mutexes.extent_avail.{c}", 0, M_R, N_STATS,
	    IA | X_MUTEX},
	{"stats.arenas.<i>.mutexes.extents_dirty.{c}", 0, M_R, N_STATS,
	    IA | X_MUTEX},
	{"stats.arenas.<i>.mutexes.extents_muzzy.{c}", 0, M_R, N_STATS,
	    IA | X_MUTEX},
	{"stats.arenas.<i>.mutexes.extents_retained.{c}", 0, M_R, N_STATS,
	    IA | X_MUTEX},
	{"stats.arenas.<i>.mutexes.decay_dirty.{c}", 0, M_R, N_STATS,
	    IA | X_MUTEX},
	{"stats.arenas.<i>.mutexes.decay_muzzy.{c}", 0, M_R, N_STATS,
	    IA | X_MUTEX},
	{"stats.arenas.<i>.mutexes.base.{c}", 0, M_R, N_STATS, IA | X_MUTEX},
	{"stats.arenas.<i>.mutexes.tcache_list.{c}", 0, M_R, N_STATS,
	    IA | X_MUTEX},
};

/* The {counter} names (facts §4): all uint64_t but max_num_thds. */
static const struct {
	const char *name;
	size_t size;
} counters[] = {
	{"num_ops", U64},
	{"num_wait", U64},
	{"num_spin_acq", U64},
	{"num_owner_switch", U64},
	{"total_wait_time", U64},
	{"max_wait_time", U64},
	{"max_num_thds", U32},
};
#define NCOUNTERS (sizeof(counters) / sizeof(counters[0]))

/* --- expansion ------------------------------------------------------------ */

typedef struct {
	char name[128];
	size_t size;
	ctl_mode_t mode;
	unsigned need;
	unsigned flags;
} entry_t;

#define MAX_ENTRIES 2048
static entry_t entries[MAX_ENTRIES];
static unsigned nentries;

/* Replaces the first occurrence of pat in s (in place, s has room). */
static void
subst(char *s, size_t cap, const char *pat, const char *rep) {
	char *p = strstr(s, pat);
	if (p == NULL)
		return;
	char tail[128];
	snprintf(tail, sizeof(tail), "%s", p + strlen(pat));
	*p = '\0';
	size_t used = strlen(s);
	snprintf(s + used, cap - used, "%s%s", rep, tail);
}

static void
add_entry(const row_t *r, const char *name, size_t size) {
	assert_true(nentries < MAX_ENTRIES, "too many names");
	entry_t *e = &entries[nentries++];
	snprintf(e->name, sizeof(e->name), "%s", name);
	e->size = size;
	e->mode = r->mode;
	e->need = r->need;
	e->flags = r->flags;
}

static void
expand_row(const row_t *r, unsigned nbins, unsigned nlextents) {
	unsigned is[2], ni = 0, js[2], nj = 0;
	if (r->flags & X_I0)
		is[ni++] = 0;
	if (r->flags & X_IALL)
		is[ni++] = MALLCTL_ARENAS_ALL;
	if (ni == 0)
		is[ni++] = 0;	/* no <i> in the name */
	if (r->flags & X_JBIN) {
		js[nj++] = 0;
		js[nj++] = nbins - 1;
	} else if (r->flags & X_JLEXT) {
		js[nj++] = 0;
		js[nj++] = nlextents - 1;
	} else {
		js[nj++] = 0;	/* no <j> in the name */
	}
	for (unsigned a = 0; a < ni; a++) {
		for (unsigned b = 0; b < nj; b++) {
			char name[128], num[32];
			snprintf(name, sizeof(name), "%s", r->tmpl);
			snprintf(num, sizeof(num), "%u", is[a]);
			subst(name, sizeof(name), "<i>", num);
			snprintf(num, sizeof(num), "%u", js[b]);
			subst(name, sizeof(name), "<j>", num);
			if (r->flags & X_MUTEX) {
				for (unsigned c = 0; c < NCOUNTERS; c++) {
					char full[128];
					snprintf(full, sizeof(full), "%s",
					    name);
					subst(full, sizeof(full), "{c}",
					    counters[c].name);
					add_entry(r, full, counters[c].size);
				}
			} else {
				add_entry(r, name, r->size);
			}
		}
	}
}

/* --- helpers -------------------------------------------------------------- */

static bool
get_bool(const char *name) {
	bool v = false;
	size_t sz = sizeof(v);
	int err = mallctl(name, &v, &sz, NULL, 0);
	if (err != 0)
		test_fail_at(__FILE__, __LINE__, "%s: error %d", name, err);
	return v;
}

static unsigned
get_unsigned(const char *name) {
	unsigned v = 0;
	size_t sz = sizeof(v);
	int err = mallctl(name, &v, &sz, NULL, 0);
	if (err != 0)
		test_fail_at(__FILE__, __LINE__, "%s: error %d", name, err);
	return v;
}

static size_t
get_zu(const char *name) {
	size_t v = 0;
	size_t sz = sizeof(v);
	int err = mallctl(name, &v, &sz, NULL, 0);
	if (err != 0)
		test_fail_at(__FILE__, __LINE__, "%s: error %d", name, err);
	return v;
}

static const char *
get_str(const char *name) {
	const char *v = NULL;
	size_t sz = sizeof(v);
	int err = mallctl(name, &v, &sz, NULL, 0);
	if (err != 0)
		test_fail_at(__FILE__, __LINE__, "%s: error %d", name, err);
	return v;
}

static bool
need_met(unsigned need) {
	switch (need) {
	case N_NONE: return true;
	case N_STATS: return get_bool("config.stats");
	case N_FILL: return get_bool("config.fill");
	case N_UTRACE: return get_bool("config.utrace");
	case N_XMALLOC: return get_bool("config.xmalloc");
	case N_PROF: return get_bool("config.prof");
	case N_RETAIN: return get_bool("opt.retain");
	default: return false;
	}
}

static unsigned
ncomponents(const char *name) {
	unsigned n = 1;
	for (const char *p = name; *p != '\0'; p++)
		n += *p == '.';
	return n;
}

#define GUARD 0xa5
#define BUFLEN 64
#define MIBLEN 16
#define MIB_GUARD ((size_t)0x5a5a5a5a5a5a5a5aULL)

/* Whether buf[from, to) all hold the guard byte. */
static bool
guard_intact(const unsigned char *buf, size_t from, size_t to) {
	for (size_t i = from; i < to; i++) {
		if (buf[i] != GUARD)
			return false;
	}
	return true;
}

/* The little-endian value of the first n (<= sizeof(unsigned)) bytes. */
static unsigned
partial_unsigned(const unsigned char *buf, size_t n) {
	unsigned v = 0;
	memcpy(&v, buf, n < sizeof(v) ? n : sizeof(v));
	return v;
}

/* Undoes a read of a creating name (tcache.create, arenas.create). */
static void
cleanup_created(const entry_t *e, unsigned id) {
	int err;
	if (strcmp(e->name, "tcache.create") == 0) {
		err = mallctl("tcache.destroy", NULL, NULL, &id, sizeof(id));
		expect_d_eq(err, 0, "tcache.destroy of a created id %u", id);
	} else {
		char name[64];
		snprintf(name, sizeof(name), "arena.%u.destroy", id);
		err = mallctl(name, NULL, NULL, NULL, 0);
		expect_d_eq(err, 0, "destroying arena %u made by the walk", id);
	}
}

/* --- the walk ------------------------------------------------------------- */

static unsigned nchecked, npresent, nabsent;

static void
check_absent(const entry_t *e) {
	unsigned char buf[BUFLEN];
	size_t len = e->size != 0 ? e->size : sizeof(uint64_t);
	memset(buf, GUARD, sizeof(buf));
	size_t sz = len;
	expect_d_eq(mallctl(e->name, buf, &sz, NULL, 0), ENOENT,
	    "%s: not built, must be ENOENT", e->name);
	expect_true(guard_intact(buf, 0, sizeof(buf)),
	    "%s: ENOENT but the buffer was written", e->name);
	expect_d_eq(mallctl(e->name, NULL, NULL, NULL, 0), ENOENT,
	    "%s: not built, bare call must be ENOENT", e->name);
	/* The MIB may exist (jemalloc keeps the node) but must not work. */
	size_t mib[MIBLEN], miblen = MIBLEN;
	int err = mallctlnametomib(e->name, mib, &miblen);
	if (err == 0) {
		sz = len;
		expect_d_eq(mallctlbymib(mib, miblen, buf, &sz, NULL, 0),
		    ENOENT, "%s: not built, mallctlbymib must be ENOENT",
		    e->name);
	} else {
		expect_d_eq(err, ENOENT, "%s: mallctlnametomib", e->name);
	}
}

/* mallctlnametomib, full and partial.  Returns false if unusable. */
static bool
check_mib(const entry_t *e, size_t *mib, size_t *miblenp) {
	unsigned n = ncomponents(e->name);
	size_t miblen = MIBLEN;
	for (unsigned i = 0; i < MIBLEN; i++)
		mib[i] = MIB_GUARD;
	int err = mallctlnametomib(e->name, mib, &miblen);
	expect_d_eq(err, 0, "%s: mallctlnametomib", e->name);
	if (err != 0)
		return false;
	expect_zu_eq(miblen, n, "%s: *miblenp is the component count",
	    e->name);
	for (unsigned i = n; i < MIBLEN; i++) {
		expect_true(mib[i] == MIB_GUARD,
		    "%s: mib[%u] written past the component count", e->name, i);
	}
	/* Partial MIBs: the first k components, nothing more written. */
	for (unsigned k = 1; k < n; k++) {
		size_t part[MIBLEN], plen = k;
		for (unsigned i = 0; i < MIBLEN; i++)
			part[i] = MIB_GUARD;
		err = mallctlnametomib(e->name, part, &plen);
		expect_d_eq(err, 0, "%s: partial mallctlnametomib (%u)",
		    e->name, k);
		if (err != 0)
			continue;
		expect_zu_eq(plen, k, "%s: partial *miblenp", e->name);
		for (unsigned i = 0; i < k; i++) {
			expect_true(part[i] == mib[i],
			    "%s: partial mib[%u] differs from the full one",
			    e->name, i);
		}
		for (unsigned i = k; i < MIBLEN; i++) {
			expect_true(part[i] == MIB_GUARD,
			    "%s: partial lookup (%u) wrote mib[%u]", e->name, k,
			    i);
		}
		/* An inner node is not callable. */
		expect_d_eq(mallctlbymib(part, k, NULL, NULL, NULL, 0), ENOENT,
		    "%s: mallctlbymib on a %u-component prefix", e->name, k);
	}
	/* A larger *miblenp is cut down to the component count. */
	size_t big[MIBLEN + 4], blen = MIBLEN + 4;
	err = mallctlnametomib(e->name, big, &blen);
	expect_d_eq(err, 0, "%s: mallctlnametomib, large *miblenp", e->name);
	expect_zu_eq(blen, n, "%s: *miblenp with a large input", e->name);
	*miblenp = miblen;
	return true;
}

/* Reads of a readable entry: right size, MIB, wrong sizes. */
static void
check_reads(const entry_t *e, const size_t *mib, size_t miblen,
    unsigned char *val) {
	bool stable = (e->flags & F_VOLATILE) == 0;
	bool creates = (e->flags & F_CREATES) != 0;
	unsigned char buf[BUFLEN];
	size_t sz;
	int err;

	/* Right size; nothing past it is written. */
	memset(val, GUARD, BUFLEN);
	sz = e->size;
	err = mallctl(e->name, val, &sz, NULL, 0);
	expect_d_eq(err, 0, "%s: read", e->name);
	expect_zu_eq(sz, e->size, "%s: *oldlenp after a read", e->name);
	expect_true(guard_intact(val, e->size, BUFLEN),
	    "%s: read wrote past *oldlenp", e->name);
	if (creates && err == 0)
		cleanup_created(e, partial_unsigned(val, e->size));

	/* The same through the MIB. */
	if (mib != NULL) {
		memset(buf, GUARD, sizeof(buf));
		sz = e->size;
		err = mallctlbymib(mib, miblen, buf, &sz, NULL, 0);
		expect_d_eq(err, 0, "%s: read by MIB", e->name);
		expect_true(guard_intact(buf, e->size, BUFLEN),
		    "%s: read by MIB wrote past *oldlenp", e->name);
		if (stable) {
			expect_true(memcmp(buf, val, e->size) == 0,
			    "%s: by name and by MIB differ", e->name);
		}
		if (creates && err == 0)
			cleanup_created(e, partial_unsigned(buf, e->size));
	}

	/* Wrong sizes: EINVAL, as much as fits is copied, no more. */
	size_t lens[3] = {e->size - 1, e->size + 1, 0};
	/* A creating read with *oldlenp 0 would leak an unknown id. */
	unsigned nlens = e->size > 1 && !creates ? 3 : 2;
	for (unsigned l = 0; l < nlens; l++) {
		size_t len = lens[l];
		memset(buf, GUARD, sizeof(buf));
		sz = len;
		err = mallctl(e->name, buf, &sz, NULL, 0);
		expect_d_eq(err, EINVAL, "%s: read with *oldlenp %zu (size %zu)",
		    e->name, len, e->size);
		size_t copied = len < e->size ? len : e->size;
		expect_true(guard_intact(buf, copied, BUFLEN),
		    "%s: *oldlenp %zu, bytes written past %zu", e->name, len,
		    copied);
		if (stable) {
			expect_true(memcmp(buf, val, copied) == 0,
			    "%s: *oldlenp %zu, the %zu bytes that fit were not "
			    "copied", e->name, len, copied);
		}
		if (creates && copied > 0)
			cleanup_created(e, partial_unsigned(buf, copied));
	}
	/* One wrong size through the MIB too. */
	if (mib != NULL) {
		memset(buf, GUARD, sizeof(buf));
		sz = e->size + 1;
		err = mallctlbymib(mib, miblen, buf, &sz, NULL, 0);
		expect_d_eq(err, EINVAL, "%s: MIB read with a wrong *oldlenp",
		    e->name);
		expect_true(guard_intact(buf, e->size, BUFLEN),
		    "%s: MIB read wrote past the value", e->name);
		if (creates)
			cleanup_created(e, partial_unsigned(buf, e->size));
	}
}

static void
check_present(const entry_t *e) {
	size_t mib[MIBLEN], miblen = 0;
	bool have_mib = check_mib(e, mib, &miblen);
	unsigned char val[BUFLEN], buf[BUFLEN], nbuf[BUFLEN];
	size_t sz;
	int err;

	switch (e->mode) {
	case M_R:
		check_reads(e, have_mib ? mib : NULL, miblen, val);
		/* A write is EPERM, and nothing is read out either. */
		memcpy(nbuf, val, sizeof(nbuf));
		expect_d_eq(mallctl(e->name, NULL, NULL, nbuf, e->size), EPERM,
		    "%s: write to a read-only name", e->name);
		memset(buf, GUARD, sizeof(buf));
		sz = e->size;
		expect_d_eq(mallctl(e->name, buf, &sz, nbuf, e->size), EPERM,
		    "%s: read+write of a read-only name", e->name);
		expect_true(guard_intact(buf, 0, BUFLEN),
		    "%s: EPERM but the old value was copied", e->name);
		if (have_mib) {
			expect_d_eq(mallctlbymib(mib, miblen, NULL, NULL, nbuf,
			    e->size), EPERM, "%s: MIB write to a read-only "
			    "name", e->name);
		}
		break;
	case M_RW:
		if (e->flags & F_SPECIAL)
			break;	/* see the dedicated tests */
		check_reads(e, have_mib ? mib : NULL, miblen, val);
		/* A wrong newlen is EINVAL. */
		memcpy(nbuf, val, sizeof(nbuf));
		expect_d_eq(mallctl(e->name, NULL, NULL, nbuf, e->size + 1),
		    EINVAL, "%s: write with newlen %zu", e->name, e->size + 1);
		expect_d_eq(mallctl(e->name, NULL, NULL, nbuf, e->size - 1),
		    EINVAL, "%s: write with newlen %zu", e->name, e->size - 1);
		if (e->flags & F_NOWB)
			break;	/* the write is covered by a dedicated test */
		/* Writing back the current value works. */
		if (e->flags & F_DSS) {
			const char *cur = get_str("arena.0.dss");
			memcpy(nbuf, &cur, sizeof(cur));
		}
		memset(buf, GUARD, sizeof(buf));
		sz = e->size;
		err = mallctl(e->name, buf, &sz, nbuf, e->size);
		expect_d_eq(err, 0, "%s: write back the value read", e->name);
		if ((e->flags & (F_VOLATILE | F_DSS)) == 0) {
			expect_true(memcmp(buf, val, e->size) == 0,
			    "%s: old value from a write differs from the read",
			    e->name);
		}
		expect_true(guard_intact(buf, e->size, BUFLEN),
		    "%s: write wrote past *oldlenp", e->name);
		if (have_mib) {
			expect_d_eq(mallctlbymib(mib, miblen, NULL, NULL, nbuf,
			    e->size), 0, "%s: write back through the MIB",
			    e->name);
		}
		break;
	case M_W:
		/* Reading is EPERM, with or without a write. */
		memset(buf, GUARD, sizeof(buf));
		sz = e->size;
		expect_d_eq(mallctl(e->name, buf, &sz, NULL, 0), EPERM,
		    "%s: read of a write-only name", e->name);
		expect_true(guard_intact(buf, 0, BUFLEN),
		    "%s: EPERM but something was copied", e->name);
		memset(nbuf, 0xff, sizeof(nbuf));	/* an invalid id */
		sz = e->size;
		expect_d_eq(mallctl(e->name, buf, &sz, nbuf, e->size), EPERM,
		    "%s: read+write of a write-only name", e->name);
		expect_d_eq(mallctl(e->name, NULL, NULL, nbuf, e->size + 1),
		    EINVAL, "%s: write with a wrong newlen", e->name);
		if (have_mib) {
			sz = e->size;
			expect_d_eq(mallctlbymib(mib, miblen, buf, &sz, NULL,
			    0), EPERM, "%s: MIB read of a write-only name",
			    e->name);
		}
		break;
	case M_VOID: {
		unsigned dummy = 0;
		memset(buf, GUARD, sizeof(buf));
		sz = sizeof(dummy);
		expect_d_eq(mallctl(e->name, buf, &sz, NULL, 0), EPERM,
		    "%s: read of a void name", e->name);
		expect_true(guard_intact(buf, 0, BUFLEN),
		    "%s: EPERM but something was copied", e->name);
		expect_d_eq(mallctl(e->name, NULL, NULL, &dummy,
		    sizeof(dummy)), EPERM, "%s: write to a void name",
		    e->name);
		int want = (e->flags & F_EFAULT_AUTO) ? EFAULT : 0;
		expect_d_eq(mallctl(e->name, NULL, NULL, NULL, 0), want,
		    "%s: bare call", e->name);
		if (have_mib) {
			sz = sizeof(dummy);
			expect_d_eq(mallctlbymib(mib, miblen, buf, &sz, NULL,
			    0), EPERM, "%s: MIB read of a void name", e->name);
			expect_d_eq(mallctlbymib(mib, miblen, NULL, NULL, NULL,
			    0), want, "%s: bare call by MIB", e->name);
		}
		break;
	}
	}
}

TEST(test_walk) {
	unsigned nbins = get_unsigned("arenas.nbins");
	unsigned nlextents = get_unsigned("arenas.nlextents");
	assert_true(nbins > 0 && nlextents > 0, "bin and large class counts");
	nentries = 0;
	for (unsigned r = 0; r < sizeof(rows) / sizeof(rows[0]); r++)
		expand_row(&rows[r], nbins, nlextents);

	/* Some allocation so that the stats have something in them. */
	void *p = malloc(100), *q = malloc(100000);
	assert_ptr_not_null(p, "");
	assert_ptr_not_null(q, "");
	uint64_t one = 1;
	assert_d_eq(mallctl("epoch", NULL, NULL, &one, sizeof(one)), 0, "");

	unsigned next = 0;
	for (unsigned i = 0; i < nentries; i++) {
		const entry_t *e = &entries[i];
		nchecked++;
		next += (e->flags & F_EXT) != 0;
		if (need_met(e->need)) {
			npresent++;
			check_present(e);
		} else {
			nabsent++;
			check_absent(e);
		}
	}
	free(p);
	free(q);
	test_msg("mallctl_names: %u names checked from %zu table rows: %u "
	    "present, %u not built (ENOENT); %u extension names\n",
	    nchecked, sizeof(rows) / sizeof(rows[0]), npresent, nabsent, next);
}

/* --- names that do not exist ---------------------------------------------- */

TEST(test_unknown_names) {
	static const char *const names[] = {
		"foo", "arena.99999.purge", "arenas.bin.36.size",
		"arenas.lextent.196.size", "stats.arenas.99999.pactive",
		"thread.foo", "",
		/* Inner nodes and malformed paths. */
		"arenas", "arenas.bin.0", "stats.arenas.0", "stats", "config",
		"opt.", ".version", "version.", "version.foo", "arena..purge",
		"arena.0.purge.x", "opt.narenas.x", "stats.mutexes.ctl",
		"Version", "opt.NARENAS", "arena.-1.purge", "arena.a.purge",
		"prof.foo", "thread.tcache", "tcache.foo",
	};
	unsigned nbins = get_unsigned("arenas.nbins");
	unsigned nlextents = get_unsigned("arenas.nlextents");
	expect_u_eq(nbins, 36, "the ENOENT names assume 36 bins");
	expect_u_eq(nlextents, 196, "the ENOENT names assume 196 classes");
	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		uint64_t v = 0;
		size_t sz = sizeof(v);
		expect_d_eq(mallctl(names[i], &v, &sz, NULL, 0), ENOENT,
		    "mallctl(\"%s\")", names[i]);
		expect_d_eq(mallctl(names[i], NULL, NULL, NULL, 0), ENOENT,
		    "bare mallctl(\"%s\")", names[i]);
	}
	/* Unknown names for mallctlnametomib (leaves and paths). */
	static const char *const bad[] = {
		"foo", "arena.99999.purge", "arenas.bin.36.size",
		"arenas.lextent.196.size", "stats.arenas.99999.pactive",
		"thread.foo", "", "version.foo", "opt.prof_nope",
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t mib[MIBLEN], miblen = MIBLEN;
		expect_d_eq(mallctlnametomib(bad[i], mib, &miblen), ENOENT,
		    "mallctlnametomib(\"%s\")", bad[i]);
	}
	/* Unknown MIBs. */
	size_t mib[MIBLEN], miblen = MIBLEN;
	size_t bad_top[1] = {999};
	expect_d_eq(mallctlbymib(bad_top, 1, NULL, NULL, NULL, 0), ENOENT,
	    "mib {999}");
	assert_d_eq(mallctlnametomib("arena.0.purge", mib, &miblen), 0, "");
	mib[1] = 99999;
	expect_d_eq(mallctlbymib(mib, miblen, NULL, NULL, NULL, 0), ENOENT,
	    "arena index 99999 through the MIB");
	miblen = MIBLEN;
	assert_d_eq(mallctlnametomib("arenas.bin.0.size", mib, &miblen), 0,
	    "");
	mib[2] = nbins;
	size_t zv, zsz = sizeof(zv);
	expect_d_eq(mallctlbymib(mib, miblen, &zv, &zsz, NULL, 0), ENOENT,
	    "bin index nbins through the MIB");
	miblen = MIBLEN;
	assert_d_eq(mallctlnametomib("arenas.lextent.0.size", mib, &miblen), 0,
	    "");
	mib[2] = nlextents;
	zsz = sizeof(zv);
	expect_d_eq(mallctlbymib(mib, miblen, &zv, &zsz, NULL, 0), ENOENT,
	    "large class index nlextents through the MIB");
	miblen = MIBLEN;
	assert_d_eq(mallctlnametomib("version", mib, &miblen), 0, "");
	mib[0] = 999;
	expect_d_eq(mallctlbymib(mib, 1, NULL, NULL, NULL, 0), ENOENT,
	    "a top-level component out of range");
}

/* --- partial MIBs reused across indices (facts §2.1) ----------------------- */

TEST(test_mib_reuse) {
	unsigned nbins = get_unsigned("arenas.nbins");
	unsigned nlextents = get_unsigned("arenas.nlextents");

	/* arenas.bin.<j>.size: look up 3 components, add the rest. */
	size_t full[MIBLEN], flen = MIBLEN;
	assert_d_eq(mallctlnametomib("arenas.bin.0.size", full, &flen), 0, "");
	assert_zu_eq(flen, 4, "");
	size_t mib[MIBLEN], miblen = 3;
	assert_d_eq(mallctlnametomib("arenas.bin.0.size", mib, &miblen), 0,
	    "");
	assert_zu_eq(miblen, 3, "partial *miblenp");
	mib[3] = full[3];
	for (unsigned j = 0; j < nbins; j++) {
		char name[64];
		snprintf(name, sizeof(name), "arenas.bin.%u.size", j);
		size_t a = 0, b = 0, sz = sizeof(size_t);
		mib[2] = j;
		expect_d_eq(mallctlbymib(mib, 4, &a, &sz, NULL, 0), 0, "%s",
		    name);
		sz = sizeof(size_t);
		expect_d_eq(mallctl(name, &b, &sz, NULL, 0), 0, "%s", name);
		expect_zu_eq(a, b, "%s by MIB and by name", name);
	}

	/* arenas.lextent.<j>.size through a 2-component prefix. */
	size_t lfull[MIBLEN], lflen = MIBLEN;
	assert_d_eq(mallctlnametomib("arenas.lextent.0.size", lfull, &lflen),
	    0, "");
	size_t lmib[MIBLEN], lmiblen = 2;
	assert_d_eq(mallctlnametomib("arenas.lextent.0.size", lmib, &lmiblen),
	    0, "");
	assert_zu_eq(lmiblen, 2, "");
	lmib[3] = lfull[3];
	size_t prev = 0;
	for (unsigned j = 0; j < nlextents; j++) {
		size_t sz = sizeof(size_t), v = 0;
		lmib[2] = j;
		expect_d_eq(mallctlbymib(lmib, 4, &v, &sz, NULL, 0), 0,
		    "arenas.lextent.%u.size", j);
		expect_zu_gt(v, prev, "large classes grow (%u)", j);
		prev = v;
	}

	/* stats.arenas.<i>.bins.<j>.nmalloc with i = MALLCTL_ARENAS_ALL. */
	if (get_bool("config.stats")) {
		size_t smib[MIBLEN], smiblen = MIBLEN;
		assert_d_eq(mallctlnametomib("stats.arenas.0.bins.0.nmalloc",
		    smib, &smiblen), 0, "");
		assert_zu_eq(smiblen, 6, "");
		smib[2] = MALLCTL_ARENAS_ALL;
		for (unsigned j = 0; j < nbins; j++) {
			char name[64];
			snprintf(name, sizeof(name),
			    "stats.arenas.%u.bins.%u.nmalloc",
			    MALLCTL_ARENAS_ALL, j);
			uint64_t a = 0, b = 0;
			size_t sz = sizeof(a);
			smib[4] = j;
			expect_d_eq(mallctlbymib(smib, smiblen, &a, &sz, NULL,
			    0), 0, "%s", name);
			sz = sizeof(b);
			expect_d_eq(mallctl(name, &b, &sz, NULL, 0), 0, "%s",
			    name);
			expect_u64_eq(a, b, "%s by MIB and by name", name);
		}
	}

	/* miblen 0: nothing is looked up or written. */
	size_t zmib[2] = {MIB_GUARD, MIB_GUARD}, zlen = 0;
	expect_d_eq(mallctlnametomib("arenas.page", zmib, &zlen), 0,
	    "*miblenp 0");
	expect_zu_eq(zlen, 0, "*miblenp stays 0");
	expect_true(zmib[0] == MIB_GUARD, "nothing written for *miblenp 0");
}

/* --- values --------------------------------------------------------------- */

TEST(test_values) {
	expect_true(strcmp(get_str("version"), JEMALLOC_VERSION) == 0,
	    "version is JEMALLOC_VERSION");
	if (!get_bool("config.prof")) {
		expect_false(get_bool("config.prof_libgcc"), "no prof, no libgcc");
		expect_false(get_bool("config.prof_libunwind"), "");
	} else {
		/* One unwinder at most (neither: frame pointers). */
		expect_false(get_bool("config.prof_libgcc") &&
		    get_bool("config.prof_libunwind"), "two unwinders");
	}
	expect_false(get_bool("config.utrace"), "");
	const char *mc = get_str("config.malloc_conf");
	expect_ptr_not_null(mc, "config.malloc_conf is a string");
	if (mc != NULL)
		expect_true(strcmp(mc, "") == 0, "no --with-malloc-conf");
	expect_zu_eq(get_zu("arenas.quantum"), 16, "");
	expect_zu_eq(get_zu("arenas.page"), 4096, "");
	expect_u_eq(get_unsigned("arenas.nbins"), 36, "");
	expect_u_eq(get_unsigned("arenas.nlextents"), 196, "");
	expect_zu_eq(get_zu("arenas.bin.0.size"), 8, "");
	expect_u_eq((unsigned)get_zu("arenas.bin.0.slab_size"), 4096, "");
	expect_zu_eq(get_zu("arenas.bin.35.size"), 14336, "");
	expect_zu_eq(get_zu("arenas.bin.35.slab_size"), 28672, "");
	uint32_t nregs = 0;
	size_t sz = sizeof(nregs);
	expect_d_eq(mallctl("arenas.bin.0.nregs", &nregs, &sz, NULL, 0), 0, "");
	expect_u_eq(nregs, 512, "arenas.bin.0.nregs");
	expect_d_eq(mallctl("arenas.bin.35.nregs", &nregs, &sz, NULL, 0), 0,
	    "");
	expect_u_eq(nregs, 2, "arenas.bin.35.nregs");
	expect_zu_eq(get_zu("arenas.lextent.0.size"), 16384, "");
	expect_zu_eq(get_zu("arenas.lextent.195.size"),
	    (size_t)0x7000000000000000ULL, "LARGE_MAXCLASS");
	expect_u_eq(get_unsigned("opt.narenas"),
	    get_unsigned("arenas.narenas"), "no arena created yet");
	expect_true(get_bool("arena.4096.initialized"),
	    "MALLCTL_ARENAS_ALL is always initialized");
	expect_true(get_bool("arena.0.initialized"), "arena 0");
	expect_false(get_bool("arena.4097.initialized"),
	    "no arena destroyed yet");

	/* thread.allocatedp points at thread.allocated. */
	if (get_bool("config.stats")) {
		void *p = malloc(1000);
		assert_ptr_not_null(p, "");
		uint64_t *ap = NULL, *dp = NULL, a = 0, d = 0;
		sz = sizeof(ap);
		assert_d_eq(mallctl("thread.allocatedp", &ap, &sz, NULL, 0), 0,
		    "");
		assert_d_eq(mallctl("thread.deallocatedp", &dp, &sz, NULL, 0),
		    0, "");
		sz = sizeof(a);
		assert_d_eq(mallctl("thread.allocated", &a, &sz, NULL, 0), 0,
		    "");
		assert_d_eq(mallctl("thread.deallocated", &d, &sz, NULL, 0), 0,
		    "");
		assert_ptr_not_null(ap, "");
		assert_ptr_not_null(dp, "");
		expect_u64_eq(*ap, a, "*thread.allocatedp");
		expect_u64_eq(*dp, d, "*thread.deallocatedp");
		free(p);
		expect_u64_eq(*dp, d + 1024, "the pointer follows a free");
	}
}

/* --- dedicated tests for names with side effects -------------------------- */

TEST(test_tcache_explicit) {
	unsigned id = 0, id2 = 0;
	size_t sz = sizeof(id);
	assert_d_eq(mallctl("tcache.create", &id, &sz, NULL, 0), 0, "");
	expect_true(id <= 4093, "tcache id %u in [0, 4093]", id);
	void *p = mallocx(64, MALLOCX_TCACHE(id));
	assert_ptr_not_null(p, "");
	dallocx(p, MALLOCX_TCACHE(id));
	expect_d_eq(mallctl("tcache.flush", NULL, NULL, &id, sizeof(id)), 0,
	    "tcache.flush");
	size_t mib[MIBLEN], miblen = MIBLEN;
	assert_d_eq(mallctlnametomib("tcache.flush", mib, &miblen), 0, "");
	expect_d_eq(mallctlbymib(mib, miblen, NULL, NULL, &id, sizeof(id)), 0,
	    "tcache.flush by MIB");
	expect_d_eq(mallctl("tcache.destroy", NULL, NULL, &id, sizeof(id)), 0,
	    "tcache.destroy");
	sz = sizeof(id2);
	assert_d_eq(mallctl("tcache.create", &id2, &sz, NULL, 0), 0, "");
	expect_u_eq(id2, id, "a destroyed id is recycled");
	expect_d_eq(mallctl("tcache.destroy", NULL, NULL, &id2, sizeof(id2)),
	    0, "");
}

TEST(test_arena_create_reset_destroy) {
	unsigned narenas0 = get_unsigned("arenas.narenas");
	unsigned nauto = get_unsigned("opt.narenas");
	unsigned ind = 0;
	size_t sz = sizeof(ind);

	/* A wrong newlen creates nothing. */
	extent_hooks_t *hooks = NULL;
	sz = sizeof(hooks);
	assert_d_eq(mallctl("arena.0.extent_hooks", &hooks, &sz, NULL, 0), 0,
	    "");
	sz = sizeof(ind);
	expect_d_eq(mallctl("arenas.create", &ind, &sz, &hooks,
	    sizeof(hooks) + 1), EINVAL, "arenas.create, wrong newlen");
	expect_u_eq(get_unsigned("arenas.narenas"), narenas0,
	    "no arena made by a failed create");

	/* With the default hooks passed explicitly. */
	sz = sizeof(ind);
	assert_d_eq(mallctl("arenas.create", &ind, &sz, &hooks, sizeof(hooks)),
	    0, "arenas.create");
	expect_true(ind >= nauto, "a created arena (%u) is not automatic", ind);
	expect_true(get_unsigned("arenas.narenas") > ind, "");

	char name[64];
	void *ptrs[16];
	int flags = MALLOCX_ARENA(ind) | MALLOCX_TCACHE_NONE;
	for (unsigned k = 0; k < 16; k++) {
		ptrs[k] = mallocx(k < 8 ? 64 : 40000, flags);
		assert_ptr_not_null(ptrs[k], "");
	}
	/* arenas.lookup finds the arena. */
	unsigned found = ~0u;
	sz = sizeof(found);
	expect_d_eq(mallctl("arenas.lookup", &found, &sz, &ptrs[0],
	    sizeof(ptrs[0])), 0, "arenas.lookup");
	expect_u_eq(found, ind, "arenas.lookup of a small object");
	sz = sizeof(found);
	found = ~0u;
	expect_d_eq(mallctl("arenas.lookup", &found, &sz, &ptrs[15],
	    sizeof(ptrs[15])), 0, "arenas.lookup");
	expect_u_eq(found, ind, "arenas.lookup of a large object");

	/* retain_grow_limit: rounded down to a page-size class. */
	snprintf(name, sizeof(name), "arena.%u.retain_grow_limit", ind);
	if (get_bool("opt.retain")) {
		size_t lim = 3 * 4096 + 1, got = 0;
		expect_d_eq(mallctl(name, NULL, NULL, &lim, sizeof(lim)), 0,
		    "%s = %zu", name, lim);
		sz = sizeof(got);
		expect_d_eq(mallctl(name, &got, &sz, NULL, 0), 0, "%s", name);
		expect_zu_eq(got, 3 * 4096, "%s rounds down to a page-size "
		    "class", name);
		lim = 5 * 4096 + 4095;
		expect_d_eq(mallctl(name, NULL, NULL, &lim, sizeof(lim)), 0,
		    "%s = %zu", name, lim);
		expect_d_eq(mallctl(name, &got, &sz, NULL, 0), 0, "%s", name);
		expect_zu_eq(got, 5 * 4096, "%s rounds down", name);
	} else {
		size_t got = 0;
		sz = sizeof(got);
		expect_d_eq(mallctl(name, &got, &sz, NULL, 0), ENOENT,
		    "%s without retain", name);
	}

	/* reset discards everything; the arena stays usable. */
	snprintf(name, sizeof(name), "arena.%u.reset", ind);
	expect_d_eq(mallctl(name, NULL, NULL, NULL, 0), 0, "%s", name);
	unsigned dummy = 0;
	expect_d_eq(mallctl(name, NULL, NULL, &dummy, sizeof(dummy)), EPERM,
	    "%s with newp", name);
	for (unsigned k = 0; k < 16; k++) {
		ptrs[k] = mallocx(k < 8 ? 64 : 40000, flags);
		assert_ptr_not_null(ptrs[k], "after reset");
	}

	/* destroy: gone, stats merged into MALLCTL_ARENAS_DESTROYED. */
	snprintf(name, sizeof(name), "arena.%u.destroy", ind);
	expect_d_eq(mallctl(name, &dummy, &sz, NULL, 0), EPERM,
	    "%s with oldp", name);
	expect_d_eq(mallctl(name, NULL, NULL, NULL, 0), 0, "%s", name);
	snprintf(name, sizeof(name), "arena.%u.initialized", ind);
	expect_false(get_bool(name), "a destroyed arena is not initialized");
	expect_true(get_bool("arena.4097.initialized"),
	    "MALLCTL_ARENAS_DESTROYED after a destroy");
	if (get_bool("config.stats")) {
		uint64_t one = 1, n = 0;
		assert_d_eq(mallctl("epoch", NULL, NULL, &one, sizeof(one)), 0,
		    "");
		sz = sizeof(n);
		expect_d_eq(mallctl("stats.arenas.4097.small.nmalloc", &n, &sz,
		    NULL, 0), 0, "stats.arenas.4097 after a destroy");
		expect_true(n >= 16, "destroyed small.nmalloc %" PRIu64, n);
		sz = sizeof(n);
		expect_d_eq(mallctl("stats.arenas.4097.large.nmalloc", &n, &sz,
		    NULL, 0), 0, "");
		expect_true(n >= 16, "destroyed large.nmalloc %" PRIu64, n);
	}

	/* The index is recycled. */
	unsigned ind2 = 0;
	sz = sizeof(ind2);
	assert_d_eq(mallctl("arenas.create", &ind2, &sz, NULL, 0), 0, "");
	expect_u_eq(ind2, ind, "a destroyed arena index is recycled");
	snprintf(name, sizeof(name), "arena.%u.destroy", ind2);
	expect_d_eq(mallctl(name, NULL, NULL, NULL, 0), 0, "%s", name);

	/* Automatic arenas cannot be reset or destroyed. */
	expect_d_eq(mallctl("arena.0.reset", NULL, NULL, NULL, 0), EFAULT, "");
	expect_d_eq(mallctl("arena.0.destroy", NULL, NULL, NULL, 0), EFAULT,
	    "");
}

/* test_narenas_alias's statistics part: arena 0 purged through the
 * alias, and stats.arenas.<narenas> as the merged view. */
static void
narenas_alias_stats(unsigned n) {
	char name[64];
	size_t pdirty = 1;
	size_t sz = sizeof(pdirty);
	expect_d_eq(mallctl("stats.arenas.0.pdirty", &pdirty, &sz, NULL, 0), 0,
	    "stats.arenas.0.pdirty");
	expect_zu_eq(pdirty, 0, "arena 0 purged through arena.%u.purge", n);

	/* stats.arenas.<narenas> is the merged view. */
	size_t merged = 0, alias = 1;
	sz = sizeof(merged);
	expect_d_eq(mallctl("stats.arenas.4096.pactive", &merged, &sz, NULL,
	    0), 0, "stats.arenas.4096.pactive");
	snprintf(name, sizeof(name), "stats.arenas.%u.pactive", n);
	expect_d_eq(mallctl(name, &alias, &sz, NULL, 0), 0, "%s", name);
	expect_zu_eq(alias, merged, "%s", name);
	snprintf(name, sizeof(name), "stats.arenas.%u.pactive", n + 1);
	expect_d_eq(mallctl(name, &alias, &sz, NULL, 0), ENOENT, "%s", name);
}

/*
 * 5.1.0's deprecated alias: index arenas.narenas means MALLCTL_ARENAS_ALL
 * in arena.<i>.{initialized,purge,decay,dss} and stats.arenas.<i>; the
 * per-arena nodes answer EFAULT there, and narenas + 1 does not exist.
 */
TEST(test_narenas_alias) {
	unsigned n = get_unsigned("arenas.narenas");
	char name[64];
	bool init = false;
	size_t sz = sizeof(init);
	snprintf(name, sizeof(name), "arena.%u.initialized", n);
	expect_d_eq(mallctl(name, &init, &sz, NULL, 0), 0, "%s", name);
	expect_true(init, "%s: the merged view exists", name);
	snprintf(name, sizeof(name), "arena.%u.initialized", n + 1);
	expect_d_eq(mallctl(name, &init, &sz, NULL, 0), ENOENT, "%s", name);

	/* Dirty pages in arena 0, purged through the alias. */
	unsigned zero = 0;
	void *p = mallocx(4 << 20, MALLOCX_ARENA(zero) | MALLOCX_TCACHE_NONE);
	assert_ptr_not_null(p, "mallocx");
	dallocx(p, MALLOCX_TCACHE_NONE);
	snprintf(name, sizeof(name), "arena.%u.decay", n);
	expect_d_eq(mallctl(name, NULL, NULL, NULL, 0), 0, "%s", name);
	snprintf(name, sizeof(name), "arena.%u.purge", n);
	expect_d_eq(mallctl(name, NULL, NULL, NULL, 0), 0, "%s", name);
	uint64_t epoch = 1;
	expect_d_eq(mallctl("epoch", NULL, NULL, &epoch, sizeof(epoch)), 0,
	    "epoch");
	if (get_bool("config.stats"))
		narenas_alias_stats(n);

	/* dss reads the default, as 4096 does. */
	const char *d1 = NULL, *d2 = NULL;
	sz = sizeof(d1);
	expect_d_eq(mallctl("arena.4096.dss", &d1, &sz, NULL, 0), 0,
	    "arena.4096.dss");
	snprintf(name, sizeof(name), "arena.%u.dss", n);
	expect_d_eq(mallctl(name, &d2, &sz, NULL, 0), 0, "%s", name);
	expect_true(d1 != NULL && d2 != NULL && strcmp(d1, d2) == 0,
	    "%s: %s vs %s", name, d2 != NULL ? d2 : "(null)",
	    d1 != NULL ? d1 : "(null)");

	/* Nodes of one arena have none there. */
	snprintf(name, sizeof(name), "arena.%u.reset", n);
	expect_d_eq(mallctl(name, NULL, NULL, NULL, 0), EFAULT, "%s", name);
	ssize_t ms;
	sz = sizeof(ms);
	snprintf(name, sizeof(name), "arena.%u.dirty_decay_ms", n);
	expect_d_eq(mallctl(name, &ms, &sz, NULL, 0), EFAULT, "%s", name);
}

TEST(test_arenas_lookup) {
	void *p = malloc(200);
	assert_ptr_not_null(p, "");
	unsigned ind = ~0u, tind = ~0u;
	size_t sz = sizeof(tind);
	assert_d_eq(mallctl("thread.arena", &tind, &sz, NULL, 0), 0, "");
	sz = sizeof(ind);
	expect_d_eq(mallctl("arenas.lookup", &ind, &sz, &p, sizeof(p)), 0, "");
	expect_u_eq(ind, tind, "malloc serves from the thread's arena");

	/* Wrong sizes. */
	unsigned char buf[BUFLEN];
	memset(buf, GUARD, sizeof(buf));
	sz = sizeof(unsigned) + 1;
	expect_d_eq(mallctl("arenas.lookup", buf, &sz, &p, sizeof(p)), EINVAL,
	    "arenas.lookup, *oldlenp too large");
	expect_true(memcmp(buf, &ind, sizeof(ind)) == 0, "the index fits");
	expect_true(guard_intact(buf, sizeof(unsigned), BUFLEN), "");
	memset(buf, GUARD, sizeof(buf));
	sz = 2;
	expect_d_eq(mallctl("arenas.lookup", buf, &sz, &p, sizeof(p)), EINVAL,
	    "arenas.lookup, *oldlenp too small");
	expect_true(memcmp(buf, &ind, 2) == 0, "the 2 bytes that fit");
	expect_true(guard_intact(buf, 2, BUFLEN), "");
	sz = sizeof(ind);
	expect_d_eq(mallctl("arenas.lookup", &ind, &sz, &p, sizeof(p) - 1),
	    EINVAL, "arenas.lookup, wrong newlen");

	/* Unknown pointers. */
	int local = 0;
	void *unknown = &local;
	sz = sizeof(ind);
	expect_d_eq(mallctl("arenas.lookup", &ind, &sz, &unknown,
	    sizeof(unknown)), EINVAL, "arenas.lookup of a stack address");
	sz = sizeof(ind);
	expect_d_eq(mallctl("arenas.lookup", &ind, &sz, NULL, 0), EINVAL,
	    "arenas.lookup without a pointer");
	free(p);
}

TEST(test_thread_arena) {
	unsigned old = ~0u, cur = ~0u, n = get_unsigned("arenas.narenas");
	size_t sz = sizeof(old);
	assert_d_eq(mallctl("thread.arena", &old, &sz, NULL, 0), 0, "");
	expect_true(old < n, "thread.arena %u < arenas.narenas %u", old, n);
	/* An index past the arenas is EFAULT (facts §4). */
	unsigned bad = n;
	expect_d_eq(mallctl("thread.arena", NULL, NULL, &bad, sizeof(bad)),
	    EFAULT, "thread.arena = arenas.narenas");
	bad = 99999;
	expect_d_eq(mallctl("thread.arena", NULL, NULL, &bad, sizeof(bad)),
	    EFAULT, "thread.arena = 99999");
	sz = sizeof(cur);
	assert_d_eq(mallctl("thread.arena", &cur, &sz, NULL, 0), 0, "");
	expect_u_eq(cur, old, "a failed write changes nothing");
	/* Moving to another arena and back; the old index is returned. */
	if (n > 1) {
		unsigned other = old == 0 ? 1 : 0, prev = ~0u;
		sz = sizeof(prev);
		expect_d_eq(mallctl("thread.arena", &prev, &sz, &other,
		    sizeof(other)), 0, "thread.arena = %u", other);
		expect_u_eq(prev, old, "the old index");
		void *p = malloc(64);
		assert_ptr_not_null(p, "");
		unsigned where = ~0u;
		sz = sizeof(where);
		expect_d_eq(mallctl("arenas.lookup", &where, &sz, &p,
		    sizeof(p)), 0, "");
		free(p);
		if (!get_bool("thread.tcache.enabled"))
			expect_u_eq(where, other, "served by the new arena");
		sz = sizeof(prev);
		expect_d_eq(mallctl("thread.arena", &prev, &sz, &old,
		    sizeof(old)), 0, "back to %u", old);
		expect_u_eq(prev, other, "");
	}
}

TEST(test_background_thread) {
	bool old = true, on = true, off = false;
	size_t sz = sizeof(old);
	assert_d_eq(mallctl("background_thread", &old, &sz, NULL, 0), 0, "");
	expect_false(old, "off by default");
	expect_false(get_bool("opt.background_thread"), "");
	sz = sizeof(old);
	expect_d_eq(mallctl("background_thread", &old, &sz, &on, sizeof(on)),
	    0, "enable");
	expect_false(old, "the old value");
	expect_true(get_bool("background_thread"), "enabled");
	sz = sizeof(old);
	expect_d_eq(mallctl("background_thread", &old, &sz, &off, sizeof(off)),
	    0, "disable");
	expect_true(old, "the old value");
	expect_false(get_bool("background_thread"), "disabled");
	/* Still usable afterwards. */
	void *p = malloc(50000);
	expect_ptr_not_null(p, "");
	free(p);
}

int
main(void) {
	return test_run(
	    TEST_CASE(test_values),
	    TEST_CASE(test_walk),
	    TEST_CASE(test_unknown_names),
	    TEST_CASE(test_mib_reuse),
	    TEST_CASE(test_tcache_explicit),
	    TEST_CASE(test_arena_create_reset_destroy),
	    TEST_CASE(test_narenas_alias),
	    TEST_CASE(test_arenas_lookup),
	    TEST_CASE(test_thread_arena),
	    TEST_CASE(test_background_thread));
}
