#include "config.h"

#include "host.h"
#include "error.h"
#include "http.h"
#include "json.h"
#include "lock.h"
#include "record.h"
#include "trace.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

/* The error numbers of the ABI are ours; keep them in step. */
G_STATIC_ASSERT((int)TKR_PROVIDER_ERROR_USAGE == TKR_ERROR_USAGE);
G_STATIC_ASSERT((int)TKR_PROVIDER_ERROR_CONFIG == TKR_ERROR_CONFIG);
G_STATIC_ASSERT((int)TKR_PROVIDER_ERROR_NETWORK == TKR_ERROR_NETWORK);
G_STATIC_ASSERT((int)TKR_PROVIDER_ERROR_HTTP == TKR_ERROR_HTTP);
G_STATIC_ASSERT((int)TKR_PROVIDER_ERROR_RATE_LIMITED ==
		TKR_ERROR_RATE_LIMITED);
G_STATIC_ASSERT((int)TKR_PROVIDER_ERROR_LOGIN_NEEDED ==
		TKR_ERROR_LOGIN_NEEDED);
G_STATIC_ASSERT((int)TKR_PROVIDER_ERROR_PROVIDER == TKR_ERROR_PROVIDER);

#define IMPL(host) ((TkrHostImpl *)(void *)(host))

static gboolean unreserved(unsigned char c)
{
	return g_ascii_isalnum(c) || c == '-' || c == '.' || c == '_' ||
	       c == '~';
}

/* Percent-encoded length of s. */
static size_t encoded_len(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += unreserved((unsigned char)*s) ? 1 : 3;
	return n;
}

/* Append s percent-encoded at out (room checked by the caller). */
static char *encode_into(char *out, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (unreserved(c)) {
			*out++ = (char)c;
		} else {
			*out++ = '%';
			*out++ = hex[c >> 4];
			*out++ = hex[c & 15];
		}
	}
	return out;
}

TkrSecret *tkr_percent_encode(const char *s)
{
	TkrSecret *out = tkr_secret_new(encoded_len(s));

	encode_into(out, s);
	return out;
}

/*
 * prefix, then lead (unless it is 0), then "k1=v1&k2=v2" percent-encoded,
 * all in one secret.
 */
static TkrSecret *encode_pairs(const char *prefix, char lead,
			       const char *const *pairs)
{
	size_t len = strlen(prefix) + 1, i;
	TkrSecret *out;
	char *p;

	for (i = 0; pairs && pairs[i] && pairs[i + 1]; i += 2)
		len += 2 + encoded_len(pairs[i]) + encoded_len(pairs[i + 1]);
	out = tkr_secret_new(len);
	p = out;
	memcpy(p, prefix, strlen(prefix));
	p += strlen(prefix);
	for (i = 0; pairs && pairs[i] && pairs[i + 1]; i += 2) {
		if (i)
			*p++ = '&';
		else if (lead)
			*p++ = lead;
		p = encode_into(p, pairs[i]);
		*p++ = '=';
		p = encode_into(p, pairs[i + 1]);
	}
	*p = '\0';
	return out;
}

static TkrSecret *url_with_query(const char *base, const char *const *pairs)
{
	return encode_pairs(base, strchr(base, '?') ? '&' : '?', pairs);
}

static TkrSecret *form_encode(const char *const *pairs)
{
	return encode_pairs("", 0, pairs);
}

static TkrSecret *json_encode(const char *const *pairs)
{
	g_autoptr(json_object) obj = json_object_new_object();
	size_t i;

	for (i = 0; pairs && pairs[i] && pairs[i + 1]; i += 2)
		json_object_object_add(obj, pairs[i],
				       json_object_new_string(pairs[i + 1]));
	return tkr_json_to_secret(obj);
}

static gboolean http_request(const TkrHost *host, const TkrHttpRequest *req,
			     TkrHttpResponse *resp, GError **error)
{
	const TkrAccount *a = IMPL(host)->account;
	TkrHttpOptions options = {
		.ca_file = a->ca_file,
		.timeout_s = a->timeout,
		.connect_timeout_s = MIN(a->timeout, 10),
		.body_max = TKR_HTTP_BODY_MAX,
		.trace_fd = tkr_trace_want(&tkr_trace_http) ?
			    tkr_trace_http.fd : -1,
		.secret_new = tkr_secret_new,
		.secret_free = tkr_secret_free,
	};

	return tkr_http_request(&options, req, resp, error);
}

static TkrJson *json_parse(const char *text, gsize len, GError **error)
{
	return (TkrJson *)tkr_json_parse(text, len, error);
}

static void json_free(TkrJson *root)
{
	json_object_put((json_object *)root);
}

static const TkrJson *json_object_member(const TkrJson *node, const char *key)
{
	json_object *v = NULL;

	if (!node || !json_object_is_type((json_object *)node, json_type_object) ||
	    !json_object_object_get_ex((json_object *)node, key, &v) ||
	    !json_object_is_type(v, json_type_object))
		return NULL;
	return (const TkrJson *)v;
}

static gboolean json_has(const TkrJson *node, const char *key)
{
	return node &&
	       json_object_is_type((json_object *)node, json_type_object) &&
	       json_object_object_get_ex((json_object *)node, key, NULL);
}

static TkrSecret *json_token(const TkrJson *node, const char *key,
			     GError **error)
{
	return tkr_json_token((json_object *)node, key, error);
}

static char *json_string(const TkrJson *node, const char *key, GError **error)
{
	return tkr_json_string((json_object *)node, key, error);
}

static gboolean json_int(const TkrJson *node, const char *key, gint64 min,
			 gint64 max, gboolean digits_ok, gint64 *out,
			 GError **error)
{
	return tkr_json_int((json_object *)node, key, min, max, digits_ok, out,
			    error);
}

static void host_trace(const TkrHost *host, const char *fmt, ...)
{
	va_list ap;

	if (!tkr_trace_want(&tkr_trace_provider))
		return;
	va_start(ap, fmt);
	/* No file:line of ours; name the module instead. */
	tkr_trace_vprintf_fl(IMPL(host)->account->provider, 0,
			     &tkr_trace_provider, fmt, ap);
	va_end(ap);
}

static gint64 now_s(void)
{
	return g_get_real_time() / G_USEC_PER_SEC;
}

static gint64 now_ms(void)
{
	return g_get_real_time() / 1000;
}

static void sleep_ms(guint ms)
{
	g_usleep((gulong)MIN(ms, 10000) * 1000);
}

/* Read one line from fd into a secret, echo off if it is a terminal. */
static TkrSecret *read_line(int fd, gboolean secret, GError **error)
{
	g_autoptr(TkrSecret) line = tkr_secret_new(TKR_TOKEN_MAX);
	struct termios saved, quiet;
	gboolean restore = FALSE;
	size_t n = 0;
	char c;

	if (secret && isatty(fd) && !tcgetattr(fd, &saved)) {
		quiet = saved;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		restore = !tcsetattr(fd, TCSAFLUSH, &quiet);
	}
	for (;;) {
		ssize_t r = read(fd, &c, 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || c == '\n')
			break;
		if (n >= TKR_TOKEN_MAX) {
			n = 0;
			g_set_error_literal(error, TKR_ERROR, TKR_ERROR_USAGE,
					    "answer too long");
			break;
		}
		line[n++] = c;
	}
	if (restore) {
		tcsetattr(fd, TCSAFLUSH, &saved);
		g_printerr("\n");
	}
	if (error && *error)
		return NULL;
	if (n && line[n - 1] == '\r')
		n--;
	return tkr_secret_dup_len(line, n);
}

static TkrSecret *converse(const TkrHost *host, const char *key,
			   const char *prompt, TkrFieldFlags flags,
			   GError **error)
{
	TkrHostImpl *h = IMPL(host);
	TkrSecret *value;

	if (!h->conversing) {
		g_set_error_literal(error, TKR_ERROR, TKR_ERROR_USAGE,
				    "no conversation outside login");
		return NULL;
	}
	if (h->answers) {
		value = g_hash_table_lookup(h->answers, key);
		if (value)
			return tkr_secret_dup(value);
	} else {
		g_printerr("%s%s: ", prompt,
			   flags & TKR_FIELD_OPTIONAL ? " (optional)" : "");
		value = read_line(STDIN_FILENO, flags & TKR_FIELD_SECRET,
				  error);
		if (!value)
			return NULL;
		if (*value)
			return value;
		tkr_secret_free(value);
	}
	if (!(flags & TKR_FIELD_OPTIONAL))
		g_set_error(error, TKR_ERROR, TKR_ERROR_USAGE,
			    "login needs '%s'", key);
	return NULL;
}

static const char *extra(const TkrTokenSet *set, const char *key)
{
	return set->extras ? g_hash_table_lookup(set->extras, key) : NULL;
}

static void set_extra(TkrTokenSet *set, const char *key, const char *value)
{
	if (!value)
		return;
	if (!set->extras)
		set->extras = tkr_extras_new();
	g_hash_table_replace(set->extras, g_strdup(key), tkr_secret_dup(value));
}

static gboolean url_ok(const char *url, GError **error)
{
	g_autoptr(GUri) uri = url ? tkr_config_parse_url(url, error) : NULL;

	if (!url)
		g_set_error_literal(error, TKR_ERROR, TKR_ERROR_CONFIG,
				    "no URL");
	return uri != NULL;
}

static void inform(const TkrHost *host, const char *text)
{
	g_autofree char *line = NULL;

	if (!IMPL(host)->conversing)
		return;
	line = tkr_error_sanitize(text, 2000);
	g_printerr("%s\n", line);
}

static char *sanitize(const char *text, gsize max)
{
	return tkr_error_sanitize(text, max);
}

void tkr_host_init(TkrHostImpl *h, const TkrAccount *account)
{
	memset(h, 0, sizeof(*h));
	h->account = account;
	h->host.abi = TKR_PROVIDER_ABI;
	h->host.account = account->name;
	h->host.url = account->url;
	h->host.http_request = http_request;
	h->host.http_response_clear = tkr_http_response_clear;
	h->host.url_with_query = url_with_query;
	h->host.form_encode = form_encode;
	h->host.json_encode = json_encode;
	h->host.json_parse = json_parse;
	h->host.json_free = json_free;
	h->host.json_object = json_object_member;
	h->host.json_has = json_has;
	h->host.json_token = json_token;
	h->host.json_string = json_string;
	h->host.json_int = json_int;
	h->host.secret_dup = tkr_secret_dup;
	h->host.secret_free = tkr_secret_free;
	h->host.wipe = tkr_memzero;
	h->host.secret_equal = tkr_secret_equal;
	h->host.sanitize = sanitize;
	h->host.trace = host_trace;
	h->host.converse = converse;
	h->host.inform = inform;
	h->host.now = now_s;
	h->host.now_ms = now_ms;
	h->host.sleep_ms = sleep_ms;
	h->host.token_set_clear = tkr_token_set_release;
	h->host.extra = extra;
	h->host.set_extra = set_extra;
	h->host.url_ok = url_ok;
}

void tkr_host_begin_conversation(TkrHostImpl *h, GHashTable *answers)
{
	g_clear_pointer(&h->answers, g_hash_table_unref);
	h->answers = answers;
	h->conversing = TRUE;
}

void tkr_host_release(TkrHostImpl *h)
{
	g_clear_pointer(&h->answers, g_hash_table_unref);
	memset(h, 0, sizeof(*h));
}
