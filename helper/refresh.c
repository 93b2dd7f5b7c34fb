#include "config.h"

#include "refresh.h"
#include "error.h"
#include "host.h"
#include "json.h"
#include "lock.h"
#include "provider.h"
#include "signals.h"
#include "trace.h"
#include "keyring/keyring.h"

#include <string.h>
#include <unistd.h>

static gint64 now_s(void)
{
	return g_get_real_time() / G_USEC_PER_SEC;
}

/* Read the record; a missing one means the user must log in. */
static gboolean load(TkrKeyring *kr, const TkrAccount *a, TkrRecord *rec,
		     GError **error)
{
	GError *local = NULL;

	if (tkr_keyring_record_load(kr, a->name, rec, &local))
		return TRUE;
	if (g_error_matches(local, TKR_ERROR, TKR_ERROR_NOT_FOUND)) {
		g_error_free(local);
		g_set_error(error, TKR_ERROR, TKR_ERROR_LOGIN_NEEDED,
			    "account '%s' is not logged in; run 'tokenring "
			    "login %s'", a->name, a->name);
		return FALSE;
	}
	g_propagate_error(error, local);
	return FALSE;
}

/* A loaded provider with its state for one account. */
typedef struct {
	TkrModule *module;
	gpointer state;
	TkrHostImpl host;
} Provider;

static gboolean provider_open(Provider *p, const TkrAccount *a,
			      GError **error)
{
	memset(p, 0, sizeof(*p));
	p->module = tkr_module_load(a->provider, error);
	if (!p->module) {
		g_prefix_error(error, "account '%s': ", a->name);
		return FALSE;
	}
	tkr_config_warn_unknown(a, p->module->vt->config_keys);
	tkr_host_init(&p->host, a);
	p->state = p->module->vt->init(&p->host.host, a->keys, error);
	if (!p->state) {
		g_prefix_error(error, "account '%s': ", a->name);
		return FALSE;
	}
	return TRUE;
}

static void provider_close(Provider *p)
{
	if (p->state)
		p->module->vt->finish(p->state);
	tkr_host_release(&p->host);
	tkr_module_unload(p->module);
	memset(p, 0, sizeof(*p));
}

/*
 * What a provider hands back must be usable: a token we can print, an
 * expiry that is not already past (providers convert their units).
 */
static gboolean check_tokens(const TkrTokenSet *t, GError **error)
{
	gint64 now = now_s();

	if (!t->access_token || !tkr_is_vschar(t->access_token, TKR_TOKEN_MAX) ||
	    (t->refresh_token &&
	     !tkr_is_vschar(t->refresh_token, TKR_TOKEN_MAX))) {
		g_set_error_literal(error, TKR_ERROR, TKR_ERROR_HTTP,
				    "the provider returned an unusable token");
		return FALSE;
	}
	if (t->expires_at && (t->expires_at <= now ||
			      t->expires_at > now + 20 * 366 * 86400LL)) {
		g_set_error_literal(error, TKR_ERROR, TKR_ERROR_HTTP,
				    "the provider returned an impossible expiry");
		return FALSE;
	}
	return TRUE;
}

/* Put fresh tokens into rec: a missing refresh token keeps the old one. */
static void adopt(TkrRecord *rec, TkrTokenSet *fresh)
{
	gint64 now = now_s();

	if (!fresh->refresh_token) {
		fresh->refresh_token = g_steal_pointer(&rec->tokens.refresh_token);
		if (!fresh->refresh_expires_at)
			fresh->refresh_expires_at =
				rec->tokens.refresh_expires_at;
	}
	/* The provider's extras win; the record's others stay. */
	if (!fresh->extras) {
		fresh->extras = g_steal_pointer(&rec->tokens.extras);
	} else if (rec->tokens.extras) {
		GHashTableIter iter;
		gpointer key, value;

		g_hash_table_iter_init(&iter, rec->tokens.extras);
		while (g_hash_table_iter_next(&iter, &key, &value)) {
			if (!g_hash_table_contains(fresh->extras, key))
				g_hash_table_insert(fresh->extras,
						    g_strdup(key),
						    tkr_secret_dup(value));
		}
	}
	if (!fresh->issued_at)
		fresh->issued_at = now;
	tkr_token_set_release(&rec->tokens);
	rec->tokens = *fresh;
	memset(fresh, 0, sizeof(*fresh));
	rec->last_refresh = now;
	g_clear_pointer(&rec->last_error, g_free);
	rec->access_bad = FALSE;
}

/* Remember why the last refresh failed, without touching the tokens. */
static void note_failure(TkrKeyring *kr, const TkrAccount *a, TkrRecord *rec,
			 const GError *failure)
{
	g_autoptr(GError) ignored = NULL;

	g_free(rec->last_error);
	rec->last_error = tkr_error_sanitize(failure->message, 200);
	if (!tkr_keyring_record_store(kr, a->name, a->provider, rec, &ignored))
		tkr_trace(NULL, "could not note the failure: %s",
			  ignored->message);
}

/*
 * After a rate limit, a per-account "not before" time in the runtime
 * directory (no secret in it), so that the processes that come next do not
 * each knock and prolong the penalty (SECURITY.md section 5 rule 8).
 */
#define TKR_RATE_LIMIT_BACKOFF 60

static char *not_before_path(const TkrAccount *a)
{
	g_autofree char *dir = tkr_runtime_dir(NULL);

	return dir ? g_strdup_printf("%s/%s.notbefore", dir, a->name) : NULL;
}

static gint64 not_before(const TkrAccount *a)
{
	g_autofree char *path = not_before_path(a);
	g_autofree char *text = NULL;
	guint64 t;

	if (!path || !g_file_get_contents(path, &text, NULL, NULL) ||
	    !g_ascii_string_to_unsigned(g_strstrip(text), 10, 0, G_MAXINT64,
					&t, NULL))
		return 0;
	return (gint64)t;
}

static void set_not_before(const TkrAccount *a, gint64 t)
{
	g_autofree char *path = not_before_path(a);
	g_autofree char *text = NULL;

	if (!path)
		return;
	if (!t) {
		unlink(path);
		return;
	}
	text = g_strdup_printf("%" G_GINT64_FORMAT "\n", t);
	g_file_set_contents(path, text, -1, NULL);
}

/*
 * A refresh that may work later failed (or was not tried): a token that is
 * still valid is still an answer, unless the caller wants to know.
 * Takes failure.
 */
static gboolean serve_current(const TkrAccount *a, const TkrRecord *rec,
			      TkrRefreshFlags flags, GError *failure,
			      GError **error)
{
	if (!(flags & TKR_REFRESH_STRICT) &&
	    rec->tokens.access_token && !rec->access_bad &&
	    (!rec->tokens.expires_at || rec->tokens.expires_at > now_s())) {
		tkr_trace(NULL, "using the current token of '%s' meanwhile: %s",
			  a->name, failure->message);
		g_error_free(failure);
		return TRUE;
	}
	g_propagate_prefixed_error(error, failure, "account '%s': ", a->name);
	return FALSE;
}

/* Steps 4 and 5, with the lock held and rec freshly re-read. */
static gboolean refresh_locked(TkrKeyring *kr, const TkrAccount *a,
			       TkrRecord *rec, TkrRefreshFlags flags,
			       gboolean *refreshed, GError **error)
{
	Provider p;
	TkrTokenSet fresh = { 0 };
	GError *failure = NULL;
	gboolean ok;

	if (now_s() < not_before(a)) {
		g_set_error(&failure, TKR_ERROR, TKR_ERROR_RATE_LIMITED,
			    "rate limited by the provider; not asking again "
			    "before %" G_GINT64_FORMAT " s from now",
			    not_before(a) - now_s());
		return serve_current(a, rec, flags, failure, error);
	}
	if (!provider_open(&p, a, error)) {
		provider_close(&p);
		return FALSE;
	}
	/* From the request until the new pair is stored, no signal stops us. */
	tkr_signals_defer();
	ok = p.module->vt->refresh(p.state, &p.host.host, &rec->tokens, &fresh,
				   &failure) &&
	     check_tokens(&fresh, &failure);
	if (ok) {
		adopt(rec, &fresh);
		if (!tkr_keyring_record_store(kr, a->name, a->provider, rec,
					      &failure)) {
			g_set_error(error, TKR_ERROR, TKR_ERROR_KEYRING_CORRUPT,
				    "account '%s': the refreshed token could "
				    "not be saved (%s); the provider has "
				    "already rotated it, so 'tokenring login "
				    "%s' may be needed", a->name,
				    failure->message, a->name);
			g_clear_error(&failure);
			ok = FALSE;
		}
	}
	tkr_signals_release();
	tkr_token_set_release(&fresh);
	provider_close(&p);
	if (ok) {
		*refreshed = TRUE;
		set_not_before(a, 0);
	}
	if (ok || !failure)
		return ok;
	if (g_error_matches(failure, TKR_ERROR, TKR_ERROR_RATE_LIMITED))
		set_not_before(a, now_s() + TKR_RATE_LIMIT_BACKOFF);

	tkr_trace(NULL, "refresh of '%s' failed: %s", a->name,
		  failure->message);
	if (g_error_matches(failure, TKR_ERROR, TKR_ERROR_LOGIN_NEEDED)) {
		g_auto(TkrRecord) again = TKR_RECORD_INIT;

		/*
		 * Re-read once: something other than us may have rotated
		 * the pair.  Never loop, never erase.
		 */
		/* (Self-rotating tokens have no refresh token: compare both.) */
		if (tkr_keyring_record_load(kr, a->name, &again, NULL) &&
		    (!tkr_secret_equal(again.tokens.refresh_token,
				       rec->tokens.refresh_token) ||
		     !tkr_secret_equal(again.tokens.access_token,
				       rec->tokens.access_token)) &&
		    tkr_record_fresh(&again, 0, now_s())) {
			tkr_record_release(rec);
			*rec = again;
			memset(&again, 0, sizeof(again));
			g_error_free(failure);
			return TRUE;
		}
		note_failure(kr, a, rec, failure);
		g_set_error(error, TKR_ERROR, TKR_ERROR_LOGIN_NEEDED,
			    "account '%s': %s; run 'tokenring login %s'",
			    a->name, failure->message, a->name);
		g_error_free(failure);
		return FALSE;
	}
	note_failure(kr, a, rec, failure);
	return serve_current(a, rec, flags, failure, error);
}

gboolean tkr_refresh_ensure(const TkrAccount *a, gint64 min_valid,
			    TkrRefreshFlags flags, TkrRecord *rec,
			    gboolean *refreshed, GError **error)
{
	g_autoptr(TkrKeyring) kr = tkr_keyring_open(error);
	gboolean force = flags & TKR_REFRESH_FORCE, dummy;
	gboolean ok;
	int fd;

	if (!refreshed)
		refreshed = &dummy;
	*refreshed = FALSE;
	if (!kr || !load(kr, a, rec, error))
		return FALSE;
	if (!force && tkr_record_fresh(rec, min_valid, now_s()))
		return TRUE;

	fd = tkr_lock_account(a->name, 0, error);
	if (fd < 0)
		return FALSE;
	ok = load(kr, a, rec, error);
	if (ok && (force || !tkr_record_fresh(rec, min_valid, now_s())))
		ok = refresh_locked(kr, a, rec, flags, refreshed, error);
	else if (ok)
		tkr_trace(NULL, "'%s' was refreshed by another process",
			  a->name);
	tkr_unlock(fd);
	return ok;
}

gboolean tkr_refresh_login(const TkrAccount *a, GHashTable *answers,
			   TkrRecord *rec, GError **error)
{
	g_autoptr(TkrKeyring) kr = tkr_keyring_open(error);
	g_auto(TkrRecord) old = TKR_RECORD_INIT;
	TkrTokenSet fresh = { 0 };
	GError *local = NULL;
	Provider p;
	gboolean ok;
	int fd;

	if (!kr) {
		if (answers)
			g_hash_table_unref(answers);
		return FALSE;
	}
	fd = tkr_lock_account(a->name, 0, error);
	if (fd < 0) {
		if (answers)
			g_hash_table_unref(answers);
		return FALSE;
	}
	/* Never replace a record we could not read (locked, unavailable). */
	if (!tkr_keyring_record_load(kr, a->name, &old, &local) &&
	    !g_error_matches(local, TKR_ERROR, TKR_ERROR_NOT_FOUND) &&
	    !g_error_matches(local, TKR_ERROR, TKR_ERROR_KEYRING_CORRUPT)) {
		g_propagate_error(error, local);
		tkr_unlock(fd);
		if (answers)
			g_hash_table_unref(answers);
		return FALSE;
	}
	g_clear_error(&local);
	ok = provider_open(&p, a, error);
	if (ok) {
		tkr_host_begin_conversation(&p.host, answers);
		answers = NULL;
		ok = p.module->vt->login(p.state, &p.host.host, &fresh,
					 error) &&
		     check_tokens(&fresh, error);
	}
	if (answers)
		g_hash_table_unref(answers);
	if (ok) {
		tkr_record_release(rec);
		adopt(rec, &fresh);
		ok = tkr_keyring_record_store(kr, a->name, a->provider, rec,
					      error);
	}
	tkr_token_set_release(&fresh);
	provider_close(&p);
	tkr_unlock(fd);
	return ok;
}

gboolean tkr_refresh_plain(const TkrAccount *a, const TkrCredential *query,
			   TkrCredential *cred, GError **error)
{
	g_autoptr(TkrKeyring) kr = tkr_keyring_open(error);
	g_auto(TkrCredential) again = TKR_CREDENTIAL_INIT;
	g_auto(TkrCredential) fresh = TKR_CREDENTIAL_INIT;
	TkrTokenSet cur = { 0 }, out = { 0 };
	GError *failure = NULL;
	gboolean ok;
	Provider p;
	int fd;

	if (!kr)
		return FALSE;
	fd = tkr_lock_account(a->name, 0, error);
	if (fd < 0)
		return FALSE;
	/* Re-read under the lock: a sibling may have refreshed it already. */
	if (tkr_keyring_git_lookup(kr, query, &again, NULL) &&
	    (!cred->username || !g_strcmp0(again.username, cred->username))) {
		if (again.password && (!again.password_expiry_utc ||
				       again.password_expiry_utc > now_s())) {
			tkr_unlock(fd);
			tkr_credential_release(cred);
			*cred = again;
			memset(&again, 0, sizeof(again));
			return TRUE;
		}
		if (again.oauth_refresh_token)
			tkr_secret_set(&cred->oauth_refresh_token,
				       again.oauth_refresh_token);
	}
	if (!provider_open(&p, a, error)) {
		provider_close(&p);
		tkr_unlock(fd);
		return FALSE;
	}
	cur.access_token = cred->password;
	cur.refresh_token = cred->oauth_refresh_token;
	cur.expires_at = cred->password_expiry_utc;
	tkr_signals_defer();
	ok = p.module->vt->refresh(p.state, &p.host.host, &cur, &out,
				   &failure) &&
	     check_tokens(&out, &failure);
	if (ok) {
		/* The rotated token is stored before anything is printed. */
		fresh.protocol = g_strdup(query->protocol);
		fresh.host = g_strdup(query->host);
		fresh.path = g_strdup(query->path);
		fresh.username = g_strdup(cred->username ? cred->username :
					  a->username);
		fresh.password = g_steal_pointer(&out.access_token);
		fresh.password_expiry_utc = out.expires_at;
		fresh.oauth_refresh_token = out.refresh_token ?
			g_steal_pointer(&out.refresh_token) :
			tkr_secret_dup(cred->oauth_refresh_token);
		ok = tkr_keyring_git_store(kr, &fresh, &failure);
		if (!ok)
			g_prefix_error(&failure, "the refreshed credential "
				       "could not be saved: ");
	}
	tkr_signals_release();
	tkr_token_set_release(&out);
	provider_close(&p);
	tkr_unlock(fd);
	if (!ok) {
		g_propagate_prefixed_error(error, failure,
					   "refreshing with account '%s': ",
					   a->name);
		return FALSE;
	}
	tkr_credential_release(cred);
	cred->username = g_steal_pointer(&fresh.username);
	cred->password = g_steal_pointer(&fresh.password);
	cred->password_expiry_utc = fresh.password_expiry_utc;
	cred->oauth_refresh_token = g_steal_pointer(&fresh.oauth_refresh_token);
	return TRUE;
}

gboolean tkr_refresh_reject(const TkrAccount *a, const char *token,
			    gboolean *marked, GError **error)
{
	g_autoptr(TkrKeyring) kr = tkr_keyring_open(error);
	g_auto(TkrRecord) rec = TKR_RECORD_INIT;
	gboolean ok = TRUE;
	int fd;

	if (marked)
		*marked = FALSE;
	if (!kr)
		return FALSE;
	fd = tkr_lock_account(a->name, 0, error);
	if (fd < 0)
		return FALSE;
	if (!tkr_keyring_record_load(kr, a->name, &rec, NULL)) {
		/* Nothing stored: nothing to forget. */
		tkr_unlock(fd);
		return TRUE;
	}
	/* Compare-and-set: an old token never touches a rotated record. */
	if (!rec.access_bad &&
	    (!token || tkr_secret_equal(token, rec.tokens.access_token))) {
		rec.access_bad = TRUE;
		ok = tkr_keyring_record_store(kr, a->name, a->provider, &rec,
					      error);
		if (ok && marked)
			*marked = TRUE;
	}
	tkr_unlock(fd);
	return ok;
}

gboolean tkr_refresh_logout(const TkrAccount *a, gboolean *deleted,
			    GError **error)
{
	g_autoptr(TkrKeyring) kr = tkr_keyring_open(error);
	gboolean ok;
	int fd;

	if (!kr)
		return FALSE;
	fd = tkr_lock_account(a->name, 0, error);
	if (fd < 0)
		return FALSE;
	ok = tkr_keyring_record_delete(kr, a->name, deleted, error);
	tkr_unlock(fd);
	return ok;
}

gboolean tkr_refresh_peek(const TkrAccount *a, TkrRecord *rec, GError **error)
{
	g_autoptr(TkrKeyring) kr = tkr_keyring_open(error);

	return kr && tkr_keyring_record_load(kr, a->name, rec, error);
}
