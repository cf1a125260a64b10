/*
 * Output without allocation: a small vsnprintf, malloc_write() (to the
 * user's malloc_message callback or stderr through write(2)), number parsing
 * for MALLOC_CONF.
 */
#ifndef JEMALLOC_MALLOC_IO_H
#define JEMALLOC_MALLOC_IO_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define BUFERROR_BUF 64
#define MALLOC_PRINTF_BUFSIZE 4096

typedef void (write_cb_t)(void *, const char *);

/* Writes s to the malloc_message hook or to stderr. */
void malloc_write(const char *s);
void wrtmessage(void *cbopaque, const char *s);
int buferror(int err, char *buf, size_t buflen);
uintmax_t malloc_strtoumax(const char *restrict nptr, char **restrict endptr,
    int base);
size_t malloc_vsnprintf(char *str, size_t size, const char *format,
    va_list ap);
size_t malloc_snprintf(char *str, size_t size, const char *format, ...)
    __attribute__((format(printf, 3, 4)));
void malloc_vcprintf(write_cb_t *write_cb, void *cbopaque, const char *format,
    va_list ap);
void malloc_cprintf(write_cb_t *write_cb, void *cbopaque, const char *format,
    ...) __attribute__((format(printf, 3, 4)));
void malloc_printf(const char *format, ...)
    __attribute__((format(printf, 1, 2)));

/* Raw system calls, so that nothing here can re-enter the allocator. */
ssize_t malloc_write_fd(int fd, const void *buf, size_t count);
ssize_t malloc_read_fd(int fd, void *buf, size_t count);

#endif
