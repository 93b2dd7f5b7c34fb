/*
 * The refresh engine (DESIGN.md section 9; SECURITY.md section 5): every
 * change to an account's record goes through here, under the account's
 * lock.
 *
 *  1. Read the record.  Fresh?  Answer: this path loads neither libcurl
 *     nor a provider module.
 *  2. Otherwise lock the account (bounded wait), and
 *  3. read the record again: another process may have refreshed it.
 *  4. Load the provider and refresh with the re-read tokens; write the new
 *     pair to the keyring (read back) before anything is printed, with
 *     SIGINT, SIGTERM and SIGHUP held off until it is written.
 *  5. A rejected refresh token: re-read once, then TKR_ERROR_LOGIN_NEEDED.
 *     A failure that may pass: keep everything, answer with the current
 *     token while it is valid, else TKR_ERROR_NETWORK/RATE_LIMITED.
 * Nothing here ever deletes a record except tkr_refresh_logout.
 *
 * All functions block on the keyring, the lock and the network (each
 * bounded).
 */
#ifndef TKR_REFRESH_H
#define TKR_REFRESH_H

#include "account-config.h"
#include "credential.h"
#include "record.h"

typedef enum {
	TKR_REFRESH_FORCE = 1 << 0,	/* refresh even if still fresh */
	/*
	 * Report a failed refresh even when the current token is still
	 * valid (for "tokenring refresh": a timer must see failures).
	 */
	TKR_REFRESH_STRICT = 1 << 1,
} TkrRefreshFlags;

/*
 * Fill rec with account a's record, refreshed first unless its access
 * token stays valid for min_valid more seconds.  *refreshed (nullable)
 * says whether this call obtained new tokens.
 */
gboolean tkr_refresh_ensure(const TkrAccount *a, gint64 min_valid,
			    TkrRefreshFlags flags, TkrRecord *rec,
			    gboolean *refreshed, GError **error);

/*
 * Log a in: the provider asks through the conversation (answers: key ->
 * TkrSecret from key=value lines, transfer full; NULL to prompt on the
 * terminal), and the first tokens are stored.  rec gets the new record.
 */
gboolean tkr_refresh_login(const TkrAccount *a, GHashTable *answers,
			   TkrRecord *rec, GError **error);

/*
 * git rejected token (erase): mark the access token bad if it is still
 * the stored one (compare-and-set; NULL token: whatever is stored), so the
 * next get refreshes.  The refresh token stays.  *marked is nullable.
 */
gboolean tkr_refresh_reject(const TkrAccount *a, const char *token,
			    gboolean *marked, GError **error);

/*
 * Refresh a plain git credential with account a's provider (an oauth2
 * account used as the recipe): cred holds the stored (or forwarded)
 * username, expired password, expiry and oauth_refresh_token; query is
 * the request (protocol, host, path).  Under a's lock the plain item is
 * re-read (another process may have refreshed it), refreshed, and the
 * rotated credential stored as a plain item before cred is updated.
 */
gboolean tkr_refresh_plain(const TkrAccount *a, const TkrCredential *query,
			   TkrCredential *cred, GError **error);

/* Remove a's record from the keyring.  *deleted is nullable. */
gboolean tkr_refresh_logout(const TkrAccount *a, gboolean *deleted,
			    GError **error);

/*
 * Read a's record without refreshing (for status).  NOT_FOUND when
 * there is none.
 */
gboolean tkr_refresh_peek(const TkrAccount *a, TkrRecord *rec,
			  GError **error);

#endif
