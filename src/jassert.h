/*
 * Assertions that never allocate: messages go through malloc_io's
 * write(2)-based printer.  assert() is active only in --enable-debug builds;
 * safety_check() is always on and is meant for cheap checks of user misuse.
 */
#ifndef JEMALLOC_JASSERT_H
#define JEMALLOC_JASSERT_H

#include "malloc_io.h"

JEMALLOC_NORETURN void jemalloc_abort(void);

#undef assert
#define assert(e) do {							\
	if (unlikely(config_debug && !(e))) {				\
		malloc_printf("<jemalloc>: %s:%d: Failed assertion: "	\
		    "\"%s\"\n", __FILE__, __LINE__, #e);		\
		jemalloc_abort();					\
	}								\
} while (0)

#define not_reached() do {						\
	if (config_debug) {						\
		malloc_printf("<jemalloc>: %s:%d: Unreachable code "	\
		    "reached\n", __FILE__, __LINE__);			\
		jemalloc_abort();					\
	}								\
	__builtin_unreachable();					\
} while (0)

#define cassert(c) do {							\
	if (unlikely(!(c)))						\
		not_reached();						\
} while (0)

#endif
