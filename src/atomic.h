/*
 * Typed atomics over the GCC __atomic builtins.  One macro generates the
 * wrapper set for each type: atomic_p_t with atomic_load_p/atomic_store_p
 * and so on for u32, u64, zu, zd, u and b.
 */
#ifndef JEMALLOC_ATOMIC_H
#define JEMALLOC_ATOMIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef enum {
	ATOMIC_RELAXED = __ATOMIC_RELAXED,
	ATOMIC_ACQUIRE = __ATOMIC_ACQUIRE,
	ATOMIC_RELEASE = __ATOMIC_RELEASE,
	ATOMIC_ACQ_REL = __ATOMIC_ACQ_REL,
	ATOMIC_SEQ_CST = __ATOMIC_SEQ_CST
} atomic_memory_order_t;

#define ATOMIC_INIT(v) {v}

#define JEMALLOC_GENERATE_ATOMICS(type, short_type)			\
typedef struct {							\
	type repr;							\
} atomic_##short_type##_t;						\
static inline type							\
atomic_load_##short_type(const atomic_##short_type##_t *a,		\
    atomic_memory_order_t mo) {						\
	return __atomic_load_n(&a->repr, mo);				\
}									\
static inline void							\
atomic_store_##short_type(atomic_##short_type##_t *a, type val,		\
    atomic_memory_order_t mo) {						\
	__atomic_store_n(&a->repr, val, mo);				\
}									\
static inline type							\
atomic_exchange_##short_type(atomic_##short_type##_t *a, type val,	\
    atomic_memory_order_t mo) {						\
	return __atomic_exchange_n(&a->repr, val, mo);			\
}									\
static inline bool							\
atomic_compare_exchange_weak_##short_type(atomic_##short_type##_t *a,	\
    type *expected, type desired, atomic_memory_order_t success_mo,	\
    atomic_memory_order_t failure_mo) {					\
	return __atomic_compare_exchange_n(&a->repr, expected, desired,	\
	    true, success_mo, failure_mo);				\
}									\
static inline bool							\
atomic_compare_exchange_strong_##short_type(atomic_##short_type##_t *a,	\
    type *expected, type desired, atomic_memory_order_t success_mo,	\
    atomic_memory_order_t failure_mo) {					\
	return __atomic_compare_exchange_n(&a->repr, expected, desired,	\
	    false, success_mo, failure_mo);				\
}

#define JEMALLOC_GENERATE_INT_ATOMICS(type, short_type)			\
JEMALLOC_GENERATE_ATOMICS(type, short_type)				\
static inline type							\
atomic_fetch_add_##short_type(atomic_##short_type##_t *a, type val,	\
    atomic_memory_order_t mo) {						\
	return __atomic_fetch_add(&a->repr, val, mo);			\
}									\
static inline type							\
atomic_fetch_sub_##short_type(atomic_##short_type##_t *a, type val,	\
    atomic_memory_order_t mo) {						\
	return __atomic_fetch_sub(&a->repr, val, mo);			\
}									\
static inline type							\
atomic_fetch_or_##short_type(atomic_##short_type##_t *a, type val,	\
    atomic_memory_order_t mo) {						\
	return __atomic_fetch_or(&a->repr, val, mo);			\
}									\
static inline type							\
atomic_fetch_and_##short_type(atomic_##short_type##_t *a, type val,	\
    atomic_memory_order_t mo) {						\
	return __atomic_fetch_and(&a->repr, val, mo);			\
}

JEMALLOC_GENERATE_ATOMICS(void *, p)
JEMALLOC_GENERATE_ATOMICS(bool, b)
JEMALLOC_GENERATE_INT_ATOMICS(unsigned, u)
JEMALLOC_GENERATE_INT_ATOMICS(uint32_t, u32)
JEMALLOC_GENERATE_INT_ATOMICS(uint64_t, u64)
JEMALLOC_GENERATE_INT_ATOMICS(size_t, zu)
JEMALLOC_GENERATE_INT_ATOMICS(ssize_t, zd)

#endif
