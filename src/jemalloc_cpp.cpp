/*
 * jemalloc_cpp.cpp: the replaceable global allocation and deallocation
 * functions of C++ ([new.delete]), served by this library.
 *
 *   new, new[]                     malloc; on failure the new_handler loop,
 *                                  then std::bad_alloc
 *   new, new[] (nothrow)           the same loop; nullptr instead of throwing
 *   delete, delete[] (+ nothrow)   free
 *   delete, delete[] (size)        sdallocx(ptr, size, 0)
 *   new, new[] (align_val_t)       mallocx(size, MALLOCX_LG_ALIGN(lg align))
 *   delete, delete[] (align)       free
 *   delete, delete[] (size, align) sdallocx(ptr, size, MALLOCX_LG_ALIGN(...))
 *
 * The functions keep their standard (mangled) names in every build, the
 * prefixed ones included, and reach the allocator through the hidden
 * entry points of jemalloc_cpp.h, never through the public (possibly
 * prefixed, possibly interposed) names.  Everything here is compiled with
 * -fvisibility=hidden; only the operators carry default visibility.
 *
 * new(0) returns a unique pointer (malloc bumps size 0 to 1, mallocx
 * treats 0 as 1).  Deleting nullptr does nothing, sized or not.
 */
#include <cstddef>
#include <new>

#define JEMALLOC_NO_DEMANGLE
#include "jemalloc/jemalloc.h"
#include "jemalloc_cpp.h"

#define CXX_EXPORT __attribute__((visibility("default")))
#define CXX_LIKELY(x) __builtin_expect(!!(x), 1)

namespace {

/*
 * The slow path of every new: call the installed new_handler and try
 * again until the allocation succeeds.  With no handler the throwing forms
 * throw std::bad_alloc and the nothrow forms return nullptr; a handler's
 * exception leaves a throwing form as it is and makes a nothrow form
 * return nullptr (it behaves as if it called the throwing form inside
 * try/catch, [new.delete.single]).
 */
void *
new_retry(std::size_t size, int flags) {
	for (;;) {
		std::new_handler handler = std::get_new_handler();
		if (handler == nullptr)
			throw std::bad_alloc();
		handler();
		void *p = flags == 0 ? jemalloc_cxx_malloc(size) :
		    jemalloc_cxx_mallocx(size, flags);
		if (p != nullptr)
			return p;
	}
}

__attribute__((cold, noinline)) void *
new_slow(std::size_t size, int flags) {
	return new_retry(size, flags);
}

__attribute__((cold, noinline)) void *
new_slow_nothrow(std::size_t size, int flags) noexcept {
	/* The fast path of a nothrow new has no handler to call. */
	if (std::get_new_handler() == nullptr)
		return nullptr;
	try {
		return new_retry(size, flags);
	} catch (...) {
		return nullptr;
	}
}

inline void *
new_impl(std::size_t size) {
	void *p = jemalloc_cxx_malloc(size);
	if (CXX_LIKELY(p != nullptr))
		return p;
	return new_slow(size, 0);
}

inline void *
new_nothrow_impl(std::size_t size) noexcept {
	void *p = jemalloc_cxx_malloc(size);
	if (CXX_LIKELY(p != nullptr))
		return p;
	return new_slow_nothrow(size, 0);
}

inline void
sized_delete_impl(void *ptr, std::size_t size, int flags) noexcept {
	if (ptr == nullptr)
		return;
	jemalloc_cxx_sdallocx(ptr, size, flags);
}

#ifdef __cpp_aligned_new
/* The mallocx flags of an alignment (a power of two, [new.delete]). */
inline int
align_flags(std::align_val_t alignment) noexcept {
	return MALLOCX_LG_ALIGN(__builtin_ctzll(
	    static_cast<unsigned long long>(alignment)));
}

inline void *
aligned_new_impl(std::size_t size, std::align_val_t alignment) {
	int flags = align_flags(alignment);
	void *p = jemalloc_cxx_mallocx(size, flags);
	if (CXX_LIKELY(p != nullptr))
		return p;
	return new_slow(size, flags);
}

inline void *
aligned_new_nothrow_impl(std::size_t size, std::align_val_t alignment)
    noexcept {
	int flags = align_flags(alignment);
	void *p = jemalloc_cxx_mallocx(size, flags);
	if (CXX_LIKELY(p != nullptr))
		return p;
	return new_slow_nothrow(size, flags);
}
#endif

} /* namespace */

/* --- new --------------------------------------------------------------------- */

CXX_EXPORT void *
operator new(std::size_t size) {
	return new_impl(size);
}

CXX_EXPORT void *
operator new[](std::size_t size) {
	return new_impl(size);
}

CXX_EXPORT void *
operator new(std::size_t size, const std::nothrow_t &) noexcept {
	return new_nothrow_impl(size);
}

CXX_EXPORT void *
operator new[](std::size_t size, const std::nothrow_t &) noexcept {
	return new_nothrow_impl(size);
}

/* --- delete ------------------------------------------------------------------ */

CXX_EXPORT void
operator delete(void *ptr) noexcept {
	jemalloc_cxx_free(ptr);
}

CXX_EXPORT void
operator delete[](void *ptr) noexcept {
	jemalloc_cxx_free(ptr);
}

CXX_EXPORT void
operator delete(void *ptr, const std::nothrow_t &) noexcept {
	jemalloc_cxx_free(ptr);
}

CXX_EXPORT void
operator delete[](void *ptr, const std::nothrow_t &) noexcept {
	jemalloc_cxx_free(ptr);
}

/* C++14 sized deallocation. */
CXX_EXPORT void
operator delete(void *ptr, std::size_t size) noexcept {
	sized_delete_impl(ptr, size, 0);
}

CXX_EXPORT void
operator delete[](void *ptr, std::size_t size) noexcept {
	sized_delete_impl(ptr, size, 0);
}

/* --- C++17 over-aligned new and delete ------------------------------------------ */

#ifdef __cpp_aligned_new
CXX_EXPORT void *
operator new(std::size_t size, std::align_val_t alignment) {
	return aligned_new_impl(size, alignment);
}

CXX_EXPORT void *
operator new[](std::size_t size, std::align_val_t alignment) {
	return aligned_new_impl(size, alignment);
}

CXX_EXPORT void *
operator new(std::size_t size, std::align_val_t alignment,
    const std::nothrow_t &) noexcept {
	return aligned_new_nothrow_impl(size, alignment);
}

CXX_EXPORT void *
operator new[](std::size_t size, std::align_val_t alignment,
    const std::nothrow_t &) noexcept {
	return aligned_new_nothrow_impl(size, alignment);
}

/* Unsized: free finds the size class from the pointer alone. */
CXX_EXPORT void
operator delete(void *ptr, std::align_val_t) noexcept {
	jemalloc_cxx_free(ptr);
}

CXX_EXPORT void
operator delete[](void *ptr, std::align_val_t) noexcept {
	jemalloc_cxx_free(ptr);
}

CXX_EXPORT void
operator delete(void *ptr, std::align_val_t, const std::nothrow_t &)
    noexcept {
	jemalloc_cxx_free(ptr);
}

CXX_EXPORT void
operator delete[](void *ptr, std::align_val_t, const std::nothrow_t &)
    noexcept {
	jemalloc_cxx_free(ptr);
}

CXX_EXPORT void
operator delete(void *ptr, std::size_t size, std::align_val_t alignment)
    noexcept {
	sized_delete_impl(ptr, size, align_flags(alignment));
}

CXX_EXPORT void
operator delete[](void *ptr, std::size_t size, std::align_val_t alignment)
    noexcept {
	sized_delete_impl(ptr, size, align_flags(alignment));
}
#endif
