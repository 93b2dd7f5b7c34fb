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
 *
 * Login either imports the tokens of an authorisation made elsewhere, or,
 * given the app's AppID as client_id, runs the device-code flow with PKCE
 * itself (PROVIDERS.md 2.2): a QR code for the 115 app, a long poll until
 * the user confirms, then the exchange of the code_verifier for tokens.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <tokenring/provider.h>

#define TOKEN_URL_DEFAULT "https://passportapi.115.com/open/refreshToken"
#define PASSPORT_URL_DEFAULT "https://passportapi.115.com"
#define QRCODE_URL_DEFAULT "https://qrcodeapi.115.com"
#define GRANT_LIFETIME (365 * 86400LL)	/* the 1-year horizon of a grant */
#define ACCESS_LIFETIME 7200		/* what the issuing pages document */
#define EXPIRES_IN_MAX 100000000LL	/* seconds; anything above is absurd */
#define TOKEN_MAX 8192			/* as host->json_token */
#define TEXT_MAX 100			/* bytes of server text in a message */
#define LOGIN_TIMEOUT_DEFAULT 300	/* seconds to wait for the user */
#define LOGIN_TIMEOUT_MIN 10
#define LOGIN_TIMEOUT_MAX 1800
#define CLIENT_ID_MAX 64		/* bytes of an AppID we accept */
#define DEVICE_FIELD_MAX 512		/* bytes of uid, time and sign */
#define QRCODE_MAX 2000			/* bytes of the QR payload */
#define VERIFIER_BYTES 48		/* random bytes: 64 base64url chars */
#define POLL_INTERVAL_MS 1000		/* the least time between two polls */
#define POLL_FAILURES_MAX 3		/* quick failures in a row: the end */
#define LONG_POLL_MS 5000		/* a failed poll this long ran out */

typedef struct {
	char *token_url;
	char *passport_url;		/* no trailing slash */
	char *qrcode_url;		/* no trailing slash */
	guint login_timeout;		/* seconds */
} State;

static const char *const config_keys[] = {
	"token_url", "passport_url", "qrcode_url", "login_timeout", NULL,
};

/*
 * client_id first: given, login runs the device-code flow and asks
 * nothing else; left empty, it imports the tokens of the other fields.
 */
static const TkrLoginField login_fields[] = {
	{ "client_id", "AppID of your 115 app, for a QR code login "
	  "(empty: enter the tokens of an authorisation)",
	  TKR_FIELD_OPTIONAL },
	{ "refresh_token", "Refresh token (from the 115 authorisation)",
	  TKR_FIELD_SECRET },
	{ "access_token", "Access token (empty: obtain one by refreshing)",
	  TKR_FIELD_SECRET | TKR_FIELD_OPTIONAL },
	{ "expires_in", "Seconds the access token has left (empty: 7200)",
	  TKR_FIELD_OPTIONAL },
	{ NULL, NULL, 0 },
};

enum {
	FIELD_CLIENT_ID,
	FIELD_REFRESH_TOKEN,
	FIELD_ACCESS_TOKEN,
	FIELD_EXPIRES_IN,
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
	/* The device-code flow's (PROVIDERS.md 2.2). */
	CODE_BAD_CLIENT_ID = 40140106,
	CODE_BAD_CLIENT_ID_2 = 40140107,
	CODE_BAD_PKCE = 40140112,
	CODE_WRONG_VERIFIER = 40140113,
};

/* A configured URL (fallback if unset), checked against the policy. */
static gboolean config_url(const TkrHost *host, GHashTable *config,
			   const char *key, const char *fallback,
			   gboolean base, char **out, GError **error)
{
	const char *url = g_hash_table_lookup(config, key);
	gsize n;

	if (url && !host->url_ok(url, NULL)) {
		g_set_error(error, TKR_PROVIDER_ERROR,
			    TKR_PROVIDER_ERROR_CONFIG,
			    "bad value for '%s': want an https URL (or http "
			    "to a loopback host)", key);
		return FALSE;
	}
	*out = g_strdup(url ? url : fallback);
	/* A base gets paths appended: "https://host/" is "https://host". */
	for (n = strlen(*out); base && n && (*out)[n - 1] == '/'; n--)
		(*out)[n - 1] = '\0';
	return TRUE;
}

static void p115_finish(gpointer data)
{
	State *st = data;

	g_free(st->token_url);
	g_free(st->passport_url);
	g_free(st->qrcode_url);
	g_free(st);
}

static gpointer p115_init(const TkrHost *host, GHashTable *config,
			  GError **error)
{
	const char *timeout = g_hash_table_lookup(config, "login_timeout");
	guint64 seconds = LOGIN_TIMEOUT_DEFAULT;
	State *st = g_new0(State, 1);

	if (!config_url(host, config, "token_url", TOKEN_URL_DEFAULT, FALSE,
			&st->token_url, error) ||
	    !config_url(host, config, "passport_url", PASSPORT_URL_DEFAULT,
			TRUE, &st->passport_url, error) ||
	    !config_url(host, config, "qrcode_url", QRCODE_URL_DEFAULT, TRUE,
			&st->qrcode_url, error)) {
		p115_finish(st);
		return NULL;
	}
	if (timeout && !g_ascii_string_to_unsigned(timeout, 10,
						   LOGIN_TIMEOUT_MIN,
						   LOGIN_TIMEOUT_MAX,
						   &seconds, NULL)) {
		g_set_error(error, TKR_PROVIDER_ERROR,
			    TKR_PROVIDER_ERROR_CONFIG,
			    "bad value for 'login_timeout': want seconds, %d "
			    "to %d", LOGIN_TIMEOUT_MIN, LOGIN_TIMEOUT_MAX);
		p115_finish(st);
		return NULL;
	}
	st->login_timeout = (guint)seconds;
	return st;
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

/*
 * Messages name the step an answer belongs to: "refresh", "device code
 * request", "status poll" or "token exchange".
 */
typedef struct {
	gboolean failed;
	gboolean state_ok;	/* "state" is not falsy (absent counts as ok) */
	gint64 number;		/* code if non-zero, else errno */
	char *text;		/* message, else error; sanitised; nullable */
} Envelope;

/* An integer member (or digits): absent or null is 0; anything else bad. */
static gboolean envelope_int(const TkrHost *host, const TkrJson *root,
			     const TkrHttpResponse *r, const char *step,
			     const char *key, gint64 *out, GError **error)
{
	*out = 0;
	if (!host->json_has(root, key) || raw_is(r, key, "null") ||
	    host->json_int(root, key, G_MININT64 + 1, G_MAXINT64 - 1, TRUE,
			   out, NULL))
		return TRUE;
	g_set_error(error, TKR_PROVIDER_ERROR, TKR_PROVIDER_ERROR_HTTP,
		    "%s answer with a malformed '%s'", step, key);
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
			      const TkrHttpResponse *r, const char *step,
			      Envelope *env, GError **error)
{
	gint64 code, err_no;
	char *err_text;
	gboolean bad_error = FALSE;

	memset(env, 0, sizeof(*env));
	if (!is_object(r)) {
		g_set_error(error, TKR_PROVIDER_ERROR,
			    TKR_PROVIDER_ERROR_HTTP,
			    "%s answer is not a JSON object", step);
		return FALSE;
	}
	if (!envelope_int(host, root, r, step, "code", &code, error) ||
	    !envelope_int(host, root, r, step, "errno", &err_no, error))
		return FALSE;
	err_text = envelope_text(host, root, "error");
	if (!err_text && host->json_has(root, "error") &&
	    !raw_is(r, "error", "null") && !raw_is(r, "error", "\"\""))
		bad_error = TRUE;
	env->state_ok = envelope_state_ok(host, root, r);
	env->failed = !env->state_ok || code != 0 || err_text || bad_error;
	env->number = code ? code : err_no;
	env->text = envelope_text(host, root, "message");
	if (!env->text)
		env->text = g_steal_pointer(&err_text);
	g_free(err_text);
	return TRUE;
}

/* " (115 code N: text)", " (115 says: text)" or " (no code, no message)" */
static char *envelope_detail(const Envelope *env)
{
	if (env->number)
		return g_strdup_printf(" (115 code %" G_GINT64_FORMAT "%s%s)",
				       env->number, env->text ? ": " : "",
				       env->text ? env->text : "");
	if (env->text)
		return g_strdup_printf(" (115 says: %s)", env->text);
	return g_strdup(" (no code, no message)");
}

/* The error for a failed envelope: classified on the number only. */
static void envelope_error(const TkrHost *host, const Envelope *env,
			   const char *step, GError **error)
{
	g_autofree char *detail = envelope_detail(env);
	g_autofree char *what_step = NULL;
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
		what = what_step = g_strdup_printf("115 says a parameter of "
						   "the %s is missing", step);
		break;
	case CODE_BAD_CLIENT_ID:
	case CODE_BAD_CLIENT_ID_2:
		code = TKR_PROVIDER_ERROR_PROVIDER;
		what = "bad client_id: 115 does not accept this AppID for a "
		       "QR code login";
		break;
	case CODE_BAD_PKCE:
		code = TKR_PROVIDER_ERROR_PROVIDER;
		what = "115 refused the PKCE code challenge or verifier";
		break;
	case CODE_WRONG_VERIFIER:
		code = TKR_PROVIDER_ERROR_PROVIDER;
		what = "115 says the code_verifier does not match the code "
		       "challenge";
		break;
	default:
		code = TKR_PROVIDER_ERROR_PROVIDER;
		what = what_step = g_strdup_printf("115 refused the %s", step);
		break;
	}
	host->trace(host, "115: %s failed, code %" G_GINT64_FORMAT, step,
		    env->number);
	g_set_error(error, TKR_PROVIDER_ERROR, code, "%s%s", what, detail);
}

/* A status other than 200, with the envelope's text when there is one. */
static void status_error(const TkrHost *host, const TkrJson *root,
			 const TkrHttpResponse *r, const char *step,
			 GError **error)
{
	Envelope env = { 0 };
	int code;

	if (root && !read_envelope(host, root, r, step, &env, NULL))
		memset(&env, 0, sizeof(env));
	if (r->status == 429)
		code = TKR_PROVIDER_ERROR_RATE_LIMITED;
	else if (r->status >= 500)
		code = TKR_PROVIDER_ERROR_NETWORK;
	else
		code = TKR_PROVIDER_ERROR_HTTP;
	g_set_error(error, TKR_PROVIDER_ERROR, code, "%s: HTTP %ld%s%s",
		    step, r->status, env.text ? ": " : "",
		    env.text ? env.text : "");
	g_free(env.text);
}

/*
 * One request, no retry: whatever went wrong, the server may have acted
 * on it already.  TRUE for an HTTP 200 whose envelope could be read;
 * then *root (and r) are the caller's to free, and env says whether the
 * answer is a failure.
 */
static gboolean exchange(const TkrHost *host, const TkrHttpRequest *req,
			 const char *step, TkrHttpResponse *r,
			 TkrJson **root, Envelope *env, GError **error)
{
	*root = NULL;
	memset(env, 0, sizeof(*env));
	if (!host->http_request(host, req, r, error))
		return FALSE;
	*root = host->json_parse(r->body, r->body_len,
				 r->status == 200 ? error : NULL);
	if (r->status != 200)
		status_error(host, *root, r, step, error);
	else if (!*root)
		g_prefix_error(error, "%s answer: ", step);
	else if (read_envelope(host, *root, r, step, env, error))
		return TRUE;
	if (*root)
		host->json_free(*root);
	*root = NULL;
	host->http_response_clear(r);
	return FALSE;
}

/* An application/x-www-form-urlencoded POST of pairs. */
static gboolean post_form(const TkrHost *host, const char *url,
			  const char *const *pairs, const char *step,
			  TkrHttpResponse *r, TkrJson **root, Envelope *env,
			  GError **error)
{
	TkrSecret *body = host->form_encode(pairs);
	TkrHttpRequest req = {
		.method = "POST",
		.url = url,
		.body = body,
		.body_len = strlen(body),
		.content_type = "application/x-www-form-urlencoded",
	};
	gboolean ok = exchange(host, &req, step, r, root, env, error);

	host->secret_free(body);
	return ok;
}

static void exchange_end(const TkrHost *host, TkrHttpResponse *r,
			 TkrJson *root, Envelope *env)
{
	g_free(env->text);
	env->text = NULL;
	if (root)
		host->json_free(root);
	host->http_response_clear(r);
}

/* data{access_token, refresh_token, expires_in} of a success. */
static gboolean parse_data(const TkrHost *host, const TkrJson *root,
			   const char *step, TkrTokenSet *out,
			   GError **error)
{
	const TkrJson *data = host->json_object(root, "data");
	gint64 expires_in = 0, now = host->now();

	if (!data) {
		g_set_error(error, TKR_PROVIDER_ERROR,
			    TKR_PROVIDER_ERROR_HTTP,
			    "%s answer without a 'data' object", step);
		return FALSE;
	}
	if (!(out->access_token = host->json_token(data, "access_token",
						   error)) ||
	    !(out->refresh_token = host->json_token(data, "refresh_token",
						    error)) ||
	    !host->json_int(data, "expires_in", 1, EXPIRES_IN_MAX, TRUE,
			    &expires_in, error)) {
		g_prefix_error(error, "%s answer: ", step);
		host->token_set_clear(out);
		return FALSE;
	}
	out->expires_at = now + expires_in;
	out->issued_at = now;
	out->token_type = g_strdup("Bearer");
	return TRUE;
}

/*
 * A POST of pairs whose success carries a token pair: the refresh, and
 * the device flow's last step.
 */
static gboolean token_request(const TkrHost *host, const char *url,
			      const char *const *pairs, const char *step,
			      TkrTokenSet *out, GError **error)
{
	TkrHttpResponse r = { 0 };
	TkrJson *root = NULL;
	Envelope env = { 0 };
	gboolean ok = FALSE;

	if (!post_form(host, url, pairs, step, &r, &root, &env, error))
		return FALSE;
	if (env.failed)
		envelope_error(host, &env, step, error);
	else
		ok = parse_data(host, root, step, out, error);
	exchange_end(host, &r, root, &env);
	return ok;
}

/* One POST of the refresh token. */
static gboolean refresh_with(State *st, const TkrHost *host, const char *rt,
			     TkrTokenSet *out, GError **error)
{
	const char *pairs[] = { "refresh_token", rt, NULL };

	host->trace(host, "115: refreshToken");
	return token_request(host, st->token_url, pairs, "refresh", out,
			     error);
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

/* ---- login with the tokens of an authorisation ---------------------- */

static gboolean import_login(State *st, const TkrHost *host,
			     TkrTokenSet *out, GError **error)
{
	const TkrLoginField *f = login_fields;
	TkrSecret *rt = NULL, *at = NULL, *ein = NULL;
	guint64 expires_in = ACCESS_LIFETIME;
	gboolean ok = FALSE;

	rt = host->converse(host, f[FIELD_REFRESH_TOKEN].key,
			    f[FIELD_REFRESH_TOKEN].prompt,
			    f[FIELD_REFRESH_TOKEN].flags, error);
	if (!rt)
		return FALSE;
	at = host->converse(host, f[FIELD_ACCESS_TOKEN].key,
			    f[FIELD_ACCESS_TOKEN].prompt,
			    f[FIELD_ACCESS_TOKEN].flags, error);
	if (!at && error && *error)
		goto out;
	ein = host->converse(host, f[FIELD_EXPIRES_IN].key,
			     f[FIELD_EXPIRES_IN].prompt,
			     f[FIELD_EXPIRES_IN].flags, error);
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
	ok = TRUE;
out:
	host->secret_free(rt);
	host->secret_free(at);
	host->secret_free(ein);
	return ok;
}

/* ---- login with the device-code flow (PROVIDERS.md 2.2) ------------- */

/* What authDeviceCode hands out; none of it is a credential. */
typedef struct {
	char *uid;
	char *time;
	char *sign;
	char *qrcode;
} Device;

static void device_clear(Device *dev)
{
	g_free(dev->uid);
	g_free(dev->time);
	g_free(dev->sign);
	g_free(dev->qrcode);
	memset(dev, 0, sizeof(*dev));
}

/*
 * The PKCE code_verifier: 48 bytes from /dev/urandom, base64url without
 * padding, so 64 characters of [A-Za-z0-9_-] (RFC 7636's 43 to 128 of
 * the unreserved set).
 */
static TkrSecret *new_verifier(const TkrHost *host, GError **error)
{
	guchar raw[VERIFIER_BYTES];
	char text[VERIFIER_BYTES / 3 * 4 + 8];
	gint state = 0, save = 0;
	gsize got = 0, n, i;
	TkrSecret *verifier;
	int fd, saved = 0;

	fd = g_open("/dev/urandom", O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0)
		saved = errno;
	while (fd >= 0 && got < sizeof(raw)) {
		ssize_t r = read(fd, raw + got, sizeof(raw) - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			saved = r < 0 ? errno : EIO;
			break;
		}
		got += (gsize)r;
	}
	if (fd >= 0)
		g_close(fd, NULL);
	if (got < sizeof(raw)) {
		host->wipe(raw, sizeof(raw));
		g_set_error(error, TKR_PROVIDER_ERROR,
			    TKR_PROVIDER_ERROR_PROVIDER,
			    "cannot read /dev/urandom for the PKCE verifier: "
			    "%s", g_strerror(saved));
		return NULL;
	}
	n = g_base64_encode_step(raw, sizeof(raw), FALSE, text, &state,
				 &save);
	n += g_base64_encode_close(FALSE, text + n, &state, &save);
	while (n && text[n - 1] == '=')
		n--;
	text[n] = '\0';
	for (i = 0; i < n; i++) {
		if (text[i] == '+')
			text[i] = '-';
		else if (text[i] == '/')
			text[i] = '_';
	}
	verifier = host->secret_dup(text);
	host->wipe(raw, sizeof(raw));
	host->wipe(text, sizeof(text));
	host->wipe(&save, sizeof(save));
	return verifier;
}

/*
 * code_challenge = base64(SHA-256(verifier)), standard alphabet with
 * padding, as 115's documentation shows.  Not a secret.
 */
static char *challenge_of(const TkrHost *host, const char *verifier)
{
	GChecksum *sum = g_checksum_new(G_CHECKSUM_SHA256);
	guint8 digest[32];
	gsize len = sizeof(digest);
	char *challenge;

	g_checksum_update(sum, (const guchar *)verifier, strlen(verifier));
	g_checksum_get_digest(sum, digest, &len);
	g_checksum_free(sum);
	challenge = g_base64_encode(digest, len);
	host->wipe(digest, sizeof(digest));
	return challenge;
}

/* Printable ASCII, 1 to max bytes. */
static gboolean printable(const char *s, gsize max)
{
	gsize n = 0;

	for (; *s; s++, n++) {
		if (*s <= 0x20 || *s > 0x7e || n >= max)
			return FALSE;
	}
	return n > 0;
}

/* A member that is a string or an integer, as text to send back. */
static char *device_field(const TkrHost *host, const TkrJson *data,
			  const char *key, GError **error)
{
	char *s = host->json_string(data, key, NULL);
	gint64 v;

	if (s && printable(s, DEVICE_FIELD_MAX))
		return s;
	g_free(s);
	if (host->json_int(data, key, 0, G_MAXINT64 - 1, FALSE, &v, NULL))
		return g_strdup_printf("%" G_GINT64_FORMAT, v);
	g_set_error(error, TKR_PROVIDER_ERROR, TKR_PROVIDER_ERROR_HTTP,
		    "device code request answer: no usable '%s'", key);
	return NULL;
}

/* Step 1: POST authDeviceCode; fills dev. */
static gboolean device_code(State *st, const TkrHost *host,
			    const char *client_id, const char *challenge,
			    Device *dev, GError **error)
{
	g_autofree char *url = g_strconcat(st->passport_url,
					   "/open/authDeviceCode", NULL);
	const char *pairs[] = {
		"client_id", client_id,
		"code_challenge", challenge,
		"code_challenge_method", "sha256",
		NULL,
	};
	const char *step = "device code request";
	TkrHttpResponse r = { 0 };
	TkrJson *root = NULL;
	const TkrJson *data;
	Envelope env = { 0 };
	gboolean ok = FALSE;

	host->trace(host, "115: authDeviceCode");
	if (!post_form(host, url, pairs, step, &r, &root, &env, error))
		return FALSE;
	if (env.failed) {
		envelope_error(host, &env, step, error);
	} else if (!(data = host->json_object(root, "data"))) {
		g_set_error(error, TKR_PROVIDER_ERROR,
			    TKR_PROVIDER_ERROR_HTTP,
			    "%s answer without a 'data' object", step);
	} else if ((dev->uid = device_field(host, data, "uid", error)) &&
		   (dev->time = device_field(host, data, "time", error)) &&
		   (dev->sign = device_field(host, data, "sign", error))) {
		dev->qrcode = host->json_string(data, "qrcode", NULL);
		if (dev->qrcode && *dev->qrcode &&
		    strlen(dev->qrcode) <= QRCODE_MAX)
			ok = TRUE;
		else
			g_set_error(error, TKR_PROVIDER_ERROR,
				    TKR_PROVIDER_ERROR_HTTP,
				    "%s answer: no usable 'qrcode'", step);
	}
	if (!ok)
		device_clear(dev);
	exchange_end(host, &r, root, &env);
	return ok;
}

/* What one status poll says (data.status of the web QR login too). */
typedef enum {
	POLL_WAITING,		/* nothing yet: poll again */
	POLL_SCANNED,		/* 1: scanned, not yet confirmed */
	POLL_CONFIRMED,		/* 2: confirmed, exchange the verifier */
} Poll;

static void qr_dead(const TkrHost *host, const char *what,
		    const Envelope *env, GError **error)
{
	g_autofree char *detail = env && (env->number || env->text) ?
				  envelope_detail(env) : g_strdup("");

	g_set_error(error, TKR_PROVIDER_ERROR, TKR_PROVIDER_ERROR_PROVIDER,
		    "%s%s; run 'tokenring login %s' again", what, detail,
		    host->account);
}

/* Step 2: one GET of the status, a long poll. */
static gboolean poll_status(State *st, const TkrHost *host,
			    const Device *dev, Poll *poll, GError **error)
{
	g_autofree char *base = g_strconcat(st->qrcode_url, "/get/status/",
					    NULL);
	const char *pairs[] = {
		"uid", dev->uid, "time", dev->time, "sign", dev->sign, NULL,
	};
	TkrSecret *url = host->url_with_query(base, pairs);
	TkrHttpRequest req = { .method = "GET", .url = url };
	const char *step = "status poll";
	TkrHttpResponse r = { 0 };
	TkrJson *root = NULL;
	const TkrJson *data;
	Envelope env = { 0 };
	gint64 status = 0;
	gboolean ok;

	ok = exchange(host, &req, step, &r, &root, &env, error);
	host->secret_free(url);
	if (!ok)
		return FALSE;
	ok = FALSE;
	*poll = POLL_WAITING;
	data = host->json_object(root, "data");
	if (!env.state_ok) {
		qr_dead(host, "the QR code expired", &env, error);
	} else if (env.failed) {
		envelope_error(host, &env, step, error);
	} else if (data && host->json_has(data, "status") &&
		   !host->json_int(data, "status", -1000, 1000, TRUE,
				   &status, NULL)) {
		g_set_error(error, TKR_PROVIDER_ERROR,
			    TKR_PROVIDER_ERROR_HTTP,
			    "%s answer with a malformed 'status'", step);
	} else if (status == -1) {
		qr_dead(host, "the QR code expired", NULL, error);
	} else if (status == -2) {
		qr_dead(host, "the login was cancelled in the 115 app", NULL,
			error);
	} else {
		/* Empty data (the long poll ran out), 0 or unknown: wait. */
		if (status == 1)
			*poll = POLL_SCANNED;
		else if (status == 2)
			*poll = POLL_CONFIRMED;
		ok = TRUE;
	}
	exchange_end(host, &r, root, &env);
	return ok;
}

/*
 * Poll until the user confirms, for at most login_timeout seconds, about
 * once a second when the server answers at once.  A poll that fails on
 * the way (no answer, HTTP 5xx) is tried again, unless POLL_FAILURES_MAX
 * quick ones come in a row: one that ran LONG_POLL_MS or more was a long
 * poll outlasting the account's timeout, not a dead server.
 */
static gboolean wait_confirmed(State *st, const TkrHost *host,
			       const Device *dev, GError **error)
{
	gint64 deadline = host->now_ms() + (gint64)st->login_timeout * 1000;
	gboolean told = FALSE;
	guint failures = 0, polls = 0;

	for (;;) {
		gint64 start = host->now_ms(), spent, left;
		GError *local = NULL;
		Poll poll = POLL_WAITING;

		if (start >= deadline) {
			g_set_error(error, TKR_PROVIDER_ERROR,
				    TKR_PROVIDER_ERROR_PROVIDER,
				    "no confirmation in the 115 app within "
				    "%u s (login_timeout); run 'tokenring "
				    "login %s' again", st->login_timeout,
				    host->account);
			return FALSE;
		}
		polls++;
		if (!poll_status(st, host, dev, &poll, &local)) {
			spent = host->now_ms() - start;
			if (!g_error_matches(local, TKR_PROVIDER_ERROR,
					     TKR_PROVIDER_ERROR_NETWORK) ||
			    (spent < LONG_POLL_MS &&
			     ++failures >= POLL_FAILURES_MAX)) {
				g_propagate_error(error, local);
				return FALSE;
			}
			host->trace(host, "115: status poll %u failed, "
				    "polling on", polls);
			g_clear_error(&local);
		} else {
			failures = 0;
			host->trace(host, "115: status poll %u: %s", polls,
				    poll == POLL_CONFIRMED ? "confirmed" :
				    poll == POLL_SCANNED ? "scanned" :
				    "waiting");
			if (poll == POLL_CONFIRMED)
				return TRUE;
			if (poll == POLL_SCANNED && !told) {
				host->inform(host, "scanned; confirm in the "
					     "app");
				told = TRUE;
			}
		}
		spent = host->now_ms() - start;
		left = deadline - host->now_ms();
		if (spent < POLL_INTERVAL_MS && left > 0)
			host->sleep_ms((guint)MIN(POLL_INTERVAL_MS - spent,
						  left));
	}
}

static gboolean device_login(State *st, const TkrHost *host,
			     const char *client_id, TkrTokenSet *out,
			     GError **error)
{
	g_autofree char *challenge = NULL;
	g_autofree char *line = NULL;
	g_autofree char *url = NULL;
	TkrSecret *verifier;
	Device dev = { 0 };
	gboolean ok = FALSE;

	if (!printable(client_id, CLIENT_ID_MAX))
		return usage(error, "client_id wants the AppID of a 115 app "
			     "(1 to 64 printable ASCII characters, no "
			     "spaces)");
	if (!(verifier = new_verifier(host, error)))
		return FALSE;
	challenge = challenge_of(host, verifier);
	if (!device_code(st, host, client_id, challenge, &dev, error))
		goto out;
	line = g_strdup_printf("Scan this QR code with the 115 app (or open "
			       "it): %s", dev.qrcode);
	host->inform(host, line);
	g_free(line);
	line = g_strdup_printf("waiting for confirmation (at most %u s)...",
			       st->login_timeout);
	host->inform(host, line);
	if (!wait_confirmed(st, host, &dev, error))
		goto out;
	url = g_strconcat(st->passport_url, "/open/deviceCodeToToken", NULL);
	{
		const char *pairs[] = {
			"uid", dev.uid, "code_verifier", verifier, NULL,
		};

		host->trace(host, "115: deviceCodeToToken");
		ok = token_request(host, url, pairs, "token exchange", out,
				   error);
	}
out:
	device_clear(&dev);
	host->secret_free(verifier);
	return ok;
}

static gboolean p115_login(gpointer data, const TkrHost *host,
			   TkrTokenSet *out, GError **error)
{
	State *st = data;
	const TkrLoginField *f = &login_fields[FIELD_CLIENT_ID];
	GError *local = NULL;
	TkrSecret *client_id;
	gboolean ok;

	client_id = host->converse(host, f->key, f->prompt, f->flags, &local);
	if (local) {
		g_propagate_error(error, local);
		return FALSE;
	}
	if (client_id)
		ok = device_login(st, host, client_id, out, error);
	else
		ok = import_login(st, host, out, error);
	host->secret_free(client_id);
	if (!ok)
		return FALSE;
	/*
	 * The grant ends a year after the user authorised it: just now for
	 * the device flow, before now for imported tokens (an upper bound);
	 * refreshes keep it.
	 */
	out->refresh_expires_at = host->now() + GRANT_LIFETIME;
	return TRUE;
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
	.description = "115 open platform: refresh_token rotation, QR code "
		       "login (passportapi.115.com)",
	.config_keys = config_keys,
	.login_fields = login_fields,
	.init = p115_init,
	.login = p115_login,
	.refresh = p115_refresh,
	.revoke = NULL,
	.finish = p115_finish,
};
