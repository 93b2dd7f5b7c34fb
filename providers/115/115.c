/*
 * 115 open platform tokens (docs/PROVIDERS.md section 2).
 *
 * Quirks this module exists for: errors come with HTTP 200 in an envelope
 * whose fields have drifted ("state" as 1, "1" or true; "code" or only
 * "errno"; "message" or only "error"), so failure is decided on every
 * field and classified on the number alone, never on the text; both tokens
 * rotate on every refresh and a rotated-out refresh token is refused
 * (40140120); the grant ends one year after it was authorised whatever the
 * refreshes do; and refreshing too often is punished (40140117), so a
 * login that is given an access token does not refresh at all.  Nothing is
 * retried here: an ambiguous answer may have rotated the pair already.
 */
#include <string.h>
#include <tokenring/provider.h>

#define TOKEN_URL_DEFAULT "https://passportapi.115.com/open/refreshToken"
#define GRANT_LIFETIME (365 * 86400LL)	/* the 1-year horizon of a grant */
#define ACCESS_LIFETIME 7200		/* what the issuing pages document */
#define EXPIRES_IN_MAX 100000000LL	/* seconds; anything above is absurd */
#define TOKEN_MAX 8192			/* as host->json_token */
#define TEXT_MAX 100			/* bytes of server text in a message */

typedef struct {
	char *token_url;
} State;

static const char *const config_keys[] = {
	"token_url", NULL,
};

static const TkrLoginField login_fields[] = {
	{ "refresh_token", "Refresh token (from the 115 authorisation)",
	  TKR_FIELD_SECRET },
	{ "access_token", "Access token (empty: obtain one by refreshing)",
	  TKR_FIELD_SECRET | TKR_FIELD_OPTIONAL },
	{ "expires_in", "Seconds the access token has left (empty: 7200)",
	  TKR_FIELD_OPTIONAL },
	{ NULL, NULL, 0 },
};

/* The numbers of the official table (PROVIDERS.md 2.3). */
enum {
	CODE_MISSING_PARAMETER = 40100000,
	CODE_RETRY = 40110000,
	CODE_RT_MALFORMED = 40140114,
	CODE_RT_SIGNATURE = 40140115,
	CODE_RT_NO_AUTH = 40140116,
	CODE_TOO_OFTEN = 40140117,
	CODE_CERTIFICATION = 40140118,
	CODE_RT_EXPIRED = 40140119,
	CODE_RT_REUSED = 40140120,
	CODE_AT_FAILED = 40140121,
};

static gpointer p115_init(const TkrHost *host, GHashTable *config,
			  GError **error)
{
	const char *url = g_hash_table_lookup(config, "token_url");
	State *st;

	if (url && !host->url_ok(url, NULL)) {
		g_set_error_literal(error, TKR_PROVIDER_ERROR,
				    TKR_PROVIDER_ERROR_CONFIG,
				    "bad value for 'token_url': want an https "
				    "URL (or http to a loopback host)");
		return NULL;
	}
	st = g_new0(State, 1);
	st->token_url = g_strdup(url ? url : TOKEN_URL_DEFAULT);
	return st;
}

static void p115_finish(gpointer data)
{
	State *st = data;

	g_free(st->token_url);
	g_free(st);
}

/* ---- the raw top level of a body ------------------------------------ */

/*
 * The host's JSON services read integers and strings but not booleans,
 * and the envelope's "state" may be true or false.  These read the raw
 * text of a member of the top-level object, in a body that
 * host->json_parse has already accepted (so it is well-formed JSON).
 */
static const char *skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' ||
			   *p == '\r'))
		p++;
	return p;
}

/* p at the opening quote; returns just past the closing one. */
static const char *skip_string(const char *p, const char *end)
{
	for (p++; p < end && *p != '"'; p++) {
		if (*p == '\\')
			p++;
	}
	return p < end ? p + 1 : end;
}

static const char *skip_value(const char *p, const char *end)
{
	int depth = 0;

	if (p < end && *p == '"')
		return skip_string(p, end);
	if (p < end && (*p == '{' || *p == '[')) {
		while (p < end) {
			if (*p == '"') {
				p = skip_string(p, end);
				continue;
			}
			if (*p == '{' || *p == '[')
				depth++;
			else if ((*p == '}' || *p == ']') && !--depth)
				return p + 1;
			p++;
		}
		return end;
	}
	while (p < end && *p && !strchr(",}] \t\r\n", *p))
		p++;
	return p;
}

/* Whether the JSON string text p..q (no quotes) decodes to key. */
static gboolean key_is(const char *p, const char *q, const char *key)
{
	gsize n = 0, klen = strlen(key);

	while (p < q) {
		char c = *p++;

		if (c == '\\') {
			if (p >= q)
				return FALSE;
			switch ((c = *p++)) {
			case 'u': {
				gint64 u;
				char hex[5] = { 0 };

				if (q - p < 4)
					return FALSE;
				memcpy(hex, p, 4);
				p += 4;
				u = g_ascii_strtoll(hex, NULL, 16);
				if (u < 1 || u > 0x7e)
					return FALSE;
				c = (char)u;
				break;
			}
			case 'b':
				c = '\b';
				break;
			case 'f':
				c = '\f';
				break;
			case 'n':
				c = '\n';
				break;
			case 'r':
				c = '\r';
				break;
			case 't':
				c = '\t';
				break;
			default:	/* '"', '\\' and '/' are themselves */
				break;
			}
		}
		if (n >= klen || key[n] != c)
			return FALSE;
		n++;
	}
	return n == klen;
}

/*
 * How often key occurs in the top-level object of text, with the raw text
 * of its last value in *val; -1 when the top level is not an object.
 */
static int top_member(const char *text, gsize len, const char *key,
		      const char **val, gsize *vlen)
{
	const char *p, *end = text + len, *k, *v;
	int count = 0;

	p = skip_ws(text, end);
	if (p >= end || *p != '{')
		return -1;
	p = skip_ws(p + 1, end);
	while (p < end && *p == '"') {
		gboolean match;

		k = p;
		p = skip_string(p, end);
		match = key_is(k + 1, p - 1, key);
		p = skip_ws(p, end);
		if (p >= end || *p != ':')
			return -1;
		p = skip_ws(p + 1, end);
		v = p;
		p = skip_value(p, end);
		if (match) {
			count++;
			*val = v;
			*vlen = (gsize)(p - v);
		}
		p = skip_ws(p, end);
		if (p >= end || *p != ',')
			break;
		p = skip_ws(p + 1, end);
	}
	return count;
}

static gboolean is_object(const TkrHttpResponse *r)
{
	const char *v;
	gsize n;

	return top_member(r->body, r->body_len, "", &v, &n) >= 0;
}

static gboolean raw_is(const TkrHttpResponse *r, const char *key,
		       const char *literal)
{
	const char *v = NULL;
	gsize n = 0;

	return top_member(r->body, r->body_len, key, &v, &n) == 1 &&
	       n == strlen(literal) && !memcmp(v, literal, n);
}

/* ---- the envelope (PROVIDERS.md 2.0) -------------------------------- */

typedef struct {
	gboolean failed;
	gint64 number;		/* code if non-zero, else errno */
	char *text;		/* message, else error; sanitised; nullable */
} Envelope;

/* An integer member (or digits): absent or null is 0; anything else bad. */
static gboolean envelope_int(const TkrHost *host, const TkrJson *root,
			     const TkrHttpResponse *r, const char *key,
			     gint64 *out, GError **error)
{
	*out = 0;
	if (!host->json_has(root, key) || raw_is(r, key, "null") ||
	    host->json_int(root, key, G_MININT64 + 1, G_MAXINT64 - 1, TRUE,
			   out, NULL))
		return TRUE;
	g_set_error(error, TKR_PROVIDER_ERROR, TKR_PROVIDER_ERROR_HTTP,
		    "refresh answer with a malformed '%s'", key);
	return FALSE;
}

/*
 * "state": TRUE when true, or an integer or string of digits other than
 * 0; absent counts as TRUE (every field is optional, and "code" and
 * "error" still decide); false, null, anything else or a duplicate is a
 * failure.
 */
static gboolean envelope_state_ok(const TkrHost *host, const TkrJson *root,
				  const TkrHttpResponse *r)
{
	const char *v = NULL;
	gsize n = 0;
	gint64 state;
	int count = top_member(r->body, r->body_len, "state", &v, &n);

	if (count == 0)
		return TRUE;
	if (count != 1)
		return FALSE;
	if (host->json_int(root, "state", G_MININT64 + 1, G_MAXINT64 - 1,
			   TRUE, &state, NULL))
		return state != 0;
	return n == 4 && !memcmp(v, "true", 4);
}

/* A non-empty string member, sanitised; NULL otherwise. */
static char *envelope_text(const TkrHost *host, const TkrJson *root,
			   const char *key)
{
	g_autofree char *s = NULL;

	if (!host->json_has(root, key) ||
	    !(s = host->json_string(root, key, NULL)) || !*s)
		return NULL;
	return host->sanitize(s, TEXT_MAX);
}

/*
 * failure = state falsy, or code != 0, or a non-empty error (a non-string
 * error too); number = code, else errno; text = message, else error.
 */
static gboolean read_envelope(const TkrHost *host, const TkrJson *root,
			      const TkrHttpResponse *r, Envelope *env,
			      GError **error)
{
	gint64 code, err_no;
	char *err_text;
	gboolean bad_error = FALSE;

	memset(env, 0, sizeof(*env));
	if (!is_object(r)) {
		g_set_error_literal(error, TKR_PROVIDER_ERROR,
				    TKR_PROVIDER_ERROR_HTTP,
				    "refresh answer is not a JSON object");
		return FALSE;
	}
	if (!envelope_int(host, root, r, "code", &code, error) ||
	    !envelope_int(host, root, r, "errno", &err_no, error))
		return FALSE;
	err_text = envelope_text(host, root, "error");
	if (!err_text && host->json_has(root, "error") &&
	    !raw_is(r, "error", "null") && !raw_is(r, "error", "\"\""))
		bad_error = TRUE;
	env->failed = !envelope_state_ok(host, root, r) || code != 0 ||
		      err_text || bad_error;
	env->number = code ? code : err_no;
	env->text = envelope_text(host, root, "message");
	if (!env->text)
		env->text = g_steal_pointer(&err_text);
	g_free(err_text);
	return TRUE;
}

/* The error for a failed envelope: classified on the number only. */
static void envelope_error(const TkrHost *host, const Envelope *env,
			   GError **error)
{
	g_autofree char *detail = NULL;
	const char *what;
	int code;

	switch (env->number) {
	case CODE_RT_MALFORMED:
		code = TKR_PROVIDER_ERROR_LOGIN_NEEDED;
		what = "the refresh token is malformed";
		break;
	case CODE_RT_SIGNATURE:
		code = TKR_PROVIDER_ERROR_LOGIN_NEEDED;
		what = "the refresh token failed 115's signature check";
		break;
	case CODE_RT_NO_AUTH:
		code = TKR_PROVIDER_ERROR_LOGIN_NEEDED;
		what = "the refresh token was revoked (115 device management) "
		       "or evicted by a newer authorisation";
		break;
	case CODE_RT_EXPIRED:
		code = TKR_PROVIDER_ERROR_LOGIN_NEEDED;
		what = "the refresh token expired, a year after its "
		       "authorisation";
		break;
	case CODE_RT_REUSED:
		code = TKR_PROVIDER_ERROR_LOGIN_NEEDED;
		what = "the refresh token was already rotated out (a newer "
		       "one was issued and not stored)";
		break;
	case CODE_TOO_OFTEN:
		g_set_error_literal(error, TKR_PROVIDER_ERROR,
				    TKR_PROVIDER_ERROR_RATE_LIMITED,
				    "refreshing too often (115 rate limit); "
				    "try again in a minute");
		return;
	case CODE_CERTIFICATION:
		code = TKR_PROVIDER_ERROR_PROVIDER;
		what = "the developer certification of the 115 app has "
		       "expired";
		break;
	case CODE_AT_FAILED:
		code = TKR_PROVIDER_ERROR_NETWORK;
		what = "115 could not refresh the access token; try again "
		       "later";
		break;
	case CODE_RETRY:
		code = TKR_PROVIDER_ERROR_NETWORK;
		what = "115 asks to try the request again later";
		break;
	case CODE_MISSING_PARAMETER:
		code = TKR_PROVIDER_ERROR_PROVIDER;
		what = "115 says a parameter of the refresh is missing";
		break;
	default:
		code = TKR_PROVIDER_ERROR_PROVIDER;
		what = "115 refused the refresh";
		break;
	}
	if (env->number)
		detail = g_strdup_printf(" (115 code %" G_GINT64_FORMAT "%s%s)",
					 env->number, env->text ? ": " : "",
					 env->text ? env->text : "");
	else if (env->text)
		detail = g_strdup_printf(" (115 says: %s)", env->text);
	else
		detail = g_strdup(" (no code, no message)");
	host->trace(host, "115: refresh failed, code %" G_GINT64_FORMAT,
		    env->number);
	g_set_error(error, TKR_PROVIDER_ERROR, code, "%s%s", what, detail);
}

/* A status other than 200, with the envelope's text when there is one. */
static void status_error(const TkrHost *host, const TkrJson *root,
			 const TkrHttpResponse *r, GError **error)
{
	Envelope env = { 0 };
	int code;

	if (root && !read_envelope(host, root, r, &env, NULL))
		memset(&env, 0, sizeof(env));
	if (r->status == 429)
		code = TKR_PROVIDER_ERROR_RATE_LIMITED;
	else if (r->status >= 500)
		code = TKR_PROVIDER_ERROR_NETWORK;
	else
		code = TKR_PROVIDER_ERROR_HTTP;
	g_set_error(error, TKR_PROVIDER_ERROR, code, "refresh: HTTP %ld%s%s",
		    r->status, env.text ? ": " : "", env.text ? env.text : "");
	g_free(env.text);
}

/* data{access_token, refresh_token, expires_in} of a success. */
static gboolean parse_data(const TkrHost *host, const TkrJson *root,
			   TkrTokenSet *out, GError **error)
{
	const TkrJson *data = host->json_object(root, "data");
	gint64 expires_in = 0, now = host->now();

	if (!data) {
		g_set_error_literal(error, TKR_PROVIDER_ERROR,
				    TKR_PROVIDER_ERROR_HTTP,
				    "refresh answer without a 'data' object");
		return FALSE;
	}
	if (!(out->access_token = host->json_token(data, "access_token",
						   error)) ||
	    !(out->refresh_token = host->json_token(data, "refresh_token",
						    error)) ||
	    !host->json_int(data, "expires_in", 1, EXPIRES_IN_MAX, TRUE,
			    &expires_in, error)) {
		g_prefix_error(error, "refresh answer: ");
		host->token_set_clear(out);
		return FALSE;
	}
	out->expires_at = now + expires_in;
	out->issued_at = now;
	out->token_type = g_strdup("Bearer");
	return TRUE;
}

/*
 * One POST of the refresh token, no retry: whatever went wrong, the
 * server may have rotated the pair already.
 */
static gboolean refresh_with(State *st, const TkrHost *host, const char *rt,
			     TkrTokenSet *out, GError **error)
{
	const char *pairs[] = { "refresh_token", rt, NULL };
	TkrSecret *body = host->form_encode(pairs);
	TkrHttpRequest req = {
		.method = "POST",
		.url = st->token_url,
		.body = body,
		.body_len = strlen(body),
		.content_type = "application/x-www-form-urlencoded",
	};
	TkrHttpResponse r = { 0 };
	TkrJson *root = NULL;
	Envelope env = { 0 };
	gboolean ok = FALSE;

	host->trace(host, "115: refreshToken");
	ok = host->http_request(host, &req, &r, error);
	host->secret_free(body);
	if (!ok)
		return FALSE;
	ok = FALSE;
	root = host->json_parse(r.body, r.body_len, r.status == 200 ? error :
				NULL);
	if (r.status != 200) {
		status_error(host, root, &r, error);
	} else if (!root) {
		g_prefix_error(error, "refresh answer: ");
	} else if (read_envelope(host, root, &r, &env, error)) {
		if (env.failed)
			envelope_error(host, &env, error);
		else
			ok = parse_data(host, root, out, error);
	}
	g_free(env.text);
	if (root)
		host->json_free(root);
	host->http_response_clear(&r);
	return ok;
}

/* What login takes as a token: what the core would accept later. */
static gboolean token_ok(const char *s)
{
	gsize n = 0;

	for (; *s; s++, n++) {
		if (*s < 0x20 || *s > 0x7e || n >= TOKEN_MAX)
			return FALSE;
	}
	return n > 0;
}

static gboolean usage(GError **error, const char *message)
{
	g_set_error_literal(error, TKR_PROVIDER_ERROR,
			    TKR_PROVIDER_ERROR_USAGE, message);
	return FALSE;
}

static gboolean p115_login(gpointer data, const TkrHost *host,
			   TkrTokenSet *out, GError **error)
{
	State *st = data;
	TkrSecret *rt = NULL, *at = NULL, *ein = NULL;
	guint64 expires_in = ACCESS_LIFETIME;
	gboolean ok = FALSE;

	rt = host->converse(host, "refresh_token", login_fields[0].prompt,
			    login_fields[0].flags, error);
	if (!rt)
		return FALSE;
	at = host->converse(host, "access_token", login_fields[1].prompt,
			    login_fields[1].flags, error);
	if (!at && error && *error)
		goto out;
	ein = host->converse(host, "expires_in", login_fields[2].prompt,
			     login_fields[2].flags, error);
	if (!ein && error && *error)
		goto out;
	if (!token_ok(rt)) {
		usage(error, "refresh_token is not a token (1 to 8192 "
		      "printable ASCII characters)");
		goto out;
	}
	if (at && !token_ok(at)) {
		usage(error, "access_token is not a token (1 to 8192 "
		      "printable ASCII characters)");
		goto out;
	}
	if (ein && !at) {
		usage(error, "expires_in goes with access_token");
		goto out;
	}
	if (ein && !g_ascii_string_to_unsigned(ein, 10, 1, EXPIRES_IN_MAX,
					       &expires_in, NULL)) {
		usage(error, "expires_in wants seconds, 1 to 100000000");
		goto out;
	}
	if (at) {
		/* Given a token, use it: a needless refresh risks 40140117. */
		host->trace(host, "115: login with the given access token");
		out->access_token = g_steal_pointer(&at);
		out->refresh_token = g_steal_pointer(&rt);
		out->expires_at = host->now() + (gint64)expires_in;
		out->token_type = g_strdup("Bearer");
	} else if (!refresh_with(st, host, rt, out, error)) {
		goto out;
	}
	/*
	 * The grant ends a year after the user authorised it, which was
	 * before now: this is an upper bound, and refreshes keep it.
	 */
	out->refresh_expires_at = host->now() + GRANT_LIFETIME;
	ok = TRUE;
out:
	host->secret_free(rt);
	host->secret_free(at);
	host->secret_free(ein);
	return ok;
}

static gboolean p115_refresh(gpointer data, const TkrHost *host,
			     const TkrTokenSet *cur, TkrTokenSet *out,
			     GError **error)
{
	State *st = data;

	if (!cur->refresh_token) {
		g_set_error_literal(error, TKR_PROVIDER_ERROR,
				    TKR_PROVIDER_ERROR_LOGIN_NEEDED,
				    "no refresh token stored");
		return FALSE;
	}
	if (!refresh_with(st, host, cur->refresh_token, out, error))
		return FALSE;
	/* A refresh does not extend the grant. */
	out->refresh_expires_at = cur->refresh_expires_at;
	return TRUE;
}

const TkrProvider tkr_provider_v1 = {
	.abi = TKR_PROVIDER_ABI,
	.name = "115",
	.description = "115 open platform: refresh_token rotation "
		       "(passportapi.115.com)",
	.config_keys = config_keys,
	.login_fields = login_fields,
	.init = p115_init,
	.login = p115_login,
	.refresh = p115_refresh,
	.revoke = NULL,
	.finish = p115_finish,
};
