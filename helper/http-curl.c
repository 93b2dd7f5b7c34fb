/*
 * tokenring-http.so: the HTTP module, and the only file that includes curl.
 *
 * The core dlopens this module on the first request (http.h) and calls
 * tkr_http_v1.perform.  All of SECURITY.md section 3 is decided here, in
 * one place:
 *  - the URL policy (S1): https, or plain http to a loopback literal or
 *    "localhost" only, never userinfo.  GUri checks it before any socket
 *    exists, libcurl's own parser must read the URL the same way, and for
 *    plain http the open-socket callback refuses every address outside
 *    127.0.0.0/8 and ::1;
 *  - no redirects (S2): any final 3xx is an error and its body is not read;
 *  - verification always on, TLS 1.2 at least, ca_file adds anchors;
 *  - a connect and a total time limit (S4), a size cap enforced while
 *    receiving (S5), no decompression;
 *  - secrets: libcurl's frees wipe (curl_global_init_mem), the response is
 *    collected in the core's secret memory, and the trace always redacts
 *    (STYLE.md section 7).
 */
#include "config.h"

#include "http.h"

#include <curl/curl.h>

#include <arpa/inet.h>
#include <errno.h>
#include <malloc.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define REDACTED "<redacted>"
/* How much of a body a trace shows, and of libcurl's text a message. */
#define TRACE_BODY_MAX 4096
#define MESSAGE_MAX 200
#define RETRY_AFTER_MAX 256
#define CA_FILE_MAX (1024 * 1024)
#define CA_BUNDLE_MAX (16 * 1024 * 1024)
#define FALLBACK_CA_BUNDLE "/etc/ssl/certs/ca-certificates.crt"

#ifdef PACKAGE_VERSION
#define USER_AGENT "tokenring/" PACKAGE_VERSION
#else
#define USER_AGENT "tokenring"
#endif

G_DEFINE_AUTOPTR_CLEANUP_FUNC(CURLU, curl_url_cleanup)

/*
 * Names whose values never reach a trace: JSON keys, form fields and
 * "name: value" pairs in bodies and in libcurl's text (matched without
 * regard to case), and request or response headers.
 */
static const char *const secret_names[] = {
	"refresh_token", "access_token", "accessToken", "refreshToken",
	"token", "id_token", "client_secret", "appSecurity", "appKey",
	"password", "code",
	/* Beyond STYLE.md's list: the other secrets of PROVIDERS.md. */
	"app_key", "appSecret", "app_secret", "code_verifier", "powerCode",
	"power_code", "secret",
	/* Headers, also when a server echoes them in a body. */
	"Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie",
	"X-Api-Signature", "X-Api-Key",
	NULL
};

/* A header whose name contains one of these is redacted as well. */
static const char *const secret_header_parts[] = {
	"auth", "token", "secret", "key", "cookie", "signature", "password",
	"session", NULL
};

struct transfer {
	const TkrHttpOptions *options;	/* borrowed */
	const TkrHttpRequest *request;	/* borrowed */
	CURL *curl;
	CURLU *url;			/* libcurl's parse of request->url */
	struct curl_slist *headers;
	char *shown_url;		/* scheme://host:port/path, no query */
	gboolean had_query;
	gboolean loopback_only;		/* plain http: 127/8 and ::1 */
	gboolean refused_address;	/* by open_socket() */
	gboolean too_big;
	gboolean redirect;
	gboolean body_traced;
	gsize body_max;
	TkrSecret *body;		/* from options->secret_new */
	gsize body_len;
	gsize body_cap;
	char *retry_after;
	char *ca_bundle;		/* system anchors, then ca_file */
	gsize ca_bundle_len;
	char errbuf[CURL_ERROR_SIZE];
};

static void wipe(void *p, size_t len)
{
	if (!p || !len)
		return;
#if defined(HAVE_MEMSET_EXPLICIT)
	memset_explicit(p, 0, len);
#elif defined(HAVE_EXPLICIT_BZERO) || defined(__GLIBC__)
	explicit_bzero(p, len);
#else
	memset(p, 0, len);
	__asm__ __volatile__("" : : "r"(p) : "memory");
#endif
}

static void wipe_free(char *s)
{
	if (s)
		wipe(s, strlen(s));
	g_free(s);
}

static void string_wipe_free(GString *s)
{
	wipe(s->str, s->allocated_len);
	g_string_free(s, TRUE);
}

/*
 * libcurl's allocator (S20): every block it frees, and the old block of
 * every realloc, is wiped first, so that its copies of headers, of URLs
 * with Ekuaibao's query tokens and of received data do not linger on the
 * heap.  OpenSSL allocates on its own and is not covered (LK-6).
 */
static void *wiping_malloc(size_t size)
{
	return malloc(size);
}

static void wiping_free(void *p)
{
	if (!p)
		return;
	wipe(p, malloc_usable_size(p));
	free(p);
}

static void *wiping_realloc(void *p, size_t size)
{
	size_t old;
	void *q;

	if (!p)
		return malloc(size);
	q = malloc(size ? size : 1);
	if (!q)
		return NULL;
	old = malloc_usable_size(p);
	memcpy(q, p, old < size ? old : size);
	wiping_free(p);
	return q;
}

static char *wiping_strdup(const char *s)
{
	size_t len = strlen(s) + 1;
	char *p = malloc(len);

	if (p)
		memcpy(p, s, len);
	return p;
}

static void *wiping_calloc(size_t nmemb, size_t size)
{
	return calloc(nmemb, size);
}

static gboolean global_init(GError **error)
{
	static gboolean done;
	const char *v;
	CURLcode rc;

	if (done)
		return TRUE;
	/*
	 * Debian's libcurl 7.88 opens $SSLKEYLOGFILE in curl_global_init and
	 * writes every TLS session's keys to it (observed), which would let
	 * anyone with the file and a capture read the tokens.  Nothing turns
	 * that off afterwards, and unsetenv() could race GDBus's worker
	 * thread, so refuse.
	 */
	v = g_getenv("SSLKEYLOGFILE");
	if (v && *v) {
		g_set_error_literal(error, TKR_PROVIDER_ERROR,
				    TKR_PROVIDER_ERROR_CONFIG,
				    "refusing to make requests while "
				    "SSLKEYLOGFILE is set: libcurl would write "
				    "the TLS session keys to it");
		return FALSE;
	}
	/*
	 * Calls come from one thread (provider.h).  The callbacks only take
	 * when this is the process's first curl_global_init, which holds:
	 * nothing else in tokenring links libcurl.
	 */
	rc = curl_global_init_mem(CURL_GLOBAL_DEFAULT, wiping_malloc,
				  wiping_free, wiping_realloc, wiping_strdup,
				  wiping_calloc);
	if (rc != CURLE_OK) {
		g_set_error(error, TKR_PROVIDER_ERROR,
			    TKR_PROVIDER_ERROR_NETWORK,
			    "could not initialise libcurl: %s",
			    curl_easy_strerror(rc));
		return FALSE;
	}
	done = TRUE;
	return TRUE;
}

/* Redaction ---------------------------------------------------------- */

static gboolean is_name_char(char c)
{
	return g_ascii_isalnum(c) || c == '_' || c == '-';
}

static gboolean is_secret_name(const char *s, gsize len)
{
	const char *const *n;

	for (n = secret_names; *n; n++)
		if (strlen(*n) == len && !g_ascii_strncasecmp(*n, s, len))
			return TRUE;
	return FALSE;
}

static gboolean contains_nocase(const char *s, gsize len, const char *needle)
{
	gsize n = strlen(needle), i;

	for (i = 0; i + n <= len; i++)
		if (!g_ascii_strncasecmp(s + i, needle, n))
			return TRUE;
	return FALSE;
}

static gboolean is_secret_header(const char *name, gsize len)
{
	const char *const *p;

	if (is_secret_name(name, len))
		return TRUE;
	for (p = secret_header_parts; *p; p++)
		if (contains_nocase(name, len, *p))
			return TRUE;
	return FALSE;
}

static gboolean ends_bare_value(char c)
{
	return c == ',' || c == '&' || c == ';' || c == '}' || c == ']' ||
	       c == '"' || c == '\'' || c == '\r' || c == '\n';
}

/*
 * Append the redacted form of the value starting at s[i] and return the
 * index just after it.  A value is a JSON string (kept quoted), a string
 * inside a string (\"...\", as in a JSON-encoded JSON document), a
 * single-quoted string, a JSON object or array (balanced), or anything
 * else up to a separator.  An unterminated value runs to the end.
 */
static gsize redact_value(GString *out, const char *s, gsize len, gsize i)
{
	gboolean in_string = FALSE, escaped = FALSE;
	int depth = 0;
	gsize j;

	if (i < len && s[i] == '"') {
		for (j = i + 1; j < len; j++) {
			if (s[j] == '\\')
				j++;
			else if (s[j] == '"')
				break;
		}
		g_string_append(out, "\"" REDACTED);
		if (j >= len)
			return len;
		g_string_append_c(out, '"');
		return j + 1;
	}
	if (i + 1 < len && s[i] == '\\' && s[i + 1] == '"') {
		/*
		 * Decode the outer escapes (\\ is a backslash, \" a quote)
		 * and end at the first inner quote that is not escaped.
		 */
		for (j = i + 2; j < len; j++) {
			if (s[j] != '\\' || j + 1 >= len) {
				escaped = FALSE;
				continue;
			}
			j++;
			if (s[j] == '"' && !escaped)
				break;
			escaped = s[j] == '\\' ? !escaped : FALSE;
		}
		g_string_append(out, "\\\"" REDACTED);
		if (j >= len)
			return len;
		g_string_append(out, "\\\"");
		return j + 1;
	}
	if (i < len && s[i] == '\'') {
		for (j = i + 1; j < len && s[j] != '\''; j++)
			;
		g_string_append(out, "'" REDACTED);
		if (j >= len)
			return len;
		g_string_append_c(out, '\'');
		return j + 1;
	}
	if (i < len && (s[i] == '{' || s[i] == '[')) {
		for (j = i; j < len; j++) {
			if (in_string) {
				if (escaped)
					escaped = FALSE;
				else if (s[j] == '\\')
					escaped = TRUE;
				else if (s[j] == '"')
					in_string = FALSE;
			} else if (s[j] == '"') {
				in_string = TRUE;
			} else if (s[j] == '{' || s[j] == '[') {
				depth++;
			} else if ((s[j] == '}' || s[j] == ']') && !--depth) {
				break;
			}
		}
		g_string_append(out, REDACTED);
		return j >= len ? len : j + 1;
	}
	for (j = i; j < len && !ends_bare_value(s[j]); j++)
		;
	g_string_append(out, REDACTED);
	return j;
}

/*
 * Append s with the value of every secret name redacted: JSON members
 * ("token": "..."), members of JSON inside a JSON string, form fields
 * (token=...), and "name: value" text.
 */
static void redact_pairs(GString *out, const char *s, gsize len)
{
	gsize i = 0, j, k;

	while (i < len) {
		if (!is_name_char(s[i])) {
			g_string_append_c(out, s[i++]);
			continue;
		}
		for (j = i; j < len && is_name_char(s[j]); j++)
			;
		g_string_append_len(out, s + i, j - i);
		if (!is_secret_name(s + i, j - i)) {
			i = j;
			continue;
		}
		k = j;
		if (k < len && (s[k] == '"' || s[k] == '\''))
			k++;
		else if (k + 1 < len && s[k] == '\\' && s[k + 1] == '"')
			k += 2;
		while (k < len && (s[k] == ' ' || s[k] == '\t'))
			k++;
		if (k >= len || (s[k] != ':' && s[k] != '=')) {
			i = j;
			continue;
		}
		for (k++; k < len && (s[k] == ' ' || s[k] == '\t'); k++)
			;
		g_string_append_len(out, s + j, k - j);
		i = redact_value(out, s, len, k);
	}
}

static gboolean ends_url(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '"' ||
	       c == '\'' || c == '<' || c == '>';
}

/*
 * Append free text (libcurl's messages, header values, request lines)
 * with every query string and every URL userinfo redacted, then with the
 * secret names' values redacted.
 */
static void redact_text(GString *out, const char *s, gsize len)
{
	GString *tmp;
	gsize i, j, at, bound = len + 1;

	for (i = 0; i < len; i++)
		if (s[i] == '?' || s[i] == '@')
			bound += sizeof(REDACTED);
	/* Sized once: tmp may hold secrets and must not be reallocated. */
	tmp = g_string_sized_new(bound);
	i = 0;
	while (i < len) {
		if (s[i] == '?' && i + 1 < len && !ends_url(s[i + 1])) {
			g_string_append(tmp, "?" REDACTED);
			for (i++; i < len && !ends_url(s[i]) && s[i] != '#';
			     i++)
				;
			continue;
		}
		if (s[i] == ':' && i + 2 < len && s[i + 1] == '/' &&
		    s[i + 2] == '/') {
			g_string_append(tmp, "://");
			i += 3;
			at = 0;
			for (j = i; j < len && !ends_url(s[j]) && s[j] != '/' &&
			     s[j] != '?' && s[j] != '#'; j++)
				if (s[j] == '@')
					at = j;
			if (at) {
				g_string_append(tmp, REDACTED "@");
				i = at + 1;
			}
			continue;
		}
		g_string_append_c(tmp, s[i++]);
	}
	redact_pairs(out, tmp->str, tmp->len);
	string_wipe_free(tmp);
}

/* A header line: a secret header's whole value goes. */
static void redact_header(GString *out, const char *s, gsize len)
{
	const char *colon = memchr(s, ':', len);
	gsize name_len;

	if (!colon || colon == s) {
		redact_text(out, s, len);
		return;
	}
	name_len = colon - s;
	while (name_len && (s[name_len - 1] == ' ' || s[name_len - 1] == '\t'))
		name_len--;
	g_string_append_len(out, s, colon - s + 1);
	if (is_secret_header(s, name_len)) {
		g_string_append(out, " " REDACTED);
		return;
	}
	redact_text(out, colon + 1, len - (colon - s) - 1);
}

/* Printable ASCII as is; everything else as \xHH, so a line stays one. */
static void append_escaped(GString *out, const char *s, gsize len)
{
	gsize i;

	for (i = 0; i < len; i++) {
		if (s[i] >= 0x20 && s[i] < 0x7f)
			g_string_append_c(out, s[i]);
		else
			g_string_append_printf(out, "\\x%02x",
					       (unsigned char)s[i]);
	}
}

/* Returns: (transfer full) libcurl's text fit for an error message. */
static char *clean_text(const char *s)
{
	GString *red = g_string_new(NULL);
	GString *out = g_string_new(NULL);
	gsize len = strlen(s);

	while (len && (s[len - 1] == '\n' || s[len - 1] == '\r'))
		len--;
	redact_text(red, s, len);
	append_escaped(out, red->str, MIN(red->len, MESSAGE_MAX));
	if (red->len > MESSAGE_MAX)
		g_string_append(out, "...");
	string_wipe_free(red);
	return g_string_free(out, FALSE);
}

/* Trace -------------------------------------------------------------- */

#define trace(t, ...) trace_fl((t), __LINE__, __VA_ARGS__)

static void trace_fl(const struct transfer *t, int line, const char *fmt,
		     ...) G_GNUC_PRINTF(3, 4);

static void trace_fl(const struct transfer *t, int line, const char *fmt, ...)
{
	g_autoptr(GDateTime) now = NULL;
	GString *buf;
	const char *p;
	gsize left;
	ssize_t n;
	va_list ap;

	if (t->options->trace_fd < 0)
		return;
	now = g_date_time_new_now_local();
	buf = g_string_new(NULL);
	g_string_append_printf(buf, "%02d:%02d:%02d.%06d http-curl.c:%d ",
			       g_date_time_get_hour(now),
			       g_date_time_get_minute(now),
			       g_date_time_get_second(now),
			       g_date_time_get_microsecond(now), line);
	va_start(ap, fmt);
	g_string_append_vprintf(buf, fmt, ap);
	va_end(ap);
	g_string_append_c(buf, '\n');
	/* One write per line when possible, so helpers do not interleave. */
	for (p = buf->str, left = buf->len; left; p += n, left -= n) {
		n = write(t->options->trace_fd, p, left);
		if (n < 0 && errno == EINTR) {
			n = 0;
			continue;
		}
		if (n <= 0)
			break;
	}
	string_wipe_free(buf);
}

enum line_kind { LINE_TEXT, LINE_HEADER, LINE_BODY };

/* Trace one line of libcurl's, redacted for its kind and escaped. */
static void trace_redacted(const struct transfer *t, int line,
			   const char *prefix, enum line_kind kind,
			   const char *s, gsize len)
{
	GString *red = g_string_new(NULL);
	GString *esc = g_string_new(NULL);

	if (kind == LINE_HEADER)
		redact_header(red, s, len);
	else if (kind == LINE_BODY)
		redact_pairs(red, s, len);
	else
		redact_text(red, s, len);
	append_escaped(esc, red->str, MIN(red->len, TRACE_BODY_MAX));
	if (kind == LINE_BODY)
		trace_fl(t, line, "%sbody (%zu bytes): %s%s", prefix, len,
			 esc->str, red->len > TRACE_BODY_MAX ? "..." : "");
	else
		trace_fl(t, line, "%s%s", prefix, esc->str);
	string_wipe_free(red);
	string_wipe_free(esc);
}

/*
 * libcurl's header blocks and messages, line by line.  A block of request
 * headers starts with the request line, whose target loses its query like
 * any URL in free text; response headers come one line at a time.
 */
static void trace_lines(const struct transfer *t, int line,
			const char *prefix, gboolean headers,
			gboolean request, const char *s, gsize len)
{
	gboolean first = TRUE, header;
	const char *end = s + len, *nl;
	gsize n;

	while (s < end) {
		nl = memchr(s, '\n', end - s);
		n = (nl ? nl : end) - s;
		while (n && (s[n - 1] == '\r' || s[n - 1] == '\n'))
			n--;
		header = headers && !(request && first) &&
			 (n < 5 || g_ascii_strncasecmp(s, "HTTP/", 5));
		if (n)
			trace_redacted(t, line, prefix,
				       header ? LINE_HEADER : LINE_TEXT, s, n);
		first = FALSE;
		s = nl ? nl + 1 : end;
	}
}

/*
 * The only debug callback, and CURLOPT_VERBOSE is only ever set with it.
 * Bodies are traced whole rather than per chunk, so that a value split
 * across two chunks is still redacted: the request body from the request
 * on its first DATA_OUT, the response body from the capped buffer after
 * the transfer.  TLS records are never traced.
 */
static int debug_cb(CURL *curl, curl_infotype type, char *data, size_t size,
		    void *clientp)
{
	struct transfer *t = clientp;

	switch (type) {
	case CURLINFO_TEXT:
		trace_lines(t, __LINE__, "* ", FALSE, FALSE, data, size);
		break;
	case CURLINFO_HEADER_OUT:
		trace_lines(t, __LINE__, "> ", TRUE, TRUE, data, size);
		break;
	case CURLINFO_HEADER_IN:
		trace_lines(t, __LINE__, "< ", TRUE, FALSE, data, size);
		break;
	case CURLINFO_DATA_OUT:
		if (!t->body_traced && t->request->body) {
			t->body_traced = TRUE;
			trace_redacted(t, __LINE__, "> ", LINE_BODY,
				       t->request->body, t->request->body_len);
		}
		break;
	default:
		break;
	}
	return 0;
}

/* The URL policy ----------------------------------------------------- */

static gboolean is_loopback_literal(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return FALSE;
}

static gboolean refuse(GError **error, const char *message)
{
	g_set_error_literal(error, TKR_PROVIDER_ERROR,
			    TKR_PROVIDER_ERROR_CONFIG, message);
	return FALSE;
}

/* Whether libcurl's parse agrees with GUri's on everything the policy used. */
static gboolean curl_agrees(CURLU *cu, GUri *uri)
{
	char *scheme = NULL, *host = NULL, *port = NULL, *part = NULL;
	const char *h;
	gsize hlen;
	gboolean ok = FALSE;
	CURLUcode rc;

	if (curl_url_get(cu, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(cu, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		goto out;
	if (g_ascii_strcasecmp(scheme, g_uri_get_scheme(uri)))
		goto out;
	h = host;
	hlen = strlen(h);
	if (hlen >= 2 && h[0] == '[' && h[hlen - 1] == ']') {
		h++;
		hlen -= 2;
	}
	if (strlen(g_uri_get_host(uri)) != hlen ||
	    g_ascii_strncasecmp(h, g_uri_get_host(uri), hlen))
		goto out;
	if (curl_url_get(cu, CURLUPART_USER, &part, 0) != CURLUE_NO_USER ||
	    curl_url_get(cu, CURLUPART_PASSWORD, &part, 0) !=
	    CURLUE_NO_PASSWORD ||
	    curl_url_get(cu, CURLUPART_OPTIONS, &part, 0) != CURLUE_NO_OPTIONS)
		goto out;
	rc = curl_url_get(cu, CURLUPART_PORT, &port, 0);
	if (g_uri_get_port(uri) < 0)
		ok = rc == CURLUE_NO_PORT;
	else
		ok = rc == CURLUE_OK &&
		     g_ascii_strtoll(port, NULL, 10) == g_uri_get_port(uri);
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(part);
	return ok;
}

/*
 * S1, before any socket: https, or http to a loopback host; no userinfo.
 * GUri parses the URL without its query (which may hold secrets, and GUri
 * does not wipe), then libcurl must read the whole URL the same way, so
 * that no parser difference can send the request elsewhere.
 */
static gboolean check_url(struct transfer *t, GError **error)
{
	const char *url = t->request->url, *p;
	g_autoptr(GUri) uri = NULL;
	g_autoptr(CURLU) cu = NULL;
	const char *scheme, *host;
	char *head;

	if (!url || !*url)
		return refuse(error, "refusing an empty url");
	for (p = url; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f)
			return refuse(error, "refusing a url with spaces or "
				      "control characters");
	head = g_strndup(url, strcspn(url, "?#"));
	t->had_query = url[strcspn(url, "?#")] == '?';
	uri = g_uri_parse(head, G_URI_FLAGS_ENCODED, NULL);
	wipe_free(head);
	if (!uri)
		return refuse(error, "refusing a url that does not parse");
	scheme = g_uri_get_scheme(uri);
	host = g_uri_get_host(uri);
	if (!g_ascii_strcasecmp(scheme, "http"))
		t->loopback_only = TRUE;
	else if (g_ascii_strcasecmp(scheme, "https"))
		return refuse(error, "refusing a url that is not https "
			      "(or http to a loopback host)");
	if (g_uri_get_userinfo(uri))
		return refuse(error, "refusing a url with a user name or "
			      "password in it");
	if (!host || !*host)
		return refuse(error, "refusing a url without a host");
	if (t->loopback_only && g_ascii_strcasecmp(host, "localhost") &&
	    !is_loopback_literal(host))
		return refuse(error, "refusing plain http to a host that is "
			      "not loopback");

	cu = curl_url();
	if (!cu || curl_url_set(cu, CURLUPART_URL, url, 0) != CURLUE_OK)
		return refuse(error, "refusing a url that libcurl cannot "
			      "parse");
	if (!curl_agrees(cu, uri))
		return refuse(error, "refusing a url that parsers read "
			      "differently");
	t->url = g_steal_pointer(&cu);
	t->shown_url = g_uri_join(G_URI_FLAGS_ENCODED, scheme, NULL, host,
				  g_uri_get_port(uri), g_uri_get_path(uri),
				  NULL, NULL);
	return TRUE;
}

static gboolean is_loopback_sockaddr(const struct curl_sockaddr *a)
{
	struct sockaddr_in in4;
	struct sockaddr_in6 in6;

	if (a->family == AF_INET && a->addrlen >= sizeof(in4)) {
		memcpy(&in4, &a->addr, sizeof(in4));
		return (ntohl(in4.sin_addr.s_addr) >> 24) == 127;
	}
	if (a->family == AF_INET6 && a->addrlen >= sizeof(in6)) {
		memcpy(&in6, &a->addr, sizeof(in6));
		return IN6_IS_ADDR_LOOPBACK(&in6.sin6_addr);
	}
	return FALSE;
}

/*
 * Every connection goes through here.  For plain http, an address outside
 * 127.0.0.0/8 and ::1 gets no socket, whatever "localhost" resolved to.
 */
static curl_socket_t open_socket(void *clientp, curlsocktype purpose,
				 struct curl_sockaddr *address)
{
	struct transfer *t = clientp;

	if (t->loopback_only && !is_loopback_sockaddr(address)) {
		t->refused_address = TRUE;
		trace(t, "refusing to connect to an address that is not "
		      "loopback for plain http");
		return CURL_SOCKET_BAD;
	}
	return socket(address->family, address->socktype | SOCK_CLOEXEC,
		      address->protocol);
}

/* Receiving ---------------------------------------------------------- */

static void grow_body(struct transfer *t, gsize need)
{
	const TkrHttpOptions *o = t->options;
	gsize cap = t->body_cap ? t->body_cap : 1;
	TkrSecret *bigger;

	while (cap < need)
		cap = cap > t->body_max / 2 ? t->body_max : cap * 2;
	/* Secrets are never realloc'd: allocate, copy, wipe the old one. */
	bigger = o->secret_new(cap);
	memcpy(bigger, t->body, t->body_len);
	o->secret_free(t->body);
	t->body = bigger;
	t->body_cap = cap;
}

/*
 * The cap (S5): MAXFILESIZE only catches an announced length, so this
 * returns short, which aborts with CURLE_WRITE_ERROR, as soon as the body
 * would pass body_max.  A redirect's body is not even read.
 */
static size_t write_cb(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct transfer *t = userdata;
	size_t len = size * nmemb;
	long status = 0;

	if (curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status) ==
	    CURLE_OK && status >= 300 && status < 400) {
		t->redirect = TRUE;
		return 0;
	}
	if (len > t->body_max - t->body_len) {
		t->too_big = TRUE;
		return 0;
	}
	if (t->body_len + len > t->body_cap)
		grow_body(t, t->body_len + len);
	memcpy(t->body + t->body_len, data, len);
	t->body_len += len;
	t->body[t->body_len] = '\0';
	return len;
}

static size_t header_cb(char *data, size_t size, size_t nitems, void *userdata)
{
	struct transfer *t = userdata;
	size_t len = size * nitems;
	const char *v;
	gsize n;

	/* A new status line starts a new response (after a 100, say). */
	if (len >= 5 && !memcmp(data, "HTTP/", 5)) {
		g_clear_pointer(&t->retry_after, g_free);
		return len;
	}
	if (len < 12 || g_ascii_strncasecmp(data, "Retry-After:", 12))
		return len;
	v = data + 12;
	n = len - 12;
	while (n && (*v == ' ' || *v == '\t')) {
		v++;
		n--;
	}
	while (n && (v[n - 1] == ' ' || v[n - 1] == '\t' || v[n - 1] == '\r' ||
		     v[n - 1] == '\n'))
		n--;
	g_free(t->retry_after);
	t->retry_after = g_strndup(v, MIN(n, RETRY_AFTER_MAX));
	return len;
}

/* Setting up --------------------------------------------------------- */

/*
 * ca_file adds trust anchors and never replaces the system's (S1).  With
 * OpenSSL, libcurl 7.88 lets CURLOPT_CAINFO_BLOB override CURLOPT_CAINFO
 * rather than add to it, and CURLOPT_SSL_CTX_FUNCTION would make this
 * module include and link OpenSSL itself.  So the module builds the
 * combined PEM bundle: libcurl's system bundle (curl_version_info's cainfo,
 * Debian's path as a fallback), then ca_file, handed to libcurl in memory
 * as CURLOPT_CAINFO_BLOB.  In memory rather than in a temporary file,
 * nothing is left on disk and nothing can swap the file between writing
 * and loading.  CURLOPT_CAPATH (the hashed system directory) stays as
 * libcurl set it, so it too still counts.
 */
static gboolean load_ca_bundle(struct transfer *t, GError **error)
{
	const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
	const char *system = v->cainfo ? v->cainfo : FALLBACK_CA_BUNDLE;
	g_autofree char *extra = NULL, *sys = NULL, *shown = NULL;
	gsize extra_len = 0, sys_len = 0;
	GString *bundle;

	shown = clean_text(t->options->ca_file);
	if (!g_file_get_contents(t->options->ca_file, &extra, &extra_len,
				 NULL) || extra_len > CA_FILE_MAX ||
	    !g_strstr_len(extra, extra_len, "-----BEGIN CERTIFICATE-----")) {
		g_set_error(error, TKR_PROVIDER_ERROR,
			    TKR_PROVIDER_ERROR_CONFIG,
			    "ca_file '%s' is not a readable PEM file of "
			    "certificates", shown);
		return FALSE;
	}
	if (!g_file_get_contents(system, &sys, &sys_len, NULL) ||
	    sys_len > CA_BUNDLE_MAX) {
		trace(t, "no system CA bundle at '%s'; the system anchors "
		      "are those of CAPATH only", system);
		g_clear_pointer(&sys, g_free);
		sys_len = 0;
	}
	bundle = g_string_sized_new(sys_len + extra_len + 2);
	g_string_append_len(bundle, sys ? sys : "", sys_len);
	g_string_append_c(bundle, '\n');
	g_string_append_len(bundle, extra, extra_len);
	t->ca_bundle_len = bundle->len;
	t->ca_bundle = g_string_free(bundle, FALSE);
	trace(t, "trusting the system anchors (%s) and those of '%s'",
	      system, shown);
	return TRUE;
}

static gboolean has_header(const char *const *headers, const char *name)
{
	gsize n = strlen(name);

	for (; headers && *headers; headers++)
		if (!g_ascii_strncasecmp(*headers, name, n) &&
		    (*headers)[n] == ':')
			return TRUE;
	return FALSE;
}

static gboolean append_header(struct transfer *t, const char *line)
{
	struct curl_slist *l = curl_slist_append(t->headers, line);

	if (!l)
		return FALSE;
	t->headers = l;
	return TRUE;
}

static gboolean build_headers(struct transfer *t, GError **error)
{
	const TkrHttpRequest *r = t->request;
	const char *const *h;
	char *line;
	gboolean ok;

	for (h = r->headers; h && *h; h++) {
		if (strpbrk(*h, "\r\n") || !strchr(*h, ':') || **h == ':')
			return refuse(error, "refusing a malformed request "
				      "header");
		if (!append_header(t, *h))
			goto oom;
	}
	if (r->content_type) {
		if (strpbrk(r->content_type, "\r\n"))
			return refuse(error, "refusing a malformed content "
				      "type");
		line = g_strconcat("Content-Type: ", r->content_type, NULL);
		ok = append_header(t, line);
		wipe_free(line);
		if (!ok)
			goto oom;
	} else if (!has_header(r->headers, "Content-Type") &&
		   !append_header(t, "Content-Type:")) {
		/* Without it libcurl would claim a form for every POST. */
		goto oom;
	}
	if (!append_header(t, "Expect:"))
		goto oom;
	return TRUE;
oom:
	g_set_error_literal(error, TKR_PROVIDER_ERROR,
			    TKR_PROVIDER_ERROR_NETWORK,
			    "out of memory for request headers");
	return FALSE;
}

static gboolean setup(struct transfer *t, GError **error)
{
	const TkrHttpOptions *o = t->options;
	const TkrHttpRequest *r = t->request;
	gboolean post = !strcmp(r->method, "POST");
	const char *failed = NULL;
	struct curl_blob ca = { 0 };
	CURL *c = t->curl;

#define SET(opt, val) \
	do { \
		if (!failed && curl_easy_setopt(c, (opt), (val)) != CURLE_OK) \
			failed = #opt; \
	} while (0)
	SET(CURLOPT_ERRORBUFFER, t->errbuf);
	SET(CURLOPT_CURLU, t->url);
	SET(CURLOPT_PROTOCOLS_STR, t->loopback_only ? "http,https" : "https");
	SET(CURLOPT_REDIR_PROTOCOLS_STR, "https");
	SET(CURLOPT_DEFAULT_PROTOCOL, "https");
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_MAXREDIRS, 0L);
	SET(CURLOPT_UNRESTRICTED_AUTH, 0L);
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	SET(CURLOPT_PROXY_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_PROXY_SSL_VERIFYHOST, 2L);
	SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	if (t->ca_bundle) {
		ca.data = t->ca_bundle;
		ca.len = t->ca_bundle_len;
		ca.flags = CURL_BLOB_COPY;
		SET(CURLOPT_CAINFO_BLOB, &ca);
	}
	/* Plain http stays on this host: never through a proxy. */
	if (t->loopback_only)
		SET(CURLOPT_PROXY, "");
	SET(CURLOPT_OPENSOCKETFUNCTION, open_socket);
	SET(CURLOPT_OPENSOCKETDATA, t);
	SET(CURLOPT_TIMEOUT, (long)o->timeout_s);
	SET(CURLOPT_CONNECTTIMEOUT, (long)o->connect_timeout_s);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_NETRC, (long)CURL_NETRC_IGNORED);
	SET(CURLOPT_HTTP09_ALLOWED, 0L);
	/* No ACCEPT_ENCODING, and no decoding of what a server sends anyway. */
	SET(CURLOPT_HTTP_CONTENT_DECODING, 0L);
	/*
	 * HTTP/1.1: a token request gains nothing from HTTP/2, and HTTP/2
	 * would show its headers to the debug callback as free text.
	 */
	SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)t->body_max);
	SET(CURLOPT_WRITEFUNCTION, write_cb);
	SET(CURLOPT_WRITEDATA, t);
	SET(CURLOPT_HEADERFUNCTION, header_cb);
	SET(CURLOPT_HEADERDATA, t);
	SET(CURLOPT_USERAGENT, USER_AGENT);
	SET(CURLOPT_HTTPHEADER, t->headers);
	if (post) {
		SET(CURLOPT_POST, 1L);
		SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
		/* Never COPYPOSTFIELDS: libcurl's copy could not be wiped. */
		SET(CURLOPT_POSTFIELDS, r->body ? r->body : "");
	} else {
		SET(CURLOPT_HTTPGET, 1L);
	}
	if (o->trace_fd >= 0) {
		SET(CURLOPT_DEBUGFUNCTION, debug_cb);
		SET(CURLOPT_DEBUGDATA, t);
		/* Only with the redacting callback above (STYLE.md 7). */
		SET(CURLOPT_VERBOSE, 1L);
	}
#undef SET
	if (failed) {
		g_set_error(error, TKR_PROVIDER_ERROR,
			    TKR_PROVIDER_ERROR_NETWORK,
			    "libcurl refused the setting %s", failed);
		return FALSE;
	}
	return TRUE;
}

static gboolean check_request(const TkrHttpOptions *o,
			      const TkrHttpRequest *r, GError **error)
{
	if (!o->secret_new || !o->secret_free)
		return refuse(error, "no secret allocator for the response");
	if (!o->timeout_s)
		return refuse(error, "refusing a request without a time "
			      "limit");
	/* The interface says 1 <= connect_timeout_s <= timeout_s. */
	if (!o->connect_timeout_s || o->connect_timeout_s > o->timeout_s)
		return refuse(error, "refusing a connect timeout that is zero "
			      "or longer than the total timeout");
	if (!r->method || (strcmp(r->method, "GET") &&
			   strcmp(r->method, "POST")))
		return refuse(error, "refusing a method other than GET or "
			      "POST");
	if (!strcmp(r->method, "GET") && r->body_len)
		return refuse(error, "refusing a GET request with a body");
	if (!r->body && r->body_len)
		return refuse(error, "refusing a body length without a body");
	return TRUE;
}

/* Performing --------------------------------------------------------- */

static gboolean transfer_failed(struct transfer *t, CURLcode rc,
				GError **error)
{
	g_autofree char *text = NULL;
	long status = 0;

	if (t->redirect) {
		curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
		g_set_error(error, TKR_PROVIDER_ERROR,
			    TKR_PROVIDER_ERROR_NETWORK,
			    "the server answered with a redirect (status %ld); "
			    "redirects are never followed", status);
	} else if (t->too_big || rc == CURLE_FILESIZE_EXCEEDED) {
		g_set_error(error, TKR_PROVIDER_ERROR,
			    TKR_PROVIDER_ERROR_NETWORK,
			    "response larger than %zu bytes", t->body_max);
	} else if (t->refused_address) {
		g_set_error(error, TKR_PROVIDER_ERROR,
			    TKR_PROVIDER_ERROR_NETWORK,
			    "request to '%s' failed: refusing to connect to "
			    "an address that is not loopback for plain http",
			    t->shown_url);
	} else {
		text = clean_text(t->errbuf[0] ? t->errbuf :
				  curl_easy_strerror(rc));
		g_set_error(error, TKR_PROVIDER_ERROR,
			    TKR_PROVIDER_ERROR_NETWORK,
			    "request to '%s' failed: %s", t->shown_url, text);
	}
	return FALSE;
}

static gboolean run(struct transfer *t, TkrHttpResponse *response,
		    GError **error)
{
	const TkrHttpOptions *o = t->options;
	char *content_type = NULL;
	long status = 0;
	CURLcode rc;

	/* First, so that libcurl's URL copies are wiped when freed. */
	if (!global_init(error))
		return FALSE;
	if (!check_request(o, t->request, error) || !check_url(t, error))
		return FALSE;
	trace(t, "%s %s%s (timeout %u s, connect %u s, at most %zu bytes)",
	      t->request->method, t->shown_url,
	      t->had_query ? "?" REDACTED : "", o->timeout_s,
	      o->connect_timeout_s, t->body_max);
	if (o->ca_file && !load_ca_bundle(t, error))
		return FALSE;
	if (!build_headers(t, error))
		return FALSE;
	t->curl = curl_easy_init();
	if (!t->curl) {
		g_set_error_literal(error, TKR_PROVIDER_ERROR,
				    TKR_PROVIDER_ERROR_NETWORK,
				    "could not create a libcurl handle");
		return FALSE;
	}
	if (!setup(t, error))
		return FALSE;
	t->body_cap = MIN(t->body_max, 4096);
	t->body = o->secret_new(t->body_cap);

	rc = curl_easy_perform(t->curl);
	if (rc != CURLE_OK)
		return transfer_failed(t, rc, error);
	curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
	if (t->redirect || (status >= 300 && status < 400)) {
		t->redirect = TRUE;
		return transfer_failed(t, rc, error);
	}
	if (o->trace_fd >= 0 && t->body_len)
		trace_redacted(t, __LINE__, "< ", LINE_BODY, t->body,
			       t->body_len);
	if (curl_easy_getinfo(t->curl, CURLINFO_CONTENT_TYPE,
			      &content_type) != CURLE_OK)
		content_type = NULL;
	trace(t, "status %ld, %zu bytes", status, t->body_len);

	response->status = status;
	response->body = g_steal_pointer(&t->body);
	response->body_len = t->body_len;
	response->content_type = g_strdup(content_type);
	response->retry_after = g_steal_pointer(&t->retry_after);
	return TRUE;
}

static void transfer_release(struct transfer *t)
{
	/* The handle first: libcurl may use errbuf until it is gone. */
	if (t->curl)
		curl_easy_cleanup(t->curl);
	if (t->url)
		curl_url_cleanup(t->url);
	if (t->headers)
		curl_slist_free_all(t->headers);
	if (t->body)
		t->options->secret_free(t->body);
	if (t->ca_bundle)
		wipe(t->ca_bundle, t->ca_bundle_len);
	g_free(t->ca_bundle);
	wipe_free(t->retry_after);
	wipe_free(t->shown_url);
	wipe(t->errbuf, sizeof(t->errbuf));
}

static gboolean perform(const TkrHttpOptions *options,
			const TkrHttpRequest *request,
			TkrHttpResponse *response, GError **error)
{
	struct transfer t = { 0 };
	gboolean ok;

	g_return_val_if_fail(options && request && response, FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	t.options = options;
	t.request = request;
	t.body_max = options->body_max ? options->body_max : TKR_HTTP_BODY_MAX;
	ok = run(&t, response, error);
	transfer_release(&t);
	return ok;
}

const TkrHttpModule tkr_http_v1 = {
	.abi = TKR_HTTP_ABI,
	.perform = perform,
};
