/*
 * The TKR_ERROR domain.  Internal code reports failures as GErrors in this
 * domain (or passes GIO and libsecret errors through); only the *-main.c
 * files turn them into exit codes (DESIGN.md section 5).
 */
#ifndef TKR_ERROR_H
#define TKR_ERROR_H

#include <glib.h>

#define TKR_ERROR (tkr_error_quark())
GQuark tkr_error_quark(void);

typedef enum {
	TKR_ERROR_NOT_FOUND,
	TKR_ERROR_PROTOCOL,		/* malformed input on a protocol */
	TKR_ERROR_USAGE,
	TKR_ERROR_CONFIG,
	TKR_ERROR_KEYRING_UNAVAILABLE,	/* no bus, no service, no answer */
	TKR_ERROR_KEYRING_LOCKED,
	TKR_ERROR_KEYRING_CORRUPT,
	TKR_ERROR_NETWORK,
	TKR_ERROR_HTTP,
	TKR_ERROR_RATE_LIMITED,
	TKR_ERROR_BUSY,
	TKR_ERROR_LOGIN_NEEDED,		/* the refresh token was rejected */
	TKR_ERROR_PROVIDER,		/* module load or ABI failure */
	TKR_ERROR_UNSUPPORTED,
} TkrErrorCode;

/*
 * Returns: (transfer full) text fit for one line on a terminal: control
 * bytes and DEL shown as \xNN, cut to at most max bytes of input with
 * "..." appended.  For server text and anything else we did not write.
 */
char *tkr_error_sanitize(const char *text, size_t max);

#endif
