/*
 * Secret memory: one type for every password, token and key.
 *
 * A TkrSecret is a NUL-terminated string in its own page-aligned mapping,
 * locked into RAM where RLIMIT_MEMLOCK allows and excluded from core dumps.
 * The allocation's size lives in a header in front of the string, so that
 * tkr_secret_free() wipes the whole block, not just up to the first NUL.
 *
 * Ownership: a TkrSecret * is always owned by exactly one holder, who frees
 * it with tkr_secret_free() (never g_free() or free()).  Use
 * g_autoptr(TkrSecret) for locals.
 */
#ifndef TKR_SECRET_H
#define TKR_SECRET_H

#include <glib.h>
#include <stddef.h>

typedef char TkrSecret;

/*
 * Wipe len bytes at p in a way the compiler cannot elide (memset_explicit,
 * explicit_bzero, or memset behind a compiler barrier).
 */
void tkr_memzero(void *p, size_t len);

/*
 * Returns: (transfer full) a zero-filled secret with room for len bytes
 * plus a terminating NUL.  Never NULL (aborts on out-of-memory like GLib).
 */
TkrSecret *tkr_secret_new(size_t len);

/*
 * Returns: (transfer full) (nullable) a secret copy of the first len bytes
 * of s, NUL-terminated; NULL if s is NULL.
 */
TkrSecret *tkr_secret_dup_len(const char *s, size_t len);

/* Returns: (transfer full) (nullable) a secret copy of the string s. */
TkrSecret *tkr_secret_dup(const char *s);

/* The number of usable bytes of s (the len given to tkr_secret_new). */
size_t tkr_secret_capacity(const TkrSecret *s);

/* Wipe the whole usable area of s without freeing it. */
void tkr_secret_wipe(TkrSecret *s);

/* Wipe and release s.  NULL is allowed. */
void tkr_secret_free(TkrSecret *s);

/*
 * Replace *slot with a copy of value (or NULL), freeing the old secret.
 */
void tkr_secret_set(TkrSecret **slot, const char *value);

/*
 * Compare two strings in time that depends only on their lengths.  Two
 * NULLs are equal; NULL differs from any string.
 */
gboolean tkr_secret_equal(const char *a, const char *b);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(TkrSecret, tkr_secret_free)

#endif
