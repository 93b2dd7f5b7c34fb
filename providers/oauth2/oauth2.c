/*
 * Generic OAuth 2.0 refresh (RFC 6749 section 6, RFC 9700;
 * docs/PROVIDERS.md section 4).  Also Longbridge's OAuth mode, which is an
 * oauth2 account whose token_url is {base}/oauth2/token (section 3.3).
 *
 * One request: POST token_url with a form body grant_type=refresh_token,
 * the refresh token, the optional scope and, by client_auth, the client
 * credentials in an HTTP Basic header (each part form-encoded first, RFC
 * 6749 section 2.3.1), in the body, or only the client_id.  The answer must
 * be strict JSON with a bearer token_type; a refresh token in it replaces
 * the stored one (rotation), none keeps it.  The client secret is a login
 * field kept in the record's extras, never in the configuration file.
 *
 * What comes back is never trusted beyond the host's checks: tokens are
 * 1*VSCHAR, expires_in an integer (or a string of digits) from 1 to 10^8,
 * and server text reaches a message only through host->sanitize.
 */
#include <string.h>
#include <tokenring/provider.h>

#define DEFAULT_LIFETIME 3600		/* expires_in absent: RFC 6749 5.1 */
#define LIFETIME_MAX 100000000		/* 10^8 s, a bit over 3 years */
#define DESCRIPTION_MAX 100		/* bytes of error_description shown */
#define CODE_MAX 40			/* bytes of an error code shown */
#define SECRET_MAX 4096			/* a client secret, in bytes */

typedef enum {
	AUTH_DEFAULT,			/* basic with a secret, else none */
	AUTH_BASIC,
	AUTH_BODY,
	AUTH_NONE,
} ClientAuth;

static const char *const auth_names[] = {
	[AUTH_DEFAULT] = "default", [AUTH_BASIC] = "basic",
	[AUTH_BODY] = "body", [AUTH_NONE] = "none",
};

typedef struct {
	char *token_url;
	char *client_id;
	char *scope;			/* NULL: the grant's own scope */
	ClientAuth auth;
} State;

static const char *const config_keys[] = {
	"token_url", "client_id", "scope", "client_auth", NULL,
};

static const TkrLoginField login_fields[] = {
	{ "refresh_token", "Refresh token", TKR_FIELD_SECRET },
	{ "client_secret", "Client secret (confidential clients only)",
	  TKR_FIELD_SECRET | TKR_FIELD_OPTIONAL },
	{ "access_token", "Access token",
	  TKR_FIELD_SECRET | TKR_FIELD_OPTIONAL },
	{ "expires_in", "Seconds the access token has left",
	  TKR_FIELD_OPTIONAL },
	{ NULL, NULL, 0 },
};

static gboolean config_error(GError **error, const char *key,
			     const char *want)
{
	g_set_error(error, TKR_PROVIDER_ERROR, TKR_PROVIDER_ERROR_CONFIG,
		    "bad value for '%s': %s", key, want);
	return FALSE;
}

/* 1*VSCHAR (RFC 6749 appendix A), at most max bytes. */
static gboolean vschar(const char *s, gsize max)
{
	gsize i;

	for (i = 0; s[i]; i++) {
		if (i >= max || s[i] < 0x20 || s[i] > 0x7e)
			return FALSE;
	}
	return i > 0;
}

/*
 * https, or http to a loopback host (SECURITY.md S1); no user name, query
 * or fragment: nothing secret and nothing variable goes in the URL
 * (PROVIDERS.md 4.1).  The HTTP module enforces S1 again on every request.
 */
static gboolean check_token_url(const TkrHost *host, const char *url,
				GError **error)
{
	if (!url || !*url) {
		g_set_error_literal(error, TKR_PROVIDER_ERROR,
				    TKR_PROVIDER_ERROR_CONFIG,
				    "missing key 'token_url' (the token "
				    "endpoint)");
		return FALSE;
	}
	if (!host->url_ok(url, NULL))
		return config_error(error, "token_url",
				    "want https://host[:port]/path (plain "
				    "http only to a loopback host), without "
				    "user, query or fragment");
	return TRUE;
}

/* scope = scope-token *( SP scope-token ), scope-token = 1*NQCHAR. */
static gboolean good_scope(const char *s)
{
	const char *p;

	if (!*s || *s == ' ')
		return FALSE;
	for (p = s; *p; p++) {
		if (*p == ' ') {
			if (p[1] == ' ' || !p[1])
				return FALSE;
		} else if (*p < 0x21 || *p > 0x7e || *p == '"' || *p == '\\') {
			return FALSE;
		}
	}
	return TRUE;
}

static gpointer oa_init(const TkrHost *host, GHashTable *config,
			GError **error)
{
	const char *token_url = g_hash_table_lookup(config, "token_url");
	const char *client_id = g_hash_table_lookup(config, "client_id");
	const char *scope = g_hash_table_lookup(config, "scope");
	const char *auth = g_hash_table_lookup(config, "client_auth");
	ClientAuth mode = AUTH_DEFAULT;
	State *st;

	if (!check_token_url(host, token_url, error))
		return NULL;
	if (!client_id) {
		g_set_error_literal(error, TKR_PROVIDER_ERROR,
				    TKR_PROVIDER_ERROR_CONFIG,
				    "missing key 'client_id' (the OAuth "
				    "client's id)");
		return NULL;
	}
	if (!vschar(client_id, 1024)) {
		config_error(error, "client_id",
			     "want 1 to 1024 printable ASCII characters");
		return NULL;
	}
	if (scope && !good_scope(scope)) {
		config_error(error, "scope", "want scope names separated by "
			     "single spaces (printable ASCII, no '\"' or "
			     "'\\')");
		return NULL;
	}
	if (auth) {
		if (!strcmp(auth, "basic")) {
			mode = AUTH_BASIC;
		} else if (!strcmp(auth, "body")) {
			mode = AUTH_BODY;
		} else if (!strcmp(auth, "none")) {
			mode = AUTH_NONE;
		} else {
			config_error(error, "client_auth",
				     "want basic, body or none");
			return NULL;
		}
	}
	st = g_new0(State, 1);
	st->token_url = g_strdup(token_url);
	st->client_id = g_strdup(client_id);
	st->scope = g_strdup(scope);
	st->auth = mode;
	return st;
}

static void oa_finish(gpointer data)
{
	State *st = data;

	g_free(st->token_url);
	g_free(st->client_id);
	g_free(st->scope);
	g_free(st);
}

/* The method in use: configured, else basic when a secret is stored. */
static ClientAuth effective_auth(const State *st, const char *secret)
{
	if (st->auth != AUTH_DEFAULT)
		return st->auth;
	return secret ? AUTH_BASIC : AUTH_NONE;
}

/*
 * "Authorization: Basic " base64(urlenc(id) ":" urlenc(secret)), RFC 6749
 * section 2.3.1, in secret memory.  host->form_encode percent-encodes both
 * parts of a pair, '=' included, so the first '=' of "id=secret" is the
 * separator.  The GLib temporaries are wiped before they are freed.
 */
static TkrSecret *basic_header(const TkrHost *host, const char *id,
			       const char *secret)
{
	const char *pairs[] = { id, secret, NULL };
	TkrSecret *joined = host->form_encode(pairs), *out;
	char *b64, *line;

	*strchr(joined, '=') = ':';
	b64 = g_base64_encode((const guchar *)joined, strlen(joined));
	host->secret_free(joined);
	line = g_strconcat("Authorization: Basic ", b64, NULL);
	host->wipe(b64, strlen(b64));
	g_free(b64);
	out = host->secret_dup(line);
	host->wipe(line, strlen(line));
	g_free(line);
	return out;
}

/* Whether a response's Content-Type is JSON (absent counts as JSON). */
static gboolean json_type(const char *content_type)
{
	g_autofree char *type = NULL;

	if (!content_type || !*content_type)
		return TRUE;
	type = g_ascii_strdown(content_type, strcspn(content_type, ";"));
	g_strstrip(type);
	return !strcmp(type, "application/json") ||
	       g_str_has_suffix(type, "+json");
}

/* A string member of node, escaped and cut to max bytes; or NULL. */
static char *safe_member(const TkrHost *host, const TkrJson *node,
			 const char *key, gsize max)
{
	g_autofree char *raw = NULL;

	if (!host->json_has(node, key))
		return NULL;
	raw = host->json_string(node, key, NULL);
	return raw ? host->sanitize(raw, max) : NULL;
}

/*
 * The error and error_description of an error answer (RFC 6749 5.2), made
 * safe for a message; either may come back NULL.
 */
static void oauth_error(const TkrHost *host, const TkrHttpResponse *r,
			char **code, char **description)
{
	TkrJson *root;

	*code = *description = NULL;
	if (!r->body_len)
		return;
	root = host->json_parse(r->body, r->body_len, NULL);
	if (!root)
		return;
	*code = safe_member(host, root, "error", CODE_MAX);
	*description = safe_member(host, root, "error_description",
				   DESCRIPTION_MAX);
	host->json_free(root);
}

/*
 * The class of an error code at 4xx (PROVIDERS.md 4.3): the refresh token
 * is dead, come back later, or a configuration problem that no retry cures.
 */
static int code_class(const char *code)
{
	if (!code)
		return TKR_PROVIDER_ERROR_PROVIDER;
	if (!strcmp(code, "invalid_grant"))
		return TKR_PROVIDER_ERROR_LOGIN_NEEDED;
	if (!strcmp(code, "slow_down"))
		return TKR_PROVIDER_ERROR_RATE_LIMITED;
	if (!strcmp(code, "temporarily_unavailable"))
		return TKR_PROVIDER_ERROR_NETWORK;
	return TKR_PROVIDER_ERROR_PROVIDER;
}

/* Turn an answer other than 200 into an error of the right class. */
static void status_error(const TkrHost *host, const TkrHttpResponse *r,
			 GError **error)
{
	g_autofree char *code = NULL;
	g_autofree char *description = NULL;
	g_autofree char *retry = NULL;
	int klass;

	oauth_error(host, r, &code, &description);
	if (r->status == 429 || r->status == 503) {
		klass = TKR_PROVIDER_ERROR_RATE_LIMITED;
		if (r->retry_after && *r->retry_after)
			retry = host->sanitize(r->retry_after, CODE_MAX);
	} else if (r->status >= 500) {
		klass = TKR_PROVIDER_ERROR_NETWORK;
	} else if (r->status >= 400) {
		klass = code_class(code);
	} else {
		klass = TKR_PROVIDER_ERROR_HTTP;
	}
	g_set_error(error, TKR_PROVIDER_ERROR, klass,
		    "token endpoint: HTTP %ld%s%s%s%s%s%s", r->status,
		    code ? " " : "", code ? code : "",
		    description ? ": " : "", description ? description : "",
		    retry ? "; Retry-After: " : "", retry ? retry : "");
}

/* A 200 answer (RFC 6749 5.1) into out; out is left empty on failure. */
static gboolean parse_tokens(const TkrHost *host, const TkrHttpResponse *r,
			     TkrTokenSet *out, GError **error)
{
	TkrJson *root;
	g_autofree char *type = NULL;
	gint64 lifetime = DEFAULT_LIFETIME, rlife = 0, now = host->now();
	gboolean ok = FALSE;

	if (!json_type(r->content_type)) {
		g_autofree char *safe = host->sanitize(r->content_type,
						       CODE_MAX);

		g_set_error(error, TKR_PROVIDER_ERROR, TKR_PROVIDER_ERROR_HTTP,
			    "token endpoint: HTTP 200 with content type '%s', "
			    "not JSON", safe);
		return FALSE;
	}
	root = host->json_parse(r->body, r->body_len, error);
	if (!root) {
		g_prefix_error(error, "token endpoint: ");
		return FALSE;
	}
	/* TJ-17: an error body is no success, whatever the status says. */
	if (host->json_has(root, "error")) {
		g_autofree char *code = NULL, *description = NULL;

		oauth_error(host, r, &code, &description);
		g_set_error(error, TKR_PROVIDER_ERROR, TKR_PROVIDER_ERROR_HTTP,
			    "token endpoint: HTTP 200 with an error answer%s%s",
			    code ? ": " : "", code ? code : "");
		goto out;
	}
	out->access_token = host->json_token(root, "access_token", error);
	if (!out->access_token)
		goto fail;
	type = host->json_string(root, "token_type", error);
	if (!type)
		goto fail;
	/* RFC 6749 7.1: never use a token type we do not understand. */
	if (g_ascii_strcasecmp(type, "bearer")) {
		g_autofree char *safe = host->sanitize(type, CODE_MAX);

		g_set_error(error, TKR_PROVIDER_ERROR, TKR_PROVIDER_ERROR_HTTP,
			    "unsupported token type '%s' (only Bearer)", safe);
		goto fail;
	}
	if (host->json_has(root, "expires_in")) {
		if (!host->json_int(root, "expires_in", 1, LIFETIME_MAX, TRUE,
				    &lifetime, error))
			goto fail;
	} else {
		host->trace(host, "oauth2: no expires_in; assuming %d s",
			    DEFAULT_LIFETIME);
	}
	/* A refresh token that comes back replaces ours; "" is no token. */
	if (host->json_has(root, "refresh_token")) {
		out->refresh_token = host->json_token(root, "refresh_token",
						      error);
		if (!out->refresh_token)
			goto fail;
		host->trace(host, "oauth2: a refresh token came back");
	} else {
		host->trace(host, "oauth2: no refresh token came back; "
			    "keeping the old one");
	}
	/* Keycloak's extension; informational, so a bad one is ignored. */
	if (host->json_has(root, "refresh_expires_in") &&
	    host->json_int(root, "refresh_expires_in", 1, LIFETIME_MAX, TRUE,
			   &rlife, NULL) && out->refresh_token)
		out->refresh_expires_at = now + rlife;
	out->expires_at = now + lifetime;
	out->issued_at = now;
	out->token_type = g_strdup("Bearer");
	ok = TRUE;
	goto out;
fail:
	g_prefix_error(error, "token endpoint: ");
out:
	host->json_free(root);
	if (!ok)
		host->token_set_clear(out);
	return ok;
}

/*
 * One refresh request with refresh_token rt.  secret is the stored client
 * secret or NULL.  Never retried here: after a timeout or a 5xx the server
 * may have rotated the pair already (PROVIDERS.md 4.4), and the engine
 * decides what happens next.
 */
static gboolean refresh_with(State *st, const TkrHost *host, const char *rt,
			     const char *secret, TkrTokenSet *out,
			     GError **error)
{
	ClientAuth auth = effective_auth(st, secret);
	const char *pairs[11], *headers[3];
	TkrSecret *body, *authorization = NULL;
	TkrHttpRequest req = {
		.method = "POST",
		.url = st->token_url,
		.headers = headers,
		.content_type = "application/x-www-form-urlencoded",
	};
	TkrHttpResponse r = { 0 };
	gboolean ok;
	int n = 0, h = 0;

	if ((auth == AUTH_BASIC || auth == AUTH_BODY) && !secret) {
		g_set_error(error, TKR_PROVIDER_ERROR,
			    TKR_PROVIDER_ERROR_PROVIDER,
			    "client_auth=%s needs a client secret and none is "
			    "stored; give 'client_secret' to 'tokenring "
			    "login'", auth_names[auth]);
		return FALSE;
	}
	pairs[n++] = "grant_type";
	pairs[n++] = "refresh_token";
	pairs[n++] = "refresh_token";
	pairs[n++] = rt;
	if (st->scope) {
		pairs[n++] = "scope";
		pairs[n++] = st->scope;
	}
	if (auth != AUTH_BASIC) {
		pairs[n++] = "client_id";
		pairs[n++] = st->client_id;
	}
	if (auth == AUTH_BODY) {
		pairs[n++] = "client_secret";
		pairs[n++] = secret;
	}
	pairs[n] = NULL;
	headers[h++] = "Accept: application/json";
	if (auth == AUTH_BASIC) {
		authorization = basic_header(host, st->client_id, secret);
		headers[h++] = authorization;
	}
	headers[h] = NULL;
	body = host->form_encode(pairs);
	req.body = body;
	req.body_len = strlen(body);
	host->trace(host, "oauth2: refresh (client_auth %s%s)",
		    auth_names[auth], st->scope ? ", with scope" : "");
	ok = host->http_request(host, &req, &r, error);
	host->secret_free(body);
	host->secret_free(authorization);
	if (!ok) {
		g_prefix_error(error, "token endpoint: ");
		return FALSE;
	}
	if (r.status == 200) {
		ok = parse_tokens(host, &r, out, error);
	} else {
		status_error(host, &r, error);
		ok = FALSE;
	}
	host->http_response_clear(&r);
	return ok;
}

/* Ask for a field with flags: FALSE only on an error (or a missing one). */
static gboolean ask(const TkrHost *host, int field, TkrFieldFlags flags,
		    TkrSecret **value, GError **error)
{
	GError *local = NULL;

	*value = host->converse(host, login_fields[field].key,
				login_fields[field].prompt, flags, &local);
	if (*value || !local)
		return TRUE;
	g_propagate_error(error, local);
	return FALSE;
}

static gboolean usage(GError **error, const char *message)
{
	g_set_error_literal(error, TKR_PROVIDER_ERROR,
			    TKR_PROVIDER_ERROR_USAGE, message);
	return FALSE;
}

/*
 * Login: the refresh token (and the client secret) from the user.  With an
 * access token and its expires_in nothing is sent; otherwise one refresh
 * gives a token of known lifetime.
 */
static gboolean oa_login(gpointer data, const TkrHost *host, TkrTokenSet *out,
			 GError **error)
{
	State *st = data;
	TkrSecret *rt = NULL, *secret = NULL, *at = NULL, *expires = NULL;
	guint64 lifetime = 0;
	gboolean ok = FALSE;

	if (!ask(host, 0, TKR_FIELD_SECRET, &rt, error))
		goto out;
	if (!vschar(rt, 8192)) {
		usage(error, "'refresh_token' must be printable ASCII");
		goto out;
	}
	/* Asked for unless unused; required when client_auth says so. */
	if (st->auth != AUTH_NONE) {
		if (!ask(host, 1, st->auth == AUTH_DEFAULT ?
			 login_fields[1].flags : TKR_FIELD_SECRET, &secret,
			 error))
			goto out;
		if (secret && !vschar(secret, SECRET_MAX)) {
			usage(error, "'client_secret' must be printable "
			      "ASCII");
			goto out;
		}
	}
	if (!ask(host, 2, login_fields[2].flags, &at, error))
		goto out;
	if (at && !vschar(at, 8192)) {
		usage(error, "'access_token' must be printable ASCII");
		goto out;
	}
	if (at && !ask(host, 3, login_fields[3].flags, &expires, error))
		goto out;
	if (expires && !g_ascii_string_to_unsigned(expires, 10, 1,
						   LIFETIME_MAX, &lifetime,
						   NULL)) {
		usage(error, "'expires_in' wants seconds, 1 to 100000000");
		goto out;
	}
	if (at && lifetime) {
		host->trace(host, "oauth2: login with the given access token; "
			    "nothing sent");
		out->access_token = g_steal_pointer(&at);
		out->refresh_token = g_steal_pointer(&rt);
		out->expires_at = host->now() + (gint64)lifetime;
		out->token_type = g_strdup("Bearer");
	} else {
		/* Without its lifetime a given access token is of no use. */
		if (at)
			host->trace(host, "oauth2: access token without "
				    "expires_in; refreshing to learn a "
				    "lifetime");
		if (!refresh_with(st, host, rt, secret, out, error))
			goto out;
		if (!out->refresh_token)
			out->refresh_token = g_steal_pointer(&rt);
	}
	if (secret)
		host->set_extra(out, "client_secret", secret);
	ok = TRUE;
out:
	host->secret_free(rt);
	host->secret_free(secret);
	host->secret_free(at);
	host->secret_free(expires);
	return ok;
}

/*
 * current may come from a plain git credential (DESIGN.md 6): a refresh
 * token, perhaps no access token, no extras.  Only the refresh token is
 * needed.
 */
static gboolean oa_refresh(gpointer data, const TkrHost *host,
			   const TkrTokenSet *current, TkrTokenSet *out,
			   GError **error)
{
	State *st = data;

	if (!current->refresh_token || !*current->refresh_token) {
		g_set_error_literal(error, TKR_PROVIDER_ERROR,
				    TKR_PROVIDER_ERROR_LOGIN_NEEDED,
				    "no refresh token stored");
		return FALSE;
	}
	if (!refresh_with(st, host, current->refresh_token,
			  host->extra(current, "client_secret"), out, error))
		return FALSE;
	if (out->refresh_token &&
	    host->secret_equal(out->refresh_token, current->refresh_token))
		host->trace(host, "oauth2: the refresh token is unchanged");
	return TRUE;
}

const TkrProvider tkr_provider_v1 = {
	.abi = TKR_PROVIDER_ABI,
	.name = "oauth2",
	.description = "generic OAuth 2.0 refresh (RFC 6749, RFC 9700)",
	.config_keys = config_keys,
	.login_fields = login_fields,
	.init = oa_init,
	.login = oa_login,
	.refresh = oa_refresh,
	.revoke = NULL,
	.finish = oa_finish,
};
