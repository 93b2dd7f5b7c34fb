/*
 * Trace output, modelled on git's trace.h.
 *
 * TOKENRING_TRACE turns tracing on: unset, empty, "0" or "false" is off;
 * "1", "2" or "true" is stderr; "3" to "9" is that file descriptor; an
 * absolute path is appended to (created 0600).  Each category has its own
 * variable (TOKENRING_TRACE_KEYRING, _HTTP, _PROVIDER, _CONFIG) with the
 * same values; a category whose variable is unset follows TOKENRING_TRACE.
 *
 * Lines look like "HH:MM:SS.uuuuuu file.c:123 message".  Traces never carry
 * secrets: callers trace names and fingerprints (tkr_trace_fingerprint),
 * never tokens.
 */
#ifndef TKR_TRACE_H
#define TKR_TRACE_H

#include <glib.h>
#include <stdarg.h>

typedef struct {
	const char *env;	/* borrowed, static */
	int fd;			/* -1 when off */
	gboolean initialized;
} TkrTraceKey;

#define TKR_TRACE_KEY_INIT(name) { "TOKENRING_TRACE_" #name, -1, FALSE }

extern TkrTraceKey tkr_trace_default;
extern TkrTraceKey tkr_trace_keyring;
extern TkrTraceKey tkr_trace_http;
extern TkrTraceKey tkr_trace_provider;
extern TkrTraceKey tkr_trace_config;

/* Whether key (NULL for TOKENRING_TRACE itself) is on. */
gboolean tkr_trace_want(TkrTraceKey *key);

void tkr_trace_printf_fl(const char *file, int line, TkrTraceKey *key,
			 const char *fmt, ...) G_GNUC_PRINTF(4, 5);

void tkr_trace_vprintf_fl(const char *file, int line, TkrTraceKey *key,
			  const char *fmt, va_list ap) G_GNUC_PRINTF(4, 0);

/*
 * Returns: (transfer full) the first 8 hex digits of the SHA-256 of s, so
 * that a trace can follow a rotating token without showing it.
 */
char *tkr_trace_fingerprint(const char *s);

#define tkr_trace(key, ...) \
	do { \
		if (tkr_trace_want(key)) \
			tkr_trace_printf_fl(__FILE__, __LINE__, (key), \
					    __VA_ARGS__); \
	} while (0)

#endif
