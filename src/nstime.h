/* nstime: monotonic time in nanoseconds. */
#ifndef JEMALLOC_NSTIME_H
#define JEMALLOC_NSTIME_H

#include <stdint.h>

#define NSTIME_SEC_MAX ((uint64_t)18446744072ULL)

uint64_t nstime_now_ns(void);

#endif
