/* conf: the MALLOC_CONF parser; see conf.h. */
#include "jemalloc_internal.h"
#include "conf.h"
#include "tcache.h"
#include "arena.h"
#include "background_thread.h"
#include "extent.h"
#include "extent_mmap.h"
#include "nstime.h"
#include "pages.h"
#include "prof.h"

#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

bool opt_abort = config_debug;
bool opt_abort_conf = config_debug;
unsigned opt_narenas = 0;
const char *opt_junk = config_debug && config_fill ? "true" : "false";
bool opt_junk_alloc = config_debug && config_fill;
bool opt_junk_free = config_debug && config_fill;
bool opt_zero = false;
bool opt_xmalloc = false;
const char *opt_dss = "secondary";
percpu_arena_mode_t opt_percpu_arena = percpu_arena_disabled;
metadata_thp_mode_t opt_metadata_thp = metadata_thp_disabled;
bool opt_stats_print = false;
char opt_stats_print_opts[sizeof("Jgmdablx")] = "";

const char *const percpu_arena_mode_names[] = {"disabled", "percpu",
    "phycpu"};
const char *const metadata_thp_mode_names[] = {"disabled", "auto", "always"};
const char *const dss_prec_names[] = {"disabled", "primary", "secondary"};

static bool had_conf_error;

typedef enum {
	CONF_BOOL,
	CONF_UNSIGNED,	/* unsigned */
	CONF_SIZE_T,
	CONF_SSIZE_T,
	CONF_ENUM,	/* index into names, stored as int-sized enum */
	CONF_STRING_ENUM,	/* pointer to one of names */
	CONF_JUNK,
	CONF_STATS_OPTS,
	CONF_STRING	/* copied into a char[max + 1], cut to fit */
} conf_type_t;

typedef struct {
	const char *name;
	conf_type_t type;
	void *var;
	intmax_t min;
	uintmax_t max;
	bool clip;
	/* ENUM / STRING_ENUM: the accepted names; prefix matching of the key
	 * (a 5.1.0 quirk: "d" means "dss"). */
	const char *const *names;
	unsigned nnames;
	bool key_prefix;
} conf_opt_t;

static const conf_opt_t conf_opts[] = {
	{"abort", CONF_BOOL, &opt_abort, 0, 0, false, NULL, 0, false},
	{"abort_conf", CONF_BOOL, &opt_abort_conf, 0, 0, false, NULL, 0, false},
	{"metadata_thp", CONF_ENUM, &opt_metadata_thp, 0, 0, false,
	    metadata_thp_mode_names, 3, true},
	{"retain", CONF_BOOL, &opt_retain, 0, 0, false, NULL, 0, false},
	{"dss", CONF_STRING_ENUM, &opt_dss, 0, 0, false, dss_prec_names, 3, true},
	{"narenas", CONF_UNSIGNED, &opt_narenas, 1, UINT_MAX, false, NULL, 0,
	    false},
	{"percpu_arena", CONF_ENUM, &opt_percpu_arena, 0, 0, false,
	    percpu_arena_mode_names, 3, true},
	{"background_thread", CONF_BOOL, &opt_background_thread, 0, 0, false,
	    NULL, 0, false},
	{"max_background_threads", CONF_SIZE_T, &opt_max_background_threads, 1,
	    MALLOCX_ARENA_LIMIT, true, NULL, 0, false},
	{"dirty_decay_ms", CONF_SSIZE_T, &opt_dirty_decay_ms, -1,
	    (uintmax_t)(NSTIME_SEC_MAX * 1000 < (uint64_t)SSIZE_MAX ?
	    NSTIME_SEC_MAX * 1000 : SSIZE_MAX), false, NULL, 0, false},
	{"muzzy_decay_ms", CONF_SSIZE_T, &opt_muzzy_decay_ms, -1,
	    (uintmax_t)(NSTIME_SEC_MAX * 1000 < (uint64_t)SSIZE_MAX ?
	    NSTIME_SEC_MAX * 1000 : SSIZE_MAX), false, NULL, 0, false},
	{"lg_extent_max_active_fit", CONF_SIZE_T, &opt_lg_extent_max_active_fit,
	    0, 64, false, NULL, 0, false},
	{"stats_print", CONF_BOOL, &opt_stats_print, 0, 0, false, NULL, 0,
	    false},
	{"stats_print_opts", CONF_STATS_OPTS, opt_stats_print_opts, 0, 0, false,
	    NULL, 0, false},
	{"junk", CONF_JUNK, NULL, 0, 0, false, NULL, 0, false},
	{"zero", CONF_BOOL, &opt_zero, 0, 0, false, NULL, 0, false},
	{"xmalloc", CONF_BOOL, &opt_xmalloc, 0, 0, false, NULL, 0, false},
	{"tcache", CONF_BOOL, &opt_tcache, 0, 0, false, NULL, 0, false},
	{"lg_tcache_max", CONF_SSIZE_T, &opt_lg_tcache_max, -1, 63, false, NULL,
	    0, false},
	{"thp", CONF_ENUM, &opt_thp, 0, 0, false, thp_mode_names, 3, false},
#ifdef JEMALLOC_PROF
	{"prof", CONF_BOOL, &opt_prof, 0, 0, false, NULL, 0, false},
	{"prof_prefix", CONF_STRING, opt_prof_prefix, 0, PATH_MAX, false, NULL,
	    0, false},
	{"prof_active", CONF_BOOL, &opt_prof_active, 0, 0, false, NULL, 0,
	    false},
	{"prof_thread_active_init", CONF_BOOL, &opt_prof_thread_active_init, 0,
	    0, false, NULL, 0, false},
	{"lg_prof_sample", CONF_SIZE_T, &opt_lg_prof_sample, 0, 63, true, NULL,
	    0, false},
	{"prof_accum", CONF_BOOL, &opt_prof_accum, 0, 0, false, NULL, 0,
	    false},
	{"lg_prof_interval", CONF_SSIZE_T, &opt_lg_prof_interval, -1, 63, false,
	    NULL, 0, false},
	{"prof_gdump", CONF_BOOL, &opt_prof_gdump, 0, 0, false, NULL, 0,
	    false},
	{"prof_final", CONF_BOOL, &opt_prof_final, 0, 0, false, NULL, 0,
	    false},
	{"prof_leak", CONF_BOOL, &opt_prof_leak, 0, 0, false, NULL, 0, false},
#endif
	/* Extensions (not in jemalloc 5.1.0): see doc/deviations.md. */
	{"mem_limit_soft", CONF_SIZE_T, &opt_mem_limit_soft, 0, SIZE_MAX, false,
	    NULL, 0, false},
	{"mem_limit_hard", CONF_SIZE_T, &opt_mem_limit_hard, 0, SIZE_MAX, false,
	    NULL, 0, false},
};

static void
conf_error(const char *msg, const char *k, size_t klen, const char *v,
    size_t vlen) {
	malloc_printf("<jemalloc>: %s: %.*s:%.*s\n", msg, (int)klen, k,
	    (int)vlen, v);
	had_conf_error = true;
}

/*
 * Splits the next "key:value" off *opts_p.  Returns true at the end of the
 * string or on a syntax error (reported here; as in 5.1.0, syntax
 * errors do not count for abort_conf, only invalid pairs do).
 */
static bool
malloc_conf_next(const char **opts_p, const char **k_p, size_t *klen_p,
    const char **v_p, size_t *vlen_p) {
	const char *p = *opts_p;
	*k_p = p;
	for (;;) {
		char c = *p;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '_') {
			p++;
			continue;
		}
		if (c == ':') {
			*klen_p = (size_t)(p - *k_p);
			p++;
			break;
		}
		if (c == '\0') {
			if (p != *opts_p) {
				malloc_write("<jemalloc>: Conf string ends with "
				    "key\n");
			}
			return true;
		}
		malloc_write("<jemalloc>: Malformed conf string\n");
		return true;
	}
	*v_p = p;
	while (*p != ',' && *p != '\0')
		p++;
	*vlen_p = (size_t)(p - *v_p);
	if (*p == ',') {
		p++;
		if (*p == '\0') {
			malloc_write("<jemalloc>: Conf string ends with comma\n");
		}
	}
	*opts_p = p;
	return false;
}

static bool
conf_streq(const char *v, size_t vlen, const char *s) {
	return strlen(s) == vlen && strncmp(v, s, vlen) == 0;
}

static bool
conf_key_matches(const conf_opt_t *o, const char *k, size_t klen) {
	if (o->key_prefix)
		return klen > 0 && klen <= strlen(o->name) &&
		    strncmp(o->name, k, klen) == 0;
	return conf_streq(k, klen, o->name);
}

static void
conf_set_uint(const conf_opt_t *o, const char *k, size_t klen, const char *v,
    size_t vlen) {
	char *end;
	set_errno(0);
	uintmax_t um = malloc_strtoumax(v, &end, 0);
	if (get_errno() != 0 || (size_t)(end - v) != vlen) {
		conf_error("Invalid conf value", k, klen, v, vlen);
		return;
	}
	if (o->clip) {
		if (um < (uintmax_t)o->min)
			um = (uintmax_t)o->min;
		if (um > o->max)
			um = o->max;
	} else if (um < (uintmax_t)o->min || um > o->max) {
		conf_error("Out-of-range conf value", k, klen, v, vlen);
		return;
	}
	if (o->type == CONF_UNSIGNED)
		*(unsigned *)o->var = (unsigned)um;
	else
		*(size_t *)o->var = (size_t)um;
}

static void
conf_set_ssize(const conf_opt_t *o, const char *k, size_t klen, const char *v,
    size_t vlen) {
	char *end;
	set_errno(0);
	long l = strtol(v, &end, 0);
	if (get_errno() != 0 || (size_t)(end - v) != vlen) {
		conf_error("Invalid conf value", k, klen, v, vlen);
		return;
	}
	if (l < o->min || (l > 0 && (uintmax_t)l > o->max)) {
		conf_error("Out-of-range conf value", k, klen, v, vlen);
		return;
	}
	*(ssize_t *)o->var = (ssize_t)l;
}

static void
conf_set_junk(const char *k, size_t klen, const char *v, size_t vlen) {
	if (!config_fill) {
		conf_error("Invalid conf pair", k, klen, v, vlen);
		return;
	}
	if (conf_streq(v, vlen, "true")) {
		opt_junk = "true";
		opt_junk_alloc = opt_junk_free = true;
	} else if (conf_streq(v, vlen, "false")) {
		opt_junk = "false";
		opt_junk_alloc = opt_junk_free = false;
	} else if (conf_streq(v, vlen, "alloc")) {
		opt_junk = "alloc";
		opt_junk_alloc = true;
		opt_junk_free = false;
	} else if (conf_streq(v, vlen, "free")) {
		opt_junk = "free";
		opt_junk_alloc = false;
		opt_junk_free = true;
	} else {
		conf_error("Invalid conf value", k, klen, v, vlen);
	}
}

static void
conf_set_stats_opts(const char *v, size_t vlen) {
	static const char valid[] = "Jgmdablx";
	size_t n = strlen(opt_stats_print_opts);
	for (size_t i = 0; i < vlen; i++) {
		if (strchr(valid, v[i]) != NULL && v[i] != '\0' &&
		    strchr(opt_stats_print_opts, v[i]) == NULL &&
		    n + 1 < sizeof(opt_stats_print_opts)) {
			opt_stats_print_opts[n++] = v[i];
			opt_stats_print_opts[n] = '\0';
		}
	}
}

static void
malloc_conf_apply(const char *k, size_t klen, const char *v, size_t vlen) {
	for (size_t i = 0; i < sizeof(conf_opts) / sizeof(conf_opts[0]); i++) {
		const conf_opt_t *o = &conf_opts[i];
		if (!conf_key_matches(o, k, klen))
			continue;
		/* Keys of features this build left out are invalid pairs. */
		if ((o->var == &opt_zero && !config_fill) ||
		    (o->var == &opt_xmalloc && !config_xmalloc))
			break;
		switch (o->type) {
		case CONF_BOOL:
			if (conf_streq(v, vlen, "true"))
				*(bool *)o->var = true;
			else if (conf_streq(v, vlen, "false"))
				*(bool *)o->var = false;
			else
				conf_error("Invalid conf value", k, klen, v,
				    vlen);
			break;
		case CONF_UNSIGNED:
		case CONF_SIZE_T:
			conf_set_uint(o, k, klen, v, vlen);
			break;
		case CONF_SSIZE_T:
			conf_set_ssize(o, k, klen, v, vlen);
			break;
		case CONF_ENUM:
		case CONF_STRING_ENUM: {
			unsigned j;
			for (j = 0; j < o->nnames; j++) {
				if (conf_streq(v, vlen, o->names[j]))
					break;
			}
			if (j == o->nnames) {
				conf_error("Invalid conf value", k, klen, v,
				    vlen);
			} else if (o->var == &opt_thp &&
			    init_system_thp_mode == thp_mode_not_supported) {
				conf_error("No THP support", k, klen, v, vlen);
			} else if (o->type == CONF_ENUM) {
				*(int *)o->var = (int)j;
			} else {
				*(const char **)o->var = o->names[j];
			}
			break;
		}
		case CONF_JUNK:
			conf_set_junk(k, klen, v, vlen);
			break;
		case CONF_STATS_OPTS:
			conf_set_stats_opts(v, vlen);
			break;
		case CONF_STRING: {
			size_t n = vlen < o->max ? vlen : (size_t)o->max;
			memcpy(o->var, v, n);
			((char *)o->var)[n] = '\0';
			break;
		}
		}
		return;
	}
	conf_error("Invalid conf pair", k, klen, v, vlen);
}

/* Reads the target of the /etc/malloc.conf link without allocating. */
static const char *
conf_read_link(char *buf, size_t buflen) {
#ifdef JEMALLOC_PREFIX
	const char *linkname = "/etc/" JEMALLOC_PREFIX "malloc.conf";
#else
	const char *linkname = "/etc/malloc.conf";
#endif
	ssize_t n = syscall(SYS_readlink, linkname, buf, buflen - 1);
	if (n < 0)
		return NULL;
	buf[n] = '\0';
	return buf;
}

static const char *
conf_env(void) {
#ifdef JEMALLOC_PREFIX
	const char *name = JEMALLOC_CPREFIX "MALLOC_CONF";
#else
	const char *name = "MALLOC_CONF";
#endif
	return secure_getenv(name);
}

void
malloc_conf_init(void) {
	char linkbuf[PATH_MAX + 1];
	const char *sources[4];
	sources[0] = config_malloc_conf;
	sources[1] = je_malloc_conf;
	sources[2] = conf_read_link(linkbuf, sizeof(linkbuf));
	sources[3] = conf_env();

	for (unsigned i = 0; i < 4; i++) {
		const char *opts = sources[i];
		if (opts == NULL)
			continue;
		const char *k, *v;
		size_t klen, vlen;
		while (*opts != '\0' && !malloc_conf_next(&opts, &k, &klen, &v,
		    &vlen))
			malloc_conf_apply(k, klen, v, vlen);
		if (opt_abort_conf && had_conf_error) {
			malloc_write("<jemalloc>: Abort (abort_conf:true) on "
			    "invalid conf value (see above).\n");
			jemalloc_abort();
		}
	}
}
