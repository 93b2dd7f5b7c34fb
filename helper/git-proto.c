#include "config.h"

#include "git-proto.h"
#include "error.h"
#include "trace.h"
#include "keyring/keyring.h"

#include <string.h>

gboolean tkr_git_request_ok(const TkrCredential *req)
{
	g_autofree char *name = NULL;
	guint port;

	if (!req->protocol || !*req->protocol)
		return FALSE;
	if (!req->host || !*req->host)
		return !strcmp(req->protocol, "cert") && req->path &&
		       *req->path;
	return tkr_credential_split_host(req->host, &name, &port, NULL);
}

static gboolean refuse(GError **error)
{
	g_set_error_literal(error, TKR_ERROR, TKR_ERROR_PROTOCOL,
			    "request without protocol and host");
	return FALSE;
}

gboolean tkr_git_get(const TkrCredential *req, TkrCredential *answer,
		     GError **error)
{
	g_autoptr(TkrKeyring) kr = NULL;

	if (!tkr_git_request_ok(req))
		return refuse(error);
	kr = tkr_keyring_open(error);
	if (!kr || !tkr_keyring_git_lookup(kr, req, answer, error))
		return FALSE;
	if (answer->password_expiry_utc > 0 &&
	    answer->password_expiry_utc <= g_get_real_time() / G_USEC_PER_SEC) {
		/*
		 * git 2.39 would use a dead password, get a 401 and erase the
		 * item; git >= 2.41 passes the refresh token on to the next
		 * helper (git-credential-oauth, say), which can renew it.  So
		 * answer with the refresh token but no password, or not at
		 * all when there is nothing to renew it with.
		 */
		tkr_trace(NULL, "stored credential expired at %" G_GINT64_FORMAT,
			  answer->password_expiry_utc);
		g_clear_pointer(&answer->password, tkr_secret_free);
		if (!answer->oauth_refresh_token) {
			tkr_credential_release(answer);
			g_set_error_literal(error, TKR_ERROR,
					    TKR_ERROR_NOT_FOUND,
					    "stored credential expired");
			return FALSE;
		}
	}
	return TRUE;
}

gboolean tkr_git_store(const TkrCredential *req, GError **error)
{
	g_autoptr(TkrKeyring) kr = NULL;

	if (!tkr_git_request_ok(req))
		return refuse(error);
	/*
	 * ephemeral credentials must not persist; authtype/credential-only
	 * requests carry nothing we store (git-credential-libsecret ignores
	 * them too).
	 */
	if (req->ephemeral || !req->username || !req->password) {
		tkr_trace(NULL, "store: nothing to keep");
		return TRUE;
	}
	kr = tkr_keyring_open(error);
	return kr && tkr_keyring_git_store(kr, req, error);
}

gboolean tkr_git_erase(const TkrCredential *req, GError **error)
{
	g_autoptr(TkrKeyring) kr = NULL;
	guint erased = 0;

	if (!tkr_git_request_ok(req))
		return refuse(error);
	kr = tkr_keyring_open(error);
	if (!kr || !tkr_keyring_git_erase(kr, req, &erased, error))
		return FALSE;
	tkr_trace(NULL, "erase: %u item(s) deleted", erased);
	return TRUE;
}
