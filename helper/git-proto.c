#include "config.h"

#include "git-proto.h"
#include "account-config.h"
#include "error.h"
#include "refresh.h"
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

/*
 * The configured account covering req, if any (accounts serve http(s)
 * only).  *config keeps the account alive.  An unreadable configuration file is
 * reported once and ignored: plain storage still works.
 */
static TkrAccount *account_for(const TkrCredential *req, TkrConfig **config)
{
	g_autoptr(GError) error = NULL;
	TkrAccount *a;

	*config = NULL;
	if (!req->host || !*req->host)
		return NULL;
	*config = tkr_config_load(&error);
	if (!*config) {
		g_autofree char *line = tkr_error_sanitize(error->message, 300);

		g_printerr("tokenring: %s\n", line);
		return NULL;
	}
	a = tkr_config_match(*config, req->protocol, req->host, req->path);
	if (a)
		tkr_trace(NULL, "request matches account '%s'", a->name);
	return a;
}

static gboolean account_get(TkrAccount *a, TkrCredential *answer,
			    GError **error)
{
	g_auto(TkrRecord) rec = TKR_RECORD_INIT;
	gint64 expiry, now = g_get_real_time() / G_USEC_PER_SEC;

	if (a->broken) {
		g_set_error(error, TKR_ERROR, TKR_ERROR_CONFIG,
			    "account '%s': %s", a->name, a->broken->message);
		return FALSE;
	}
	if (!tkr_refresh_ensure(a, a->min_valid, 0, &rec, NULL, error))
		return FALSE;
	/*
	 * Tell git (and cache helpers) to stop using the token min_valid
	 * before the server does; but never an expiry already past, which
	 * git >= 2.40 would drop (a still-valid token kept because a
	 * refresh failed for now).  Never the refresh token.
	 */
	expiry = rec.tokens.expires_at;
	if (expiry && expiry - a->min_valid > now)
		expiry -= a->min_valid;
	tkr_credential_release(answer);
	answer->username = g_strdup(a->username);
	answer->password = g_steal_pointer(&rec.tokens.access_token);
	answer->password_expiry_utc = expiry;
	return TRUE;
}

/*
 * An oauth2 account that is not logged in serves as the recipe (token
 * url, client) for refreshing plain credentials of its host that carry an
 * oauth_refresh_token (DESIGN.md section 6; PROTOCOLS.md section 4 #40).
 */
static gboolean refresher_only(const TkrAccount *a)
{
	g_auto(TkrRecord) rec = TKR_RECORD_INIT;
	g_autoptr(GError) error = NULL;

	if (a->broken || g_strcmp0(a->provider, "oauth2"))
		return FALSE;
	return !tkr_refresh_peek(a, &rec, &error) &&
	       g_error_matches(error, TKR_ERROR, TKR_ERROR_NOT_FOUND);
}

/*
 * Whether account a answers req itself: it is logged in (or not an
 * oauth2 recipe) and req names its user or none.
 */
static gboolean serves(const TkrAccount *a, const TkrCredential *req)
{
	if (!a || refresher_only(a))
		return FALSE;
	if (req->username && g_strcmp0(req->username, a->username)) {
		tkr_trace(NULL, "account '%s' is for user '%s', not '%s'",
			  a->name, a->username, req->username);
		return FALSE;
	}
	return TRUE;
}

static gboolean expired(const TkrCredential *c)
{
	return c->password_expiry_utc > 0 &&
	       c->password_expiry_utc <= g_get_real_time() / G_USEC_PER_SEC;
}

gboolean tkr_git_get(const TkrCredential *req, TkrCredential *answer,
		     GError **error)
{
	g_autoptr(TkrKeyring) kr = NULL;
	g_autoptr(TkrConfig) config = NULL;
	GError *local = NULL;
	TkrAccount *a;

	if (!tkr_git_request_ok(req))
		return refuse(error);
	a = account_for(req, &config);
	if (serves(a, req))
		return account_get(a, answer, error);
	/* From here on, a (if any) can only refresh plain credentials. */
	if (a && (a->broken || g_strcmp0(a->provider, "oauth2")))
		a = NULL;
	kr = tkr_keyring_open(error);
	if (!kr)
		return FALSE;
	if (!tkr_keyring_git_lookup(kr, req, answer, &local)) {
		/*
		 * Nothing stored, but an earlier helper handed git a refresh
		 * token (git >= 2.41) and an oauth2 account covers the host:
		 * refresh it, and keep the result.
		 */
		if (!a || !req->oauth_refresh_token ||
		    !g_error_matches(local, TKR_ERROR, TKR_ERROR_NOT_FOUND)) {
			g_propagate_error(error, local);
			return FALSE;
		}
		g_clear_error(&local);
		tkr_credential_release(answer);
		answer->username = g_strdup(req->username ? req->username :
					    a->username);
		answer->oauth_refresh_token =
			tkr_secret_dup(req->oauth_refresh_token);
		g_clear_pointer(&kr, tkr_keyring_close);
		return tkr_refresh_plain(a, req, answer, error);
	}
	if (!expired(answer))
		return TRUE;
	tkr_trace(NULL, "stored credential expired at %" G_GINT64_FORMAT,
		  answer->password_expiry_utc);
	if (a && answer->oauth_refresh_token) {
		g_clear_pointer(&kr, tkr_keyring_close);
		return tkr_refresh_plain(a, req, answer, error);
	}
	/*
	 * git 2.39 would use a dead password, get a 401 and erase the item;
	 * git >= 2.41 passes the refresh token on to the next helper
	 * (git-credential-oauth, say), which can renew it.  So answer with
	 * the refresh token but no password, or not at all when there is
	 * nothing to renew it with.
	 */
	g_clear_pointer(&answer->password, tkr_secret_free);
	if (!answer->oauth_refresh_token) {
		tkr_credential_release(answer);
		g_set_error_literal(error, TKR_ERROR, TKR_ERROR_NOT_FOUND,
				    "stored credential expired");
		return FALSE;
	}
	return TRUE;
}

gboolean tkr_git_store(const TkrCredential *req, GError **error)
{
	g_autoptr(TkrKeyring) kr = NULL;
	g_autoptr(TkrConfig) config = NULL;

	if (!tkr_git_request_ok(req))
		return refuse(error);
	/*
	 * An account's record changes only through its provider or
	 * "tokenring login": git 2.39 echoes back the token we gave it,
	 * without refresh token or expiry, and storing that would lose the
	 * refresh token.
	 */
	{
		TkrAccount *a = account_for(req, &config);

		if (serves(a, req)) {
			tkr_trace(NULL, "store: account credentials are not "
				  "stored");
			return TRUE;
		}
	}
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
	g_autoptr(TkrConfig) config = NULL;
	TkrAccount *a;
	guint erased = 0;

	if (!tkr_git_request_ok(req))
		return refuse(error);
	/*
	 * For an account, git's reject only marks the access token bad (if
	 * it is still the stored one) so that the next get refreshes; the
	 * refresh token stays.  "tokenring logout" removes the record.
	 */
	a = account_for(req, &config);
	if (serves(a, req) && !a->broken)
		return tkr_refresh_reject(a, req->password, NULL, error);
	if (serves(a, req))
		return TRUE;
	kr = tkr_keyring_open(error);
	if (!kr || !tkr_keyring_git_erase(kr, req, &erased, error))
		return FALSE;
	tkr_trace(NULL, "erase: %u item(s) deleted", erased);
	return TRUE;
}
