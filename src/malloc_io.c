/* malloc_io: formatted output that never allocates; see malloc_io.h. */
#include "jemalloc_internal.h"

#include <sys/syscall.h>
#include <unistd.h>

ssize_t
malloc_write_fd(int fd, const void *buf, size_t count) {
	return (ssize_t)syscall(SYS_write, fd, buf, count);
}

ssize_t
malloc_read_fd(int fd, void *buf, size_t count) {
	return (ssize_t)syscall(SYS_read, fd, buf, count);
}

void
wrtmessage(void *cbopaque, const char *s) {
	size_t len = strlen(s);
	while (len > 0) {
		ssize_t n = malloc_write_fd(STDERR_FILENO, s, len);
		if (n <= 0)
			return;
		s += n;
		len -= (size_t)n;
	}
}

void
malloc_write(const char *s) {
	if (je_malloc_message != NULL)
		je_malloc_message(NULL, s);
	else
		wrtmessage(NULL, s);
}

int
buferror(int err, char *buf, size_t buflen) {
	/* GNU strerror_r may return a static string instead of filling buf. */
	char *b = strerror_r(err, buf, buflen);
	if (b != buf) {
		strncpy(buf, b, buflen);
		buf[buflen - 1] = '\0';
	}
	return 0;
}

uintmax_t
malloc_strtoumax(const char *restrict nptr, char **restrict endptr, int base) {
	const char *p = nptr;
	uintmax_t ret = 0;
	bool neg = false, any = false, overflow = false;

	if (base < 0 || base == 1 || base > 36) {
		set_errno(EINVAL);
		if (endptr != NULL)
			*endptr = (char *)nptr;
		return UINTMAX_MAX;
	}
	while (*p == ' ' || (*p >= '\t' && *p <= '\r'))
		p++;
	if (*p == '+' || *p == '-') {
		neg = (*p == '-');
		p++;
	}
	if (base == 0) {
		if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X') &&
		    ((p[2] >= '0' && p[2] <= '9') ||
		    ((p[2] | 0x20) >= 'a' && (p[2] | 0x20) <= 'f'))) {
			base = 16;
			p += 2;
		} else if (p[0] == '0') {
			base = 8;
		} else {
			base = 10;
		}
	} else if (base == 16 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X') &&
	    ((p[2] >= '0' && p[2] <= '9') ||
	    ((p[2] | 0x20) >= 'a' && (p[2] | 0x20) <= 'f'))) {
		p += 2;
	}
	for (;; p++) {
		int d;
		char c = *p;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')
			d = (c | 0x20) - 'a' + 10;
		else
			break;
		if (d >= base)
			break;
		any = true;
		uintmax_t next = ret * (uintmax_t)base + (uintmax_t)d;
		if (next / (uintmax_t)base != ret ||
		    (ret > (UINTMAX_MAX - (uintmax_t)d) / (uintmax_t)base))
			overflow = true;
		ret = next;
	}
	if (!any) {
		if (endptr != NULL)
			*endptr = (char *)nptr;
		set_errno(EINVAL);
		return 0;
	}
	if (overflow) {
		set_errno(ERANGE);
		ret = UINTMAX_MAX;
	} else if (neg) {
		ret = (uintmax_t)(-(intmax_t)ret);
	}
	if (endptr != NULL)
		*endptr = (char *)p;
	return ret;
}

/* --- vsnprintf ------------------------------------------------------------ */

typedef struct {
	char *buf;
	size_t size;
	size_t len;	/* characters that would have been written */
} out_t;

static void
out_c(out_t *o, char c) {
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void
out_pad(out_t *o, char c, int n) {
	while (n-- > 0)
		out_c(o, c);
}

/* Writes one converted field honouring width and the '-' and '0' flags. */
static void
out_field(out_t *o, const char *s, size_t slen, const char *prefix, int width,
    bool left, bool zero_pad) {
	size_t plen = strlen(prefix);
	int pad = width - (int)(slen + plen);
	if (!left && !zero_pad)
		out_pad(o, ' ', pad);
	for (size_t i = 0; i < plen; i++)
		out_c(o, prefix[i]);
	if (!left && zero_pad)
		out_pad(o, '0', pad);
	for (size_t i = 0; i < slen; i++)
		out_c(o, s[i]);
	if (left)
		out_pad(o, ' ', pad);
}

/* Formats x in base into the end of buf; returns the first character. */
static char *
u2s(uintmax_t x, unsigned base, bool upper, char *end) {
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char *p = end;
	*p = '\0';
	do {
		*--p = digits[x % base];
		x /= base;
	} while (x > 0);
	return p;
}

size_t
malloc_vsnprintf(char *str, size_t size, const char *format, va_list ap) {
	out_t o = {str, size, 0};
	const char *f = format;

	while (*f != '\0') {
		if (*f != '%') {
			out_c(&o, *f++);
			continue;
		}
		f++;
		bool left = false, zero_pad = false, plus = false, space = false,
		    alt = false;
		for (;; f++) {
			if (*f == '-')
				left = true;
			else if (*f == '0')
				zero_pad = true;
			else if (*f == '+')
				plus = true;
			else if (*f == ' ')
				space = true;
			else if (*f == '#')
				alt = true;
			else
				break;
		}
		int width = 0, prec = -1;
		if (*f == '*') {
			width = va_arg(ap, int);
			if (width < 0) {
				left = true;
				width = -width;
			}
			f++;
		} else {
			while (*f >= '0' && *f <= '9')
				width = width * 10 + (*f++ - '0');
		}
		if (*f == '.') {
			f++;
			prec = 0;
			if (*f == '*') {
				prec = va_arg(ap, int);
				f++;
			} else {
				while (*f >= '0' && *f <= '9')
					prec = prec * 10 + (*f++ - '0');
			}
		}
		/* Length modifier: 0 int, 1 long, 2 long long, 3 size_t, 4 intmax, 5 ptrdiff, -1 char, -2 short. */
		int lenmod = 0;
		for (;;) {
			if (*f == 'l') {
				lenmod = lenmod == 1 ? 2 : 1;
			} else if (*f == 'z') {
				lenmod = 3;
			} else if (*f == 'j') {
				lenmod = 4;
			} else if (*f == 't') {
				lenmod = 5;
			} else if (*f == 'h') {
				lenmod = lenmod == -2 ? -1 : -2;
			} else if (*f == 'q') {
				lenmod = 2;
			} else {
				break;
			}
			f++;
		}
		char numbuf[72];
		char *end = numbuf + sizeof(numbuf) - 1;
		char conv = *f++;
		switch (conv) {
		case 'd': case 'i': {
			intmax_t v;
			switch (lenmod) {
			case 1: v = va_arg(ap, long); break;
			case 2: v = va_arg(ap, long long); break;
			case 3: v = va_arg(ap, ssize_t); break;
			case 4: v = va_arg(ap, intmax_t); break;
			case 5: v = va_arg(ap, ptrdiff_t); break;
			case -1: v = (signed char)va_arg(ap, int); break;
			case -2: v = (short)va_arg(ap, int); break;
			default: v = va_arg(ap, int); break;
			}
			uintmax_t mag = v < 0 ? (uintmax_t)0 - (uintmax_t)v :
			    (uintmax_t)v;
			char *s = u2s(mag, 10, false, end);
			const char *pre = v < 0 ? "-" : plus ? "+" :
			    space ? " " : "";
			out_field(&o, s, strlen(s), pre, width, left,
			    zero_pad && !left);
			break;
		}
		case 'u': case 'x': case 'X': case 'o': {
			uintmax_t v;
			switch (lenmod) {
			case 1: v = va_arg(ap, unsigned long); break;
			case 2: v = va_arg(ap, unsigned long long); break;
			case 3: v = va_arg(ap, size_t); break;
			case 4: v = va_arg(ap, uintmax_t); break;
			case 5: v = (uintmax_t)va_arg(ap, ptrdiff_t); break;
			case -1: v = (unsigned char)va_arg(ap, unsigned); break;
			case -2: v = (unsigned short)va_arg(ap, unsigned); break;
			default: v = va_arg(ap, unsigned); break;
			}
			unsigned base = conv == 'u' ? 10 : conv == 'o' ? 8 : 16;
			char *s = u2s(v, base, conv == 'X', end);
			const char *pre = "";
			if (alt && v != 0)
				pre = conv == 'x' ? "0x" : conv == 'X' ? "0X" :
				    conv == 'o' ? "0" : "";
			out_field(&o, s, strlen(s), pre, width, left,
			    zero_pad && !left);
			break;
		}
		case 'p': {
			uintptr_t v = (uintptr_t)va_arg(ap, void *);
			char *s = u2s(v, 16, false, end);
			out_field(&o, s, strlen(s), "0x", width, left, false);
			break;
		}
		case 'c': {
			char c = (char)va_arg(ap, int);
			out_field(&o, &c, 1, "", width, left, false);
			break;
		}
		case 's': {
			const char *s = va_arg(ap, const char *);
			if (s == NULL)
				s = "(null)";
			size_t slen = strlen(s);
			if (prec >= 0 && (size_t)prec < slen)
				slen = (size_t)prec;
			out_field(&o, s, slen, "", width, left, false);
			break;
		}
		case '%':
			out_c(&o, '%');
			break;
		case '\0':
			f--;
			break;
		default:
			out_c(&o, '%');
			out_c(&o, conv);
			break;
		}
	}
	if (size > 0)
		str[o.len < size ? o.len : size - 1] = '\0';
	return o.len;
}

size_t
malloc_snprintf(char *str, size_t size, const char *format, ...) {
	va_list ap;
	va_start(ap, format);
	size_t ret = malloc_vsnprintf(str, size, format, ap);
	va_end(ap);
	return ret;
}

void
malloc_vcprintf(write_cb_t *write_cb, void *cbopaque, const char *format,
    va_list ap) {
	char buf[MALLOC_PRINTF_BUFSIZE];
	if (write_cb == NULL) {
		write_cb = je_malloc_message != NULL ? je_malloc_message :
		    wrtmessage;
	}
	malloc_vsnprintf(buf, sizeof(buf), format, ap);
	write_cb(cbopaque, buf);
}

void
malloc_cprintf(write_cb_t *write_cb, void *cbopaque, const char *format, ...) {
	va_list ap;
	va_start(ap, format);
	malloc_vcprintf(write_cb, cbopaque, format, ap);
	va_end(ap);
}

void
malloc_printf(const char *format, ...) {
	va_list ap;
	va_start(ap, format);
	malloc_vcprintf(NULL, NULL, format, ap);
	va_end(ap);
}
