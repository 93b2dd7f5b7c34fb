/*
 * Secret memory, in the manner of libsecret's egg-secure-memory and PAM's
 * pam_overwrite_n, but simpler: every secret gets its own anonymous mapping.
 * A process of ours holds a handful of secrets at a time, so a page each
 * costs nothing, and it lets us mlock, MADV_DONTDUMP and munmap each one
 * without caring about neighbours sharing the page.
 */
#include "config.h"

#include "secret.h"
#include "trace.h"

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Kept in front of the secret; the secret starts TKR_SECRET_HEADER later. */
struct secret_header {
	size_t map_len;		/* whole mapping, header included */
	size_t capacity;	/* usable bytes, excluding the final NUL */
};

#define TKR_SECRET_HEADER 32	/* >= sizeof(struct secret_header), aligned */

G_STATIC_ASSERT(sizeof(struct secret_header) <= TKR_SECRET_HEADER);

void tkr_memzero(void *p, size_t len)
{
	if (!p || !len)
		return;
#if defined(HAVE_MEMSET_EXPLICIT)
	memset_explicit(p, 0, len);
#elif defined(HAVE_EXPLICIT_BZERO)
	explicit_bzero(p, len);
#else
	memset(p, 0, len);
	__asm__ __volatile__("" : : "r"(p) : "memory");
#endif
}

static struct secret_header *header_of(const TkrSecret *s)
{
	return (struct secret_header *)(void *)((char *)s - TKR_SECRET_HEADER);
}

TkrSecret *tkr_secret_new(size_t len)
{
	static gboolean warned;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t need, map_len;
	struct secret_header *h;
	void *map;

	if (len > G_MAXSIZE - TKR_SECRET_HEADER - 1 - page)
		g_error("secret of %zu bytes is too large", len);
	need = TKR_SECRET_HEADER + len + 1;
	map_len = (need + page - 1) / page * page;
	map = mmap(NULL, map_len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED)
		g_error("out of memory for a secret of %zu bytes", len);
#ifdef MADV_DONTDUMP
	madvise(map, map_len, MADV_DONTDUMP);
#endif
	/* Best effort: RLIMIT_MEMLOCK may be 0 (ulimit -l 0); carry on. */
	if (mlock(map, map_len) && !warned) {
		warned = TRUE;
		tkr_trace(NULL, "mlock failed; secrets stay pageable");
	}
	h = map;
	h->map_len = map_len;
	h->capacity = len;
	return (char *)map + TKR_SECRET_HEADER;
}

TkrSecret *tkr_secret_dup_len(const char *s, size_t len)
{
	TkrSecret *copy;

	if (!s)
		return NULL;
	copy = tkr_secret_new(len);
	memcpy(copy, s, len);
	return copy;
}

TkrSecret *tkr_secret_dup(const char *s)
{
	return s ? tkr_secret_dup_len(s, strlen(s)) : NULL;
}

size_t tkr_secret_capacity(const TkrSecret *s)
{
	return s ? header_of(s)->capacity : 0;
}

void tkr_secret_wipe(TkrSecret *s)
{
	if (s)
		tkr_memzero(s, header_of(s)->capacity + 1);
}

void tkr_secret_free(TkrSecret *s)
{
	struct secret_header *h;
	size_t map_len;

	if (!s)
		return;
	h = header_of(s);
	map_len = h->map_len;
	tkr_memzero(h, map_len);
	munlock(h, map_len);
	munmap(h, map_len);
}

void tkr_secret_set(TkrSecret **slot, const char *value)
{
	TkrSecret *old = *slot;

	*slot = tkr_secret_dup(value);
	tkr_secret_free(old);
}

gboolean tkr_secret_equal(const char *a, const char *b)
{
	size_t la, lb, i;
	unsigned char diff;

	if (!a || !b)
		return a == b;
	la = strlen(a);
	lb = strlen(b);
	diff = la != lb;
	/* Walk the longer one so the time depends on lengths only. */
	for (i = 0; i < MAX(la, lb); i++)
		diff |= (unsigned char)(i < la ? a[i] : 0) ^
			(unsigned char)(i < lb ? b[i] : 0);
	return !diff;
}
