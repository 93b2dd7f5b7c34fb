/*
 * The host services handed to provider modules (tokenring/provider.h):
 * HTTP under the account's limits, strict JSON, encoders, secret memory,
 * trace and the login conversation.
 */
#ifndef TKR_HOST_H
#define TKR_HOST_H

#include "account-config.h"
#include "secret.h"

#include <tokenring/provider.h>

typedef struct {
	TkrHost host;			/* first: providers see only this */
	const TkrAccount *account;	/* borrowed */
	/*
	 * The conversation: answers read from stdin as key=value lines
	 * (key -> TkrSecret), or NULL to prompt on the terminal.
	 */
	GHashTable *answers;
	gboolean conversing;		/* converse is allowed (login) */
} TkrHostImpl;

/* Set up h for account (borrowed; must outlive h). */
void tkr_host_init(TkrHostImpl *h, const TkrAccount *account);
void tkr_host_release(TkrHostImpl *h);

/*
 * Allow host->converse: with answers (transfer full; key -> TkrSecret) from
 * key=value lines, or NULL to prompt on the terminal.
 */
void tkr_host_begin_conversation(TkrHostImpl *h, GHashTable *answers);

/* Returns: (transfer full) s percent-encoded (RFC 3986 unreserved kept). */
TkrSecret *tkr_percent_encode(const char *s);

#endif
