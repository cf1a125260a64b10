/*
 * The entry points through which the C++ operators (jemalloc_cpp.cpp) reach
 * the allocator.  They are hidden aliases of the public functions, defined
 * in jemalloc.c when the build has C++ (JEMALLOC_ENABLE_CXX):
 *
 *   jemalloc_cxx_malloc   = je_malloc   (its inlined fast path included)
 *   jemalloc_cxx_free     = je_free
 *   jemalloc_cxx_mallocx  = je_mallocx
 *   jemalloc_cxx_sdallocx = je_sdallocx
 *
 * Hidden, so that the operators call this library's functions directly
 * (no PLT, no interposition) whatever --with-jemalloc-prefix says and
 * whatever other malloc the process has.  The static archive keeps these
 * four names global (still hidden) so that its separate C++ member can
 * reach them; see the Makefile.
 *
 * This header is read by C (jemalloc.c) and C++ (jemalloc_cpp.cpp).
 */
#ifndef JEMALLOC_CPP_H
#define JEMALLOC_CPP_H

#include <stddef.h>

#ifdef __cplusplus
#  define JEMALLOC_CXX_BRIDGE_NOEXCEPT noexcept
extern "C" {
#else
#  define JEMALLOC_CXX_BRIDGE_NOEXCEPT
#endif

#define JEMALLOC_CXX_BRIDGE __attribute__((visibility("hidden")))

JEMALLOC_CXX_BRIDGE void *jemalloc_cxx_malloc(size_t size)
    JEMALLOC_CXX_BRIDGE_NOEXCEPT;
JEMALLOC_CXX_BRIDGE void jemalloc_cxx_free(void *ptr)
    JEMALLOC_CXX_BRIDGE_NOEXCEPT;
JEMALLOC_CXX_BRIDGE void *jemalloc_cxx_mallocx(size_t size, int flags)
    JEMALLOC_CXX_BRIDGE_NOEXCEPT;
JEMALLOC_CXX_BRIDGE void jemalloc_cxx_sdallocx(void *ptr, size_t size,
    int flags) JEMALLOC_CXX_BRIDGE_NOEXCEPT;

#ifdef __cplusplus
}
#endif

#endif /* JEMALLOC_CPP_H */
