/*
 * Longbridge / LongPort OpenAPI tokens (docs/PROVIDERS.md section 3).
 *
 * Quirks this module exists for: there is no refresh token, the access
 * token refreshes itself and the old one dies on success; a refresh works
 * only before expiry, after which a new token must be made on the
 * developer site; the token goes raw in Authorization (no "Bearer"); every
 * request is signed with HMAC-SHA256 over a canonical request that holds
 * the query exactly as sent (so the ':' of expired_at is signed as %3A);
 * a request re-sent with the same X-Timestamp is refused as a replay
 * (403202) and gets one fresh signature; expiries are ISO 8601 text.
 *
 * Two forms of the refresh: the current "GET /v1/token/refresh?expired_at="
 * and the 2022 draft "POST /v1/openapi/token/refresh" with a JSON body
 * {expired_at, aaid} and an Account-Channel header (api = draft2022).
 */
#include <string.h>
#include <tokenring/provider.h>

#define LIFETIME_DAYS_DEFAULT 90
#define LIFETIME_DAYS_MAX 1095		/* a maintainer showed 3 years */
#define SITE_LIFETIME_DAYS 90		/* what the developer site issues */
#define CHANNEL_DEFAULT "lb"
#define SIGNED_HEADERS "authorization;x-api-key;x-timestamp"
#define CONTENT_TYPE "application/json; charset=utf-8"
#define RETRY_AFTER_MAX_S 5		/* a plain 429 waits no longer */
#define MAX_FUTURE_S (20 * 366 * 86400LL)
#define SITE_HINT "make a new token on the developer site"

/* Longbridge's error codes (PROVIDERS.md 3.1). */
#define CODE_TOKEN_EXPIRED 401003
#define CODE_TOKEN_INVALID 401004
#define CODE_BAD_SIGNATURE 403201
#define CODE_DUPLICATE 403202
#define CODE_BAD_API_KEY 403203
#define CODE_IP_NOT_ALLOWED 403205
#define CODE_IP_RATE_LIMIT 429001
#define CODE_API_RATE_LIMIT 429002
#define CODE_INTERNAL 500000

typedef enum {
	API_CURRENT,
	API_DRAFT2022,
} Api;

typedef struct {
	char *base;			/* url without trailing '/' */
	Api api;
	gint64 lifetime_days;
	char *channel;			/* draft2022: Account-Channel */
	char *aaid;			/* draft2022: the account id */
} State;

static const char *const config_keys[] = {
	"api", "lifetime_days", "account_channel", "aaid", NULL,
};

static const TkrLoginField login_fields[] = {
	{ "token", "Access token (developer site)", TKR_FIELD_SECRET },
	{ "expires_at", "Its expiry, as shown on the site (ISO 8601)",
	  TKR_FIELD_OPTIONAL },
	{ "app_key", "App key", TKR_FIELD_OPTIONAL },
	{ "app_secret", "App secret", TKR_FIELD_SECRET | TKR_FIELD_OPTIONAL },
	{ NULL, NULL, 0 },
};

/* 1 to max bytes of [A-Za-z0-9_.-]: safe in a header and a JSON body. */
static gboolean plain_word(const char *s, gsize max)
{
	gsize n = 0;

	if (!s || !*s)
		return FALSE;
	for (; *s; s++, n++) {
		if (n >= max || !(g_ascii_isalnum(*s) || *s == '_' ||
				  *s == '-' || *s == '.'))
			return FALSE;
	}
	return TRUE;
}

/* 1 to max visible ASCII bytes (0x21-0x7E): a token or key for a header. */
static gboolean visible(const char *s, gsize max)
{
	gsize n = 0;

	if (!s || !*s)
		return FALSE;
	for (; *s; s++, n++) {
		if (n >= max || *s < 0x21 || *s > 0x7e)
			return FALSE;
	}
	return TRUE;
}

static gboolean config_error(GError **error, const char *message)
{
	g_set_error_literal(error, TKR_PROVIDER_ERROR,
			    TKR_PROVIDER_ERROR_CONFIG, message);
	return FALSE;
}

static gpointer lb_init(const TkrHost *host, GHashTable *config,
			GError **error)
{
	const char *api = g_hash_table_lookup(config, "api");
	const char *days = g_hash_table_lookup(config, "lifetime_days");
	const char *channel = g_hash_table_lookup(config, "account_channel");
	const char *aaid = g_hash_table_lookup(config, "aaid");
	guint64 n = LIFETIME_DAYS_DEFAULT;
	Api which = API_CURRENT;
	State *st;

	if (api && !strcmp(api, "draft2022"))
		which = API_DRAFT2022;
	else if (api && strcmp(api, "current")) {
		config_error(error, "bad value for 'api': want current or "
			     "draft2022");
		return NULL;
	}
	if (days && !g_ascii_string_to_unsigned(days, 10, 1, LIFETIME_DAYS_MAX,
						&n, NULL)) {
		config_error(error, "bad value for 'lifetime_days': want 1 to "
			     G_STRINGIFY(LIFETIME_DAYS_MAX));
		return NULL;
	}
	if (channel && !plain_word(channel, 32)) {
		config_error(error, "bad value for 'account_channel': want a "
			     "word such as lb or pspl_sg");
		return NULL;
	}
	if (aaid && !plain_word(aaid, 64)) {
		config_error(error, "bad value for 'aaid': want the account id "
			     "(letters, digits, '_', '-', '.')");
		return NULL;
	}
	if (which == API_DRAFT2022 && !aaid) {
		config_error(error, "'aaid' is required with api=draft2022");
		return NULL;
	}
	if (which == API_CURRENT && (channel || aaid))
		host->trace(host, "longbridge: account_channel and aaid are "
			    "used only with api=draft2022");
	st = g_new0(State, 1);
	st->base = g_strdup(host->url);
	while (*st->base && g_str_has_suffix(st->base, "/"))
		st->base[strlen(st->base) - 1] = '\0';
	st->api = which;
	st->lifetime_days = (gint64)n;
	st->channel = g_strdup(channel ? channel : CHANNEL_DEFAULT);
	st->aaid = g_strdup(aaid);
	return st;
}

static void lb_finish(gpointer data)
{
	State *st = data;

	g_free(st->base);
	g_free(st->channel);
	g_free(st->aaid);
	g_free(st);
}

/* ---- times ---------------------------------------------------------- */

/*
 * Epoch seconds of an ISO 8601 / RFC 3339 time; a time without a zone is
 * UTC, a bare date is its midnight UTC.  FALSE if it does not parse.
 */
static gboolean parse_time(const char *text, gint64 *out)
{
	g_autoptr(GTimeZone) utc = g_time_zone_new_utc();
	g_autoptr(GDateTime) dt = NULL;
	g_autofree char *s = g_strstrip(g_strdup(text));

	if (strlen(s) == 10 && s[4] == '-' && s[7] == '-') {
		char *day = g_strconcat(s, "T00:00:00Z", NULL);

		dt = g_date_time_new_from_iso8601(day, utc);
		g_free(day);
	} else {
		dt = g_date_time_new_from_iso8601(s, utc);
	}
	if (!dt)
		return FALSE;
	*out = g_date_time_to_unix(dt);
	return TRUE;
}

/* RFC 3339 UTC with milliseconds, as the SDKs and docs send it. */
static char *format_time_ms(gint64 ms)
{
	g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(ms / 1000);
	g_autofree char *s = NULL;

	if (!dt)
		return NULL;
	s = g_date_time_format(dt, "%Y-%m-%dT%H:%M:%S");
	return g_strdup_printf("%s.%03dZ", s, (int)(ms % 1000));
}

/* ---- signing (PROVIDERS.md 3.0) ------------------------------------- */

/*
 * The parts concatenated into secret memory; the GLib copy that
 * g_strjoinv made is wiped before it is freed.
 */
static TkrSecret *secret_join(const TkrHost *host, const char *const *parts)
{
	char *tmp = g_strjoinv("", (char **)parts);
	TkrSecret *s = host->secret_dup(tmp);

	host->wipe(tmp, strlen(tmp));
	g_free(tmp);
	return s;
}

/* The path of url as sent (scheme://authority/path?query -> /path). */
static char *url_path(const char *url)
{
	const char *p = strstr(url, "://"), *end;

	p = p ? p + 3 : url;
	p = strchr(p, '/');
	if (!p)
		return g_strdup("/");
	end = strchr(p, '?');
	return end ? g_strndup(p, end - p) : g_strdup(p);
}

/*
 * The X-Api-Signature value for one request:
 *
 *   canonical = METHOD|path|query|authorization:T\nx-api-key:K\n
 *               x-timestamp:TS\n|authorization;x-api-key;x-timestamp|
 *               [hex sha1(body), only for a non-empty body]
 *   to_sign   = "HMAC-SHA256|" hex sha1(canonical)
 *   signature = hex HMAC-SHA256(app_secret, to_sign)
 *
 * query is the raw, percent-encoded query exactly as it goes on the wire.
 */
static char *sign(const TkrHost *host, const char *method, const char *path,
		  const char *query, const char *token, const char *app_key,
		  const char *timestamp, const char *body, gsize body_len,
		  const char *app_secret)
{
	g_autofree char *body_hash = NULL;
	g_autofree char *canonical_hash = NULL;
	g_autofree char *to_sign = NULL;
	g_autofree char *signature = NULL;
	TkrSecret *canonical;

	if (body && body_len)
		body_hash = g_compute_checksum_for_data(G_CHECKSUM_SHA1,
							(const guchar *)body,
							body_len);
	canonical = secret_join(host, (const char *const[]){
		method, "|", path, "|", query, "|",
		"authorization:", token, "\n",
		"x-api-key:", app_key, "\n",
		"x-timestamp:", timestamp, "\n",
		"|", SIGNED_HEADERS, "|",
		body_hash ? body_hash : "", NULL,
	});
	canonical_hash = g_compute_checksum_for_data(G_CHECKSUM_SHA1,
						     (const guchar *)canonical,
						     strlen(canonical));
	host->secret_free(canonical);
	to_sign = g_strconcat("HMAC-SHA256|", canonical_hash, NULL);
	signature = g_compute_hmac_for_data(G_CHECKSUM_SHA256,
					    (const guchar *)app_secret,
					    strlen(app_secret),
					    (const guchar *)to_sign,
					    strlen(to_sign));
	return g_strconcat("X-Api-Signature: HMAC-SHA256 SignedHeaders="
			   SIGNED_HEADERS ", Signature=", signature, NULL);
}

/* ---- one request ---------------------------------------------------- */

typedef struct {
	const char *token;		/* the token being refreshed */
	const char *app_key;		/* NULL: unsigned */
	const char *app_secret;
	const char *expired_at;		/* what we ask for, RFC 3339 */
	gint64 timestamp;		/* X-Timestamp, seconds */
} Call;

/*
 * Send the refresh once, signed with call->timestamp when app
 * credentials are stored.  Any status is a TRUE return.
 */
static gboolean send_refresh(State *st, const TkrHost *host, const Call *call,
			     TkrHttpResponse *r, GError **error)
{
	g_autofree char *ts = g_strdup_printf("%" G_GINT64_FORMAT,
					      call->timestamp);
	g_autofree char *key_header = NULL;
	g_autofree char *ts_header = NULL;
	g_autofree char *sig_header = NULL;
	g_autofree char *channel_header = NULL;
	g_autofree char *path = NULL;
	const char *headers[8];
	TkrSecret *url, *body = NULL, *auth;
	TkrHttpRequest req = { 0 };
	const char *query;
	gboolean ok;
	int n = 0;

	if (st->api == API_CURRENT) {
		const char *pairs[] = { "expired_at", call->expired_at, NULL };
		g_autofree char *base = g_strconcat(st->base,
						    "/v1/token/refresh", NULL);

		url = host->url_with_query(base, pairs);
		req.method = "GET";
	} else {
		const char *pairs[] = { "expired_at", call->expired_at,
					"aaid", st->aaid, NULL };
		g_autofree char *base = g_strconcat(st->base,
						    "/v1/openapi/token/refresh",
						    NULL);

		url = host->secret_dup(base);
		body = host->json_encode(pairs);
		req.method = "POST";
		req.body = body;
		req.body_len = strlen(body);
		req.content_type = CONTENT_TYPE;
	}
	/* The query exactly as it goes on the wire, or "" without one. */
	query = strchr(url, '?');
	query = query ? query + 1 : "";
	path = url_path(url);

	auth = secret_join(host, (const char *const[]){
		"Authorization: ", call->token, NULL });
	headers[n++] = auth;
	if (call->app_key) {
		key_header = g_strconcat("X-Api-Key: ", call->app_key, NULL);
		ts_header = g_strconcat("X-Timestamp: ", ts, NULL);
		sig_header = sign(host, req.method, path, query, call->token,
				  call->app_key, ts, req.body, req.body_len,
				  call->app_secret);
		headers[n++] = key_header;
		headers[n++] = ts_header;
		headers[n++] = sig_header;
	}
	if (st->api == API_DRAFT2022) {
		channel_header = g_strconcat("Account-Channel: ", st->channel,
					     NULL);
		headers[n++] = channel_header;
	} else {
		headers[n++] = "Content-Type: " CONTENT_TYPE;
	}
	headers[n] = NULL;
	req.url = url;
	req.headers = headers;

	host->trace(host, "longbridge: %s %s (%s)", req.method, path,
		    call->app_key ? "signed" : "unsigned");
	ok = host->http_request(host, &req, r, error);
	host->secret_free(auth);
	host->secret_free(body);
	host->secret_free(url);
	return ok;
}

/* ---- answers -------------------------------------------------------- */

typedef struct {
	gboolean envelope;		/* a JSON object with an integer code */
	gint64 code;
	char *message;			/* sanitised "message" or "msg" */
} Envelope;

static void envelope_clear(Envelope *e)
{
	g_free(e->message);
	memset(e, 0, sizeof(*e));
}

static char *member_text(const TkrHost *host, const TkrJson *root,
			 const char *key)
{
	g_autofree char *raw = NULL;

	if (!host->json_has(root, key))
		return NULL;
	raw = host->json_string(root, key, NULL);
	return raw && *raw ? host->sanitize(raw, 100) : NULL;
}

/* Read {code, message|msg} from any answer; NULL root for a non-JSON one. */
static void read_envelope(const TkrHost *host, const TkrJson *root,
			  Envelope *e)
{
	memset(e, 0, sizeof(*e));
	if (!root || !host->json_has(root, "code") ||
	    !host->json_int(root, "code", G_MININT32, G_MAXINT32, TRUE,
			    &e->code, NULL))
		return;
	e->envelope = TRUE;
	/* The docs' tables say msg; real bodies and the SDKs say message. */
	e->message = member_text(host, root, "message");
	if (!e->message)
		e->message = member_text(host, root, "msg");
}

/* "refresh: HTTP 401, code 401004 (token invalid)" */
static char *describe(const TkrHttpResponse *r, const Envelope *e)
{
	if (!e->envelope)
		return g_strdup_printf("token refresh: HTTP %ld", r->status);
	return g_strdup_printf("token refresh: HTTP %ld, code %" G_GINT64_FORMAT
			       "%s%s%s", r->status, e->code,
			       e->message ? " (" : "",
			       e->message ? e->message : "",
			       e->message ? ")" : "");
}

/* Turn a failed answer into an error of the right class. */
static void answer_error(const TkrHttpResponse *r, const Envelope *e,
			 GError **error)
{
	g_autofree char *what = describe(r, e);
	const char *hint = "";
	int code;

	switch (e->envelope ? e->code : 0) {
	case CODE_TOKEN_EXPIRED:
	case CODE_TOKEN_INVALID:
		code = TKR_PROVIDER_ERROR_LOGIN_NEEDED;
		hint = "; " SITE_HINT;
		break;
	case CODE_BAD_SIGNATURE:
		code = TKR_PROVIDER_ERROR_PROVIDER;
		hint = "; check the stored app_key and app_secret (log in "
		       "again) and the system clock";
		break;
	case CODE_DUPLICATE:
		code = TKR_PROVIDER_ERROR_PROVIDER;
		hint = "; refused as a replay after signing again; check the "
		       "system clock";
		break;
	case CODE_BAD_API_KEY:
		code = TKR_PROVIDER_ERROR_PROVIDER;
		hint = "; check the stored app_key (log in again)";
		break;
	case CODE_IP_NOT_ALLOWED:
		code = TKR_PROVIDER_ERROR_PROVIDER;
		hint = "; add this machine's address to the app's IP list";
		break;
	case CODE_IP_RATE_LIMIT:
	case CODE_API_RATE_LIMIT:
		code = TKR_PROVIDER_ERROR_RATE_LIMITED;
		break;
	case CODE_INTERNAL:
		code = TKR_PROVIDER_ERROR_NETWORK;
		break;
	default:
		if (r->status == 429)
			code = TKR_PROVIDER_ERROR_RATE_LIMITED;
		else if (r->status >= 500)
			code = TKR_PROVIDER_ERROR_NETWORK;
		else if (e->envelope)
			code = TKR_PROVIDER_ERROR_PROVIDER;
		else
			code = TKR_PROVIDER_ERROR_HTTP;
		break;
	}
	g_set_error(error, TKR_PROVIDER_ERROR, code, "%s%s", what, hint);
}

/* data.token and data.expired_at of a successful answer. */
static gboolean parse_success(const TkrHost *host, const TkrJson *root,
			      gint64 requested, TkrTokenSet *out,
			      GError **error)
{
	const TkrJson *data = host->json_object(root, "data");
	g_autofree char *text = NULL;
	gint64 now = host->now(), expires = requested;

	if (!data) {
		g_set_error_literal(error, TKR_PROVIDER_ERROR,
				    TKR_PROVIDER_ERROR_HTTP,
				    "token refresh: answer without a 'data' "
				    "object");
		return FALSE;
	}
	out->access_token = host->json_token(data, "token", error);
	if (!out->access_token) {
		g_prefix_error(error, "token refresh: ");
		return FALSE;
	}
	/* The SDKs read only the token; the expiry falls back to ours. */
	if (host->json_has(data, "expired_at")) {
		text = host->json_string(data, "expired_at", NULL);
		if (text && !*text)
			g_clear_pointer(&text, g_free);
	}
	if (!text) {
		host->trace(host, "longbridge: no expired_at in the answer; "
			    "assuming the requested time");
	} else if (!parse_time(text, &expires) || expires <= now ||
		   expires > now + MAX_FUTURE_S) {
		g_autofree char *safe = host->sanitize(text, 40);

		g_set_error(error, TKR_PROVIDER_ERROR, TKR_PROVIDER_ERROR_HTTP,
			    "token refresh: impossible expired_at '%s' in the "
			    "answer; the old token may no longer work", safe);
		return FALSE;
	}
	out->expires_at = expires;
	out->issued_at = now;
	return TRUE;
}

/*
 * How long to wait before the one retry of a 429 without a {code,
 * message} envelope (the gateway's own, which the SDKs retry):
 * Retry-After in seconds up to RETRY_AFTER_MAX_S, else a second.
 * -1: do not retry.
 */
static gint64 plain_429_wait_ms(const TkrHttpResponse *r)
{
	guint64 s = 1;

	if (r->retry_after &&
	    !g_ascii_string_to_unsigned(r->retry_after, 10, 0,
					RETRY_AFTER_MAX_S, &s, NULL))
		return -1;
	return (gint64)s * 1000;
}

/*
 * Refresh: send, and retry at most once, with a fresh X-Timestamp and
 * signature, after a 403202 (a replay refusal: nothing was rotated) or a
 * 429 without an envelope.  A timeout, 5xx or anything else is never re-sent.
 */
static gboolean rotate(State *st, const TkrHost *host,
		       const TkrTokenSet *cur, TkrTokenSet *out,
		       GError **error)
{
	gint64 requested_ms = host->now_ms() +
			      st->lifetime_days * 86400000LL;
	g_autofree char *expired_at = format_time_ms(requested_ms);
	Call call = {
		.token = cur->access_token,
		.app_key = host->extra(cur, "app_key"),
		.app_secret = host->extra(cur, "app_secret"),
		.expired_at = expired_at,
	};
	int attempt;

	if (!expired_at) {
		g_set_error_literal(error, TKR_PROVIDER_ERROR,
				    TKR_PROVIDER_ERROR_CONFIG,
				    "cannot express the requested expiry");
		return FALSE;
	}
	if (call.app_key && !call.app_secret)
		call.app_key = NULL;
	if (!call.app_key)
		host->trace(host, "longbridge: no app credentials stored; "
			    "sending the token without a signature");
	for (attempt = 0;; attempt++) {
		TkrHttpResponse r = { 0 };
		g_autoptr(GError) ignored = NULL;
		TkrJson *root;
		Envelope e;
		gint64 wait_ms = -1, now_ms;
		gboolean ok;

		/* Every attempt gets a timestamp of its own. */
		now_ms = host->now_ms();
		if (attempt && now_ms / 1000 <= call.timestamp) {
			host->sleep_ms((guint)((call.timestamp + 1) * 1000 -
					       now_ms));
			now_ms = host->now_ms();
		}
		call.timestamp = MAX(now_ms / 1000, call.timestamp + 1);
		if (!send_refresh(st, host, &call, &r, error))
			return FALSE;
		root = host->json_parse(r.body, r.body_len, &ignored);
		read_envelope(host, root, &e);
		if (r.status == 200 && e.envelope && e.code == 0) {
			ok = parse_success(host, root, requested_ms / 1000,
					   out, error);
		} else if (r.status == 200 && !e.envelope) {
			g_set_error_literal(error, TKR_PROVIDER_ERROR,
					    TKR_PROVIDER_ERROR_HTTP,
					    "token refresh: HTTP 200 without a "
					    "{code, message, data} answer");
			ok = FALSE;
		} else {
			if (e.envelope && e.code == CODE_DUPLICATE)
				wait_ms = 0;
			else if (r.status == 429 && !e.envelope)
				wait_ms = plain_429_wait_ms(&r);
			if (!attempt && wait_ms >= 0) {
				g_autofree char *what = describe(&r, &e);

				host->trace(host, "longbridge: %s; signing "
					    "again", what);
			} else {
				answer_error(&r, &e, error);
				wait_ms = -1;
			}
			ok = FALSE;
		}
		if (root)
			host->json_free(root);
		envelope_clear(&e);
		host->http_response_clear(&r);
		if (ok || wait_ms < 0)
			return ok;
		if (wait_ms)
			host->sleep_ms((guint)wait_ms);
	}
}

/* ---- the vtable ----------------------------------------------------- */

static gboolean usage_error(GError **error, const char *message)
{
	g_set_error_literal(error, TKR_PROVIDER_ERROR, TKR_PROVIDER_ERROR_USAGE,
			    message);
	return FALSE;
}

/*
 * Login records the token made on the developer site; it calls nothing,
 * since any call that proves the token would also need the app
 * credentials and a refresh would rotate it.
 */
static gboolean lb_login(gpointer data, const TkrHost *host, TkrTokenSet *out,
			 GError **error)
{
	TkrSecret *token = NULL, *when = NULL, *key = NULL, *secret = NULL;
	gint64 now = host->now(), expires = 0;
	gboolean ok = FALSE;

	token = host->converse(host, "token", login_fields[0].prompt,
			       TKR_FIELD_SECRET, error);
	if (!token)
		goto out;
	if (g_str_has_prefix(token, "Bearer ")) {
		usage_error(error, "give the token without 'Bearer ': an "
			    "OAuth token belongs to an oauth2 account");
		goto out;
	}
	if (!visible(token, 8192)) {
		usage_error(error, "the token must be 1 to 8192 visible ASCII "
			    "characters");
		goto out;
	}
	when = host->converse(host, "expires_at", login_fields[1].prompt,
			      TKR_FIELD_OPTIONAL, error);
	if (!when && error && *error)
		goto out;
	if (when) {
		if (!parse_time(when, &expires)) {
			usage_error(error, "'expires_at' is not an ISO 8601 "
				    "time such as 2026-04-14T12:13:57Z");
			goto out;
		}
		if (expires <= now) {
			usage_error(error, "'expires_at' is in the past: that "
				    "token has expired; " SITE_HINT);
			goto out;
		}
		if (expires > now + MAX_FUTURE_S) {
			usage_error(error, "'expires_at' is more than 20 years "
				    "away");
			goto out;
		}
	} else {
		expires = now + SITE_LIFETIME_DAYS * 86400LL;
		host->trace(host, "longbridge: no expires_at given; assuming "
			    "%d days from now", SITE_LIFETIME_DAYS);
	}
	key = host->converse(host, "app_key", login_fields[2].prompt,
			     TKR_FIELD_OPTIONAL, error);
	if (!key && error && *error)
		goto out;
	secret = host->converse(host, "app_secret", login_fields[3].prompt,
				key ? TKR_FIELD_SECRET :
				TKR_FIELD_SECRET | TKR_FIELD_OPTIONAL, error);
	if (!secret && error && *error)
		goto out;
	if (secret && !key) {
		usage_error(error, "'app_secret' needs 'app_key'");
		goto out;
	}
	if (key && (!visible(key, 256) || !visible(secret, 1024))) {
		usage_error(error, "'app_key' and 'app_secret' must be visible "
			    "ASCII characters");
		goto out;
	}
	out->access_token = g_steal_pointer(&token);
	out->expires_at = expires;
	out->issued_at = now;
	out->token_type = NULL;		/* raw in Authorization, no scheme */
	host->set_extra(out, "app_key", key);
	host->set_extra(out, "app_secret", secret);
	host->trace(host, "longbridge: token recorded, %s",
		    key ? "requests will be signed" : "no app credentials");
	ok = TRUE;
out:
	host->secret_free(token);
	host->secret_free(when);
	host->secret_free(key);
	host->secret_free(secret);
	return ok;
}

static gboolean lb_refresh(gpointer data, const TkrHost *host,
			   const TkrTokenSet *cur, TkrTokenSet *out,
			   GError **error)
{
	State *st = data;

	if (!cur->access_token) {
		g_set_error_literal(error, TKR_PROVIDER_ERROR,
				    TKR_PROVIDER_ERROR_LOGIN_NEEDED,
				    "no token stored");
		return FALSE;
	}
	/* Only a live token refreshes; nothing revives a dead one. */
	if (cur->expires_at && cur->expires_at <= host->now()) {
		g_set_error_literal(error, TKR_PROVIDER_ERROR,
				    TKR_PROVIDER_ERROR_LOGIN_NEEDED,
				    "the token has expired; make a new one on "
				    "the developer site");
		return FALSE;
	}
	if (!rotate(st, host, cur, out, error)) {
		host->token_set_clear(out);
		return FALSE;
	}
	/* No refresh token: the core keeps none; keep the app credentials. */
	return TRUE;
}

const TkrProvider tkr_provider_v1 = {
	.abi = TKR_PROVIDER_ABI,
	.name = "longbridge",
	.description = "Longbridge / LongPort OpenAPI: self-refreshing token, "
		       "HMAC-signed",
	.config_keys = config_keys,
	.login_fields = login_fields,
	.init = lb_init,
	.login = lb_login,
	.refresh = lb_refresh,
	.revoke = NULL,
	.finish = lb_finish,
};
