/* pages: mmap/munmap/madvise wrappers; see pages.h. */
#include "jemalloc_internal.h"
#include "pages.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef MADV_FREE
#  define MADV_FREE 8
#endif

static size_t os_page;
bool os_overcommits;
bool pages_can_purge_lazy_runtime = true;
thp_mode_t opt_thp = thp_mode_default;
thp_mode_t init_system_thp_mode;
const char *const thp_mode_names[] = {"default", "always", "never",
    "not supported"};
size_t pages_map_fail_after;
size_t pages_map_faults_injected;
static int mmap_flags;

/*
 * Maps size bytes at addr (a hint only: never MAP_FIXED) with the given
 * commit state.  Returns NULL on failure, or when addr was given and the
 * kernel placed the mapping elsewhere.
 */
static void *
os_pages_map(void *addr, size_t size, size_t alignment, bool *commit) {
	assert(ALIGNMENT_ADDR2BASE(addr, os_page) == addr);
	assert(size != 0);
	(void)alignment;	/* the caller's target; kept for backtraces */

	if (config_debug && pages_map_fail_after != 0) {
		if (pages_map_fail_after == 1) {
			pages_map_faults_injected++;
			return NULL;
		}
		pages_map_fail_after--;
	}
	if (os_overcommits)
		*commit = true;
	int prot = *commit ? (PROT_READ | PROT_WRITE) : PROT_NONE;
	/* A failed map must not leak the kernel's errno to API callers that
	 * promise to leave errno alone (posix_memalign, mallocx ...). */
	int saved_errno = get_errno();
	void *ret = mmap(addr, size, prot, mmap_flags, -1, 0);
	if (ret == MAP_FAILED) {
		set_errno(saved_errno);
		ret = NULL;
	} else if (addr != NULL && ret != addr) {
		/* Placed elsewhere: not what the caller asked for. */
		munmap(ret, size);
		ret = NULL;
	}
	return ret;
}

static void *
os_pages_trim(void *addr, size_t alloc_size, size_t leadsize, size_t size,
    bool *commit) {
	void *ret = (void *)((uintptr_t)addr + leadsize);
	size_t trailsize = alloc_size - leadsize - size;
	if (leadsize != 0)
		pages_unmap(addr, leadsize);
	if (trailsize != 0)
		pages_unmap((void *)((uintptr_t)ret + size), trailsize);
	return ret;
}

/* Over-maps by alignment - os_page and trims to an aligned run. */
static void *
pages_map_slow(size_t size, size_t alignment, bool *commit) {
	size_t alloc_size = size + alignment - os_page;
	if (alloc_size < size)
		return NULL;
	void *ret;
	do {
		void *pages = os_pages_map(NULL, alloc_size, alignment, commit);
		if (pages == NULL)
			return NULL;
		size_t leadsize = ALIGNMENT_CEILING((uintptr_t)pages,
		    alignment) - (uintptr_t)pages;
		ret = os_pages_trim(pages, alloc_size, leadsize, size, commit);
	} while (ret == NULL);
	return ret;
}

void *
pages_map(void *addr, size_t size, size_t alignment, bool *commit) {
	assert(alignment >= PAGE);
	assert(ALIGNMENT_ADDR2BASE(addr, alignment) == addr);

	/* Optimistically map exactly size; most kernels hand back aligned
	 * runs for aligned sizes often enough. */
	void *ret = os_pages_map(addr, size, os_page, commit);
	if (ret == NULL || ret == addr)
		return ret;
	assert(addr == NULL);
	if (ALIGNMENT_ADDR2OFFSET(ret, alignment) != 0) {
		pages_unmap(ret, size);
		return pages_map_slow(size, alignment, commit);
	}
	return ret;
}

void
pages_unmap(void *addr, size_t size) {
	if (munmap(addr, size) == -1) {
		char buf[BUFERROR_BUF];
		buferror(get_errno(), buf, sizeof(buf));
		malloc_printf("<jemalloc>: Error in munmap(): %s\n", buf);
	}
}

static bool
pages_commit_impl(void *addr, size_t size, bool commit) {
	if (os_overcommits)
		return true;
	int prot = commit ? (PROT_READ | PROT_WRITE) : PROT_NONE;
	void *result = mmap(addr, size, prot, mmap_flags | MAP_FIXED, -1, 0);
	if (result == MAP_FAILED)
		return true;
	if (result != addr) {
		pages_unmap(result, size);
		return true;
	}
	return false;
}

bool
pages_commit(void *addr, size_t size) {
	return pages_commit_impl(addr, size, true);
}

bool
pages_decommit(void *addr, size_t size) {
	return pages_commit_impl(addr, size, false);
}

/* Returns true on failure, as every hook-level function here. */
bool
pages_purge_lazy(void *addr, size_t size) {
	if (!pages_can_purge_lazy_runtime)
		return true;
	return madvise(addr, size, MADV_FREE) != 0;
}

bool
pages_purge_forced(void *addr, size_t size) {
	return madvise(addr, size, MADV_DONTNEED) != 0;
}

bool
pages_huge(void *addr, size_t size) {
	return madvise(addr, size, MADV_HUGEPAGE) != 0;
}

bool
pages_nohuge(void *addr, size_t size) {
	return madvise(addr, size, MADV_NOHUGEPAGE) != 0;
}

bool
pages_dontdump(void *addr, size_t size) {
	return madvise(addr, size, MADV_DONTDUMP) != 0;
}

bool
pages_dodump(void *addr, size_t size) {
	return madvise(addr, size, MADV_DODUMP) != 0;
}

/* Applies opt.thp to a new user mapping. */
void
pages_set_thp_state(void *ptr, size_t size) {
	if (opt_thp == thp_mode_default || opt_thp == init_system_thp_mode)
		return;
	if (opt_thp == thp_mode_always && init_system_thp_mode !=
	    thp_mode_never)
		pages_huge(ptr, size);
	else if (opt_thp == thp_mode_never)
		pages_nohuge(ptr, size);
}

/* Reads a small file with raw system calls (no stdio, no allocation). */
static ssize_t
pages_read_file(const char *path, char *buf, size_t len) {
	int fd = (int)syscall(SYS_open, path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return -1;
	ssize_t n = malloc_read_fd(fd, buf, len);
	syscall(SYS_close, fd);
	return n;
}

static bool
os_overcommits_proc(void) {
	char buf[1];
	if (pages_read_file("/proc/sys/vm/overcommit_memory", buf, 1) < 1)
		return false;
	/* 0: heuristic overcommit, 1: always; 2: strict accounting. */
	return buf[0] == '0' || buf[0] == '1';
}

static void
init_thp_state(void) {
	char buf[64];
	ssize_t n = pages_read_file("/sys/kernel/mm/transparent_hugepage/enabled",
	    buf, sizeof(buf) - 1);
	if (n < 0) {
		init_system_thp_mode = thp_mode_not_supported;
		opt_thp = thp_mode_not_supported;
		return;
	}
	buf[n] = '\0';
	if (strstr(buf, "[always]") != NULL)
		init_system_thp_mode = thp_mode_always;
	else if (strstr(buf, "[never]") != NULL)
		init_system_thp_mode = thp_mode_never;
	else
		init_system_thp_mode = thp_mode_default;	/* [madvise] */
}

/* Returns true on error. */
bool
pages_boot(void) {
	long ps = sysconf(_SC_PAGESIZE);
	os_page = ps > 0 ? (size_t)ps : PAGE;
	if (os_page > PAGE) {
		malloc_write("<jemalloc>: Unsupported system page size\n");
		return true;
	}
	mmap_flags = MAP_PRIVATE | MAP_ANONYMOUS;
	os_overcommits = os_overcommits_proc();
	if (os_overcommits)
		mmap_flags |= MAP_NORESERVE;
	init_thp_state();

	/* Probe MADV_FREE on one page: older kernels reject it. */
	bool committed = false;
	void *madv_free_page = os_pages_map(NULL, PAGE, PAGE, &committed);
	if (madv_free_page == NULL)
		return true;
	pages_can_purge_lazy_runtime = true;
	if (pages_purge_lazy(madv_free_page, PAGE))
		pages_can_purge_lazy_runtime = false;
	pages_unmap(madv_free_page, PAGE);
	return false;
}
