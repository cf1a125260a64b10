/*
 * conf: MALLOC_CONF (facts §3).  Four sources in order: the built-in
 * --with-malloc-conf string, the application's malloc_conf symbol, the
 * target of the /etc/malloc.conf link, and the MALLOC_CONF environment
 * variable (prefixed names in prefixed builds).  Each is "key:value,...";
 * the options are one table, so the parser and opt.* share it.
 */
#ifndef JEMALLOC_CONF_H
#define JEMALLOC_CONF_H

typedef enum {
	percpu_arena_disabled = 0,
	percpu_arena = 1,
	per_phycpu_arena = 2
} percpu_arena_mode_t;

typedef enum {
	metadata_thp_disabled = 0,
	metadata_thp_auto = 1,
	metadata_thp_always = 2
} metadata_thp_mode_t;

extern bool opt_abort;
extern bool opt_abort_conf;
extern unsigned opt_narenas;
extern const char *opt_junk;
extern bool opt_xmalloc;


extern const char *opt_dss;
extern percpu_arena_mode_t opt_percpu_arena;
/* Defined by background_thread.c. */
extern bool opt_background_thread;
extern size_t opt_max_background_threads;
extern metadata_thp_mode_t opt_metadata_thp;
extern bool opt_stats_print;
extern char opt_stats_print_opts[];
extern const char *const percpu_arena_mode_names[];
extern const char *const metadata_thp_mode_names[];
extern const char *const dss_prec_names[];

/* Parses every source; returns nothing: errors are reported and skipped
 * (or abort with abort_conf). */
void malloc_conf_init(void);

#endif
