/*
 * Ekuaibao (合思) open API tokens (docs/PROVIDERS.md section 1).
 *
 * Quirks this module exists for: tokens travel in the query string and
 * contain ':' (sent as %3A); both tokens rotate on every refresh; an access
 * token that has expired cannot be refreshed, only re-acquired with the app
 * credentials; expiries are epoch milliseconds; lifetimes are chosen in
 * days and capped by the licence; and a token used within seconds of its
 * issue may be refused with 403 (fixed server-side in 1.17.0), which gets a
 * short bounded retry, never a loop.
 */
#include <string.h>
#include <tokenring/provider.h>

#define POWER_CODE_DEFAULT "219904"	/* 开放接口(新) */
#define POWER_CODE_LEGACY "219902"	/* 开放接口, the verifyCode flow */
#define FRESH_WINDOW_MS 10000		/* a 403 this soon is the issue bug */
#define FRESH_RETRIES 2

typedef struct {
	char *base;			/* url without trailing '/' */
	char *power_code;		/* configured; NULL: by login flow */
	gint64 expire_days;		/* 0: the default 32 days */
} State;

static const char *const config_keys[] = {
	"power_code", "expire_days", NULL,
};

static const TkrLoginField login_fields[] = {
	{ "app_key", "App key (合思 → 合思+ → 开放接口(新))", TKR_FIELD_OPTIONAL },
	{ "app_security", "App security", TKR_FIELD_SECRET | TKR_FIELD_OPTIONAL },
	{ "verify_code", "Verify code (legacy flow, single use)",
	  TKR_FIELD_SECRET | TKR_FIELD_OPTIONAL },
	{ NULL, NULL, 0 },
};

static gboolean digits(const char *s)
{
	if (!s || !*s)
		return FALSE;
	for (; *s; s++) {
		if (!g_ascii_isdigit(*s))
			return FALSE;
	}
	return TRUE;
}

static gpointer ekb_init(const TkrHost *host, GHashTable *config,
			 GError **error)
{
	const char *power = g_hash_table_lookup(config, "power_code");
	const char *days = g_hash_table_lookup(config, "expire_days");
	State *st;
	guint64 n = 0;

	if (power && (!digits(power) || strlen(power) > 9)) {
		g_set_error_literal(error, TKR_PROVIDER_ERROR,
				    TKR_PROVIDER_ERROR_CONFIG,
				    "bad value for 'power_code': want digits "
				    "such as 219904");
		return NULL;
	}
	/* 60 days at most: the vendor purges tokens older than 3 months. */
	if (days && !g_ascii_string_to_unsigned(days, 10, 1, 60, &n, NULL)) {
		g_set_error_literal(error, TKR_PROVIDER_ERROR,
				    TKR_PROVIDER_ERROR_CONFIG,
				    "bad value for 'expire_days': want 1 to 60");
		return NULL;
	}
	st = g_new0(State, 1);
	st->base = g_strdup(host->url);
	while (*st->base && g_str_has_suffix(st->base, "/"))
		st->base[strlen(st->base) - 1] = '\0';
	st->power_code = g_strdup(power);
	st->expire_days = (gint64)n;
	return st;
}

static void ekb_finish(gpointer data)
{
	State *st = data;

	g_free(st->base);
	g_free(st->power_code);
	g_free(st);
}

/* The errorMessage of an error body, made safe to print; or NULL. */
static char *server_message(const TkrHost *host, const TkrHttpResponse *r)
{
	g_autoptr(GError) ignored = NULL;
	TkrJson *root = host->json_parse(r->body, r->body_len, &ignored);
	const TkrJson *inner;
	char *msg = NULL, *safe;

	if (!root)
		return r->body_len && r->body_len < 200 ?
		       host->sanitize(r->body, 100) : NULL;
	inner = host->json_object(root, "value");
	msg = host->json_string(inner ? inner : root, "errorMessage", NULL);
	host->json_free(root);
	if (!msg)
		return NULL;
	safe = host->sanitize(msg, 100);
	g_free(msg);
	return safe;
}

/* Turn a non-200 answer into an error of the right class. */
static void status_error(const TkrHost *host, const TkrHttpResponse *r,
			 const char *what, GError **error)
{
	g_autofree char *msg = server_message(host, r);
	int code;

	if (r->status == 429)
		code = TKR_PROVIDER_ERROR_RATE_LIMITED;
	else if (r->status >= 500)
		code = TKR_PROVIDER_ERROR_NETWORK;
	else if (r->status == 403)
		code = TKR_PROVIDER_ERROR_LOGIN_NEEDED;
	else
		code = TKR_PROVIDER_ERROR_HTTP;
	g_set_error(error, TKR_PROVIDER_ERROR, code, "%s: HTTP %ld%s%s", what,
		    r->status, msg ? ": " : "", msg ? msg : "");
}

/* Parse {"value":{accessToken, refreshToken, expireTime, corporationId}}. */
static gboolean parse_tokens(const TkrHost *host, const TkrHttpResponse *r,
			     TkrTokenSet *out, GError **error)
{
	TkrJson *root = host->json_parse(r->body, r->body_len, error);
	const TkrJson *value;
	gint64 now_ms = host->now_ms(), expire_ms = 0;
	gboolean ok = FALSE;
	char *corp = NULL;

	if (!root)
		return FALSE;
	value = host->json_object(root, "value");
	if (!value) {
		g_set_error_literal(error, TKR_PROVIDER_ERROR,
				    TKR_PROVIDER_ERROR_HTTP,
				    "answer without a 'value' object");
		goto out;
	}
	/* Milliseconds; seconds by mistake would land in 1970. */
	out->access_token = host->json_token(value, "accessToken", error);
	if (!out->access_token ||
	    !(out->refresh_token = host->json_token(value, "refreshToken",
						    error)) ||
	    !host->json_int(value, "expireTime", now_ms - 86400000LL,
			    now_ms + 20 * 366 * 86400000LL, TRUE, &expire_ms,
			    error))
		goto out;
	out->expires_at = expire_ms / 1000;
	out->issued_at = host->now();
	if (host->json_has(value, "corporationId") &&
	    (corp = host->json_string(value, "corporationId", NULL))) {
		host->set_extra(out, "corporation_id", corp);
		g_free(corp);
	}
	ok = TRUE;
out:
	host->json_free(root);
	if (!ok)
		host->token_set_clear(out);
	return ok;
}

static gboolean post(const TkrHost *host, const char *url, const char *body,
		     TkrHttpResponse *r, GError **error)
{
	TkrHttpRequest req = {
		.method = "POST",
		.url = url,
		.body = body,
		.body_len = body ? strlen(body) : 0,
		.content_type = body ? "application/json" : NULL,
	};

	return host->http_request(host, &req, r, error);
}

/* POST url (a secret, it holds tokens) and parse the tokens it answers. */
static gboolean exchange(const TkrHost *host, const char *url,
			 const char *body, const char *what, TkrTokenSet *out,
			 GError **error)
{
	TkrHttpResponse r = { 0 };
	gboolean ok;

	if (!post(host, url, body, &r, error))
		return FALSE;
	if (r.status == 200) {
		ok = parse_tokens(host, &r, out, error);
	} else {
		status_error(host, &r, what, error);
		ok = FALSE;
	}
	host->http_response_clear(&r);
	return ok;
}

/* v1 getAccessToken: appKey and appSecurity in a JSON body, never a query. */
static gboolean get_access_token(State *st, const TkrHost *host,
				 const char *app_key, const char *app_security,
				 TkrTokenSet *out, GError **error)
{
	const char *pairs[] = { "appKey", app_key, "appSecurity", app_security,
				NULL };
	g_autofree char *url = g_strconcat(st->base,
					   "/api/openapi/v1/auth/getAccessToken",
					   NULL);
	TkrSecret *body = host->json_encode(pairs);
	gboolean ok;

	host->trace(host, "ekuaibao: getAccessToken");
	ok = exchange(host, url, body, "getAccessToken", out, error);
	host->secret_free(body);
	if (!ok && g_error_matches(*error, TKR_PROVIDER_ERROR,
				   TKR_PROVIDER_ERROR_LOGIN_NEEDED))
		g_prefix_error(error, "app key or app security rejected; ");
	return ok;
}

/* v2 refreshToken[/expireDate]: everything in the query, no body. */
static gboolean refresh_once(State *st, const TkrHost *host,
			     const TkrTokenSet *cur, TkrTokenSet *out,
			     GError **error)
{
	g_autofree char *days = NULL;
	g_autofree char *base = NULL;
	const char *pairs[9], *power;
	TkrSecret *url;
	gboolean ok;
	int n = 0;

	if (!cur->refresh_token) {
		g_set_error_literal(error, TKR_PROVIDER_ERROR,
				    TKR_PROVIDER_ERROR_LOGIN_NEEDED,
				    "no refresh token stored");
		return FALSE;
	}
	base = g_strconcat(st->base, "/api/openapi/v2/auth/refreshToken",
			   st->expire_days ? "/expireDate" : "", NULL);
	pairs[n++] = "accessToken";
	pairs[n++] = cur->access_token;
	pairs[n++] = "refreshToken";
	pairs[n++] = cur->refresh_token;
	if (st->expire_days) {
		days = g_strdup_printf("%" G_GINT64_FORMAT, st->expire_days);
		pairs[n++] = "expireDate";
		pairs[n++] = days;
	}
	/*
	 * Tokens of the legacy verifyCode flow belong to the legacy licence
	 * (PROVIDERS.md 1.2): their record says so, unless configured.
	 */
	pairs[n++] = "powerCode";
	power = host->extra(cur, "power_code");
	pairs[n++] = st->power_code ? st->power_code :
		     power ? power : POWER_CODE_DEFAULT;
	pairs[n] = NULL;
	url = host->url_with_query(base, pairs);
	host->trace(host, "ekuaibao: refreshToken%s",
		    st->expire_days ? "/expireDate" : "");
	ok = exchange(host, url, NULL, "refresh", out, error);
	host->secret_free(url);
	return ok;
}

/*
 * Refresh, retrying a 403 that comes within the fresh-issue window (the
 * server's pre-1.17.0 bug) at most FRESH_RETRIES times.  A 403 is a clear
 * "no" that rotated nothing, so asking again is safe; a timeout or 5xx is
 * not, and is never retried.
 */
static gboolean refresh_tokens(State *st, const TkrHost *host,
			       const TkrTokenSet *cur, TkrTokenSet *out,
			       GError **error)
{
	int attempt;

	for (attempt = 0;; attempt++) {
		GError *local = NULL;
		gint64 age_ms = host->now_ms() - cur->issued_at * 1000;

		if (refresh_once(st, host, cur, out, &local))
			return TRUE;
		if (attempt >= FRESH_RETRIES || !cur->issued_at ||
		    age_ms >= FRESH_WINDOW_MS ||
		    !g_error_matches(local, TKR_PROVIDER_ERROR,
				     TKR_PROVIDER_ERROR_LOGIN_NEEDED)) {
			g_propagate_error(error, local);
			return FALSE;
		}
		host->trace(host, "ekuaibao: 403 %" G_GINT64_FORMAT
			    " ms after issue; retrying", age_ms);
		g_error_free(local);
		host->sleep_ms(1000u << attempt);
	}
}

/* What a refresh inside acquire() must keep of the first issue. */
static void carry_extras(const TkrHost *host, const TkrTokenSet *from,
			 TkrTokenSet *to)
{
	static const char *const keep[] = { "app_key", "app_security",
					    "corporation_id", "power_code",
					    NULL };
	int i;

	for (i = 0; keep[i]; i++) {
		if (!host->extra(to, keep[i]))
			host->set_extra(to, keep[i], host->extra(from, keep[i]));
	}
}

/*
 * A 2-hour token from the app credentials, turned at once into a
 * long-lived one by a refresh (whose fresh-issue 403 is retried).  If that
 * refresh fails, the 2-hour token is still an answer.
 */
static gboolean acquire(State *st, const TkrHost *host, const char *app_key,
			const char *app_security, TkrTokenSet *out,
			GError **error)
{
	TkrTokenSet first = { 0 };
	GError *local = NULL;

	if (!get_access_token(st, host, app_key, app_security, &first, error))
		return FALSE;
	host->set_extra(&first, "app_key", app_key);
	host->set_extra(&first, "app_security", app_security);
	if (refresh_tokens(st, host, &first, out, &local)) {
		carry_extras(host, &first, out);
		host->token_set_clear(&first);
		return TRUE;
	}
	host->trace(host, "ekuaibao: keeping the 2-hour token: %s",
		    local->message);
	g_error_free(local);
	*out = first;
	return TRUE;
}

static gboolean verify_code_login(State *st, const TkrHost *host,
				  const char *code, TkrTokenSet *out,
				  GError **error)
{
	g_autofree char *days = NULL;
	const char *pairs[5] = { "powerCode", POWER_CODE_LEGACY, NULL };
	TkrSecret *url;
	char *base;
	gboolean ok;
	const char *p;

	/* The code sits in the path: allow only what the UI generates. */
	for (p = code; *p; p++) {
		if (!g_ascii_isalnum(*p)) {
			g_set_error_literal(error, TKR_PROVIDER_ERROR,
					    TKR_PROVIDER_ERROR_USAGE,
					    "a verify code has letters and "
					    "digits only");
			return FALSE;
		}
	}
	if (st->expire_days) {
		days = g_strdup_printf("%" G_GINT64_FORMAT, st->expire_days);
		pairs[2] = "expireDate";
		pairs[3] = days;
	}
	base = g_strconcat(st->base, "/api/openapi/v1/auth/",
			   st->expire_days ? "expireDate/" : "", "$", code,
			   NULL);
	url = host->url_with_query(base, pairs);
	host->wipe(base, strlen(base));
	g_free(base);
	host->trace(host, "ekuaibao: verify code login");
	ok = exchange(host, url, NULL, "verify code login", out, error);
	host->secret_free(url);
	if (ok)
		host->set_extra(out, "power_code", POWER_CODE_LEGACY);
	if (!ok && g_error_matches(*error, TKR_PROVIDER_ERROR,
				   TKR_PROVIDER_ERROR_LOGIN_NEEDED))
		g_prefix_error(error, "verify code rejected (single use, "
			       "valid 2 hours); ");
	return ok;
}

static gboolean ekb_login(gpointer data, const TkrHost *host, TkrTokenSet *out,
			  GError **error)
{
	State *st = data;
	TkrSecret *key, *security = NULL, *code;
	gboolean ok;

	key = host->converse(host, "app_key", login_fields[0].prompt,
			     TKR_FIELD_OPTIONAL, error);
	if (!key && error && *error)
		return FALSE;
	if (key) {
		security = host->converse(host, "app_security",
					  login_fields[1].prompt,
					  TKR_FIELD_SECRET, error);
		ok = security && acquire(st, host, key, security, out, error);
		host->secret_free(key);
		host->secret_free(security);
		return ok;
	}
	code = host->converse(host, "verify_code", login_fields[2].prompt,
			      TKR_FIELD_SECRET, error);
	if (!code) {
		g_clear_error(error);
		g_set_error_literal(error, TKR_PROVIDER_ERROR,
				    TKR_PROVIDER_ERROR_USAGE,
				    "login needs app_key and app_security, "
				    "or a verify_code");
		return FALSE;
	}
	ok = verify_code_login(st, host, code, out, error);
	host->secret_free(code);
	return ok;
}

static gboolean ekb_refresh(gpointer data, const TkrHost *host,
			    const TkrTokenSet *cur, TkrTokenSet *out,
			    GError **error)
{
	State *st = data;
	const char *app_key = host->extra(cur, "app_key");
	const char *app_security = host->extra(cur, "app_security");
	GError *local = NULL;
	gboolean can_acquire = app_key && app_security;

	/* An expired token cannot be refreshed, only re-acquired. */
	if (!cur->expires_at || cur->expires_at > host->now()) {
		if (refresh_tokens(st, host, cur, out, &local))
			return TRUE;
		if (!can_acquire ||
		    !g_error_matches(local, TKR_PROVIDER_ERROR,
				     TKR_PROVIDER_ERROR_LOGIN_NEEDED)) {
			g_propagate_error(error, local);
			return FALSE;
		}
		host->trace(host, "ekuaibao: refresh refused (%s); "
			    "re-acquiring with the app credentials",
			    local->message);
		g_error_free(local);
	} else if (!can_acquire) {
		g_set_error_literal(error, TKR_PROVIDER_ERROR,
				    TKR_PROVIDER_ERROR_LOGIN_NEEDED,
				    "the access token has expired and Ekuaibao "
				    "cannot refresh an expired token");
		return FALSE;
	}
	return acquire(st, host, app_key, app_security, out, error);
}

const TkrProvider tkr_provider_v1 = {
	.abi = TKR_PROVIDER_ABI,
	.name = "ekuaibao",
	.description = "Ekuaibao (合思) open API: appKey/appSecurity or verifyCode",
	.config_keys = config_keys,
	.login_fields = login_fields,
	.init = ekb_init,
	.login = ekb_login,
	.refresh = ekb_refresh,
	.revoke = NULL,
	.finish = ekb_finish,
};
