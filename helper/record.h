/*
 * An account's record: everything needed to answer with, refresh or
 * re-acquire its tokens.  It is stored as one JSON secret in one keyring
 * item (keyring.h), so a rotated pair is written in a single call.
 *
 * The record owns every field.  tokens.extras maps names to TkrSecrets.
 */
#ifndef TKR_RECORD_H
#define TKR_RECORD_H

#include "secret.h"

#include <glib.h>
#include <tokenring/provider.h>

typedef struct {
	TkrTokenSet tokens;
	gint64 last_refresh;	/* epoch s of the last successful refresh */
	char *last_error;	/* of the last failed refresh; nullable */
	/*
	 * git rejected the access token (erase): the next get refreshes
	 * even if the expiry says it is fresh.
	 */
	gboolean access_bad;
} TkrRecord;

#define TKR_RECORD_INIT { { 0 } }

void tkr_token_set_release(TkrTokenSet *set);
void tkr_record_release(TkrRecord *rec);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(TkrRecord, tkr_record_release)

/* An empty extras table of the right kind. */
GHashTable *tkr_extras_new(void);

/* Copy src into dst (released first). */
void tkr_token_set_copy(TkrTokenSet *dst, const TkrTokenSet *src);

/*
 * Whether rec's access token will still be valid min_valid seconds from
 * now (and git has not rejected it).  An unknown expiry counts as valid.
 */
gboolean tkr_record_fresh(const TkrRecord *rec, gint64 min_valid, gint64 now);

/* Returns: (transfer full) rec as JSON text. */
TkrSecret *tkr_record_encode(const TkrRecord *rec);

/*
 * Parse text[0..len) into rec (released first).  Garbage, a missing or
 * malformed access token, or an unknown version give
 * TKR_ERROR_KEYRING_CORRUPT and leave rec empty: never half a record.
 */
gboolean tkr_record_decode(const char *text, size_t len, TkrRecord *rec,
			   GError **error);

#endif
