#include "config.h"

#include "credential.h"
#include "error.h"

#include <errno.h>
#include <gio/gio.h>
#include <string.h>
#include <unistd.h>

void tkr_credential_init(TkrCredential *c)
{
	memset(c, 0, sizeof(*c));
}

void tkr_credential_release(TkrCredential *c)
{
	g_free(c->protocol);
	g_free(c->host);
	g_free(c->path);
	g_free(c->username);
	tkr_secret_free(c->password);
	tkr_secret_free(c->oauth_refresh_token);
	tkr_credential_init(c);
}

/* Whether an LF in buf[from..to) ends a blank line (LF or CR LF alone). */
static gboolean blank_line_in(const char *buf, size_t from, size_t to)
{
	size_t i;

	for (i = from; i < to; i++) {
		if (buf[i] != '\n')
			continue;
		if (!i || buf[i - 1] == '\n')
			return TRUE;
		if (buf[i - 1] == '\r' && (i == 1 || buf[i - 2] == '\n'))
			return TRUE;
	}
	return FALSE;
}

TkrSecret *tkr_input_read(int fd, size_t max, gboolean to_blank_line,
			  size_t *len, GError **error)
{
	/*
	 * Start small and grow: a git request is a few hundred bytes, and
	 * every page of secret memory is locked and zeroed up front.
	 */
	g_autoptr(TkrSecret) buf = tkr_secret_new(MIN(max, 4096));
	size_t have = 0;
	gboolean complete = FALSE;
	ssize_t n;

	/*
	 * Read in small steps and, for git, stop at a blank line: a caller
	 * may keep the pipe open after the request (typing into a
	 * terminal), so waiting for EOF would hang.
	 */
	while (have < max) {
		size_t room = tkr_secret_capacity(buf) - have;

		if (!room) {
			TkrSecret *bigger = tkr_secret_new(
				MIN(max, tkr_secret_capacity(buf) * 4));

			memcpy(bigger, buf, have);
			tkr_secret_free(buf);
			buf = bigger;
			room = tkr_secret_capacity(buf) - have;
		}
		n = read(fd, buf + have, MIN(4096, room));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int saved = errno;

			g_set_error(error, G_IO_ERROR,
				    g_io_error_from_errno(saved),
				    "cannot read the request: %s",
				    g_strerror(saved));
			return NULL;
		}
		have += (size_t)n;
		if (!n || (to_blank_line &&
			   blank_line_in(buf, have - (size_t)n, have))) {
			complete = TRUE;
			break;
		}
	}
	if (!complete) {
		g_set_error(error, TKR_ERROR, TKR_ERROR_PROTOCOL,
			    "request larger than %zu bytes", max);
		return NULL;
	}
	*len = have;
	return g_steal_pointer(&buf);
}

static gint64 parse_expiry(const char *value)
{
	guint64 v;

	/* git treats 0, garbage and overflow as "no expiry"; so do we. */
	if (!g_ascii_string_to_unsigned(value, 10, 1, G_MAXINT64, &v, NULL))
		return 0;
	return (gint64)v;
}

static gboolean parse_bool(const char *value)
{
	return !strcmp(value, "1") || !g_ascii_strcasecmp(value, "true") ||
	       !g_ascii_strcasecmp(value, "yes") ||
	       !g_ascii_strcasecmp(value, "on");
}

static void set_str(char **slot, const char *value)
{
	g_free(*slot);
	*slot = g_strdup(value);
}

static void set_attribute(TkrCredential *c, const char *key,
			  const char *value)
{
	if (!strcmp(key, "protocol"))
		set_str(&c->protocol, value);
	else if (!strcmp(key, "host"))
		set_str(&c->host, value);
	else if (!strcmp(key, "path"))
		set_str(&c->path, value);
	else if (!strcmp(key, "username"))
		set_str(&c->username, value);
	else if (!strcmp(key, "password"))
		tkr_secret_set(&c->password, value);
	else if (!strcmp(key, "oauth_refresh_token"))
		tkr_secret_set(&c->oauth_refresh_token, value);
	else if (!strcmp(key, "password_expiry_utc"))
		c->password_expiry_utc = parse_expiry(value);
	else if (!strcmp(key, "ephemeral"))
		c->ephemeral = parse_bool(value);
	else if (!strcmp(key, "authtype") || !strcmp(key, "credential"))
		c->authtype = TRUE;
	/* Anything else (capability[], wwwauth[], state[], url, …) is ignored. */
}

gboolean tkr_kv_parse(const char *buf, size_t len, TkrKvFunc func,
		      gpointer data, GError **error)
{
	/* No line is longer than the input (nor than the limit). */
	g_autoptr(TkrSecret) line = tkr_secret_new(MIN(len, TKR_GIT_LINE_MAX));
	const char *p = buf, *end = buf + len;

	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);
	while (p < end) {
		const char *lf = memchr(p, '\n', (size_t)(end - p));
		size_t raw = lf ? (size_t)(lf - p) + 1 : (size_t)(end - p) + 1;
		size_t n = lf ? (size_t)(lf - p) : (size_t)(end - p);
		char *eq;

		if (raw > TKR_GIT_LINE_MAX) {
			g_set_error(error, TKR_ERROR, TKR_ERROR_PROTOCOL,
				    "line longer than %d bytes",
				    TKR_GIT_LINE_MAX);
			return FALSE;
		}
		/* git's reader drops one CR before LF, and so do we. */
		if (n && p[n - 1] == '\r')
			n--;
		if (!n)
			break;
		if (memchr(p, '\0', n)) {
			g_set_error_literal(error, TKR_ERROR,
					    TKR_ERROR_PROTOCOL,
					    "NUL byte in the request");
			return FALSE;
		}
		memcpy(line, p, n);
		line[n] = '\0';
		eq = strchr(line, '=');
		if (!eq) {
			g_set_error_literal(error, TKR_ERROR,
					    TKR_ERROR_PROTOCOL,
					    "request line without '='");
			return FALSE;
		}
		*eq = '\0';
		if (strchr(eq + 1, '\r')) {
			g_set_error(error, TKR_ERROR, TKR_ERROR_PROTOCOL,
				    "value of '%s' contains a carriage return",
				    line);
			return FALSE;
		}
		func(line, eq + 1, data);
		p += raw;
	}
	return TRUE;
}

static void credential_kv(const char *key, const char *value, gpointer data)
{
	set_attribute(data, key, value);
}

gboolean tkr_credential_parse_git(TkrCredential *c, const char *buf,
				  size_t len, GError **error)
{
	tkr_credential_release(c);
	if (tkr_kv_parse(buf, len, credential_kv, c, error))
		return TRUE;
	tkr_credential_release(c);
	return FALSE;
}

static gboolean value_ok(const char *v)
{
	return !strpbrk(v, "\r\n");
}

static void append(GString *out, const char *key, const char *value)
{
	g_string_append(out, key);
	g_string_append_c(out, '=');
	g_string_append(out, value);
	g_string_append_c(out, '\n');
}

TkrSecret *tkr_credential_format_git(const TkrCredential *c, GError **error)
{
	const char *values[] = { c->username, c->password,
				 c->oauth_refresh_token };
	g_autofree char *expiry = NULL;
	GString *out;
	TkrSecret *result;
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(values); i++) {
		if (values[i] && !value_ok(values[i])) {
			g_set_error_literal(error, TKR_ERROR,
					    TKR_ERROR_PROTOCOL,
					    "refusing to print a value with a line break");
			return NULL;
		}
	}
	/*
	 * Build in a GString sized up front so it never reallocates (which
	 * would leave copies of the password behind), then move the text
	 * into a secret and wipe the GString's whole allocation.
	 */
	out = g_string_sized_new(64 + (c->username ? strlen(c->username) : 0) +
				 (c->password ? strlen(c->password) : 0) +
				 (c->oauth_refresh_token ?
				  strlen(c->oauth_refresh_token) : 0) + 64);
	if (c->username)
		append(out, "username", c->username);
	if (c->password)
		append(out, "password", c->password);
	if (c->password_expiry_utc > 0) {
		expiry = g_strdup_printf("%" G_GINT64_FORMAT,
					 c->password_expiry_utc);
		append(out, "password_expiry_utc", expiry);
	}
	if (c->oauth_refresh_token)
		append(out, "oauth_refresh_token", c->oauth_refresh_token);
	result = tkr_secret_dup_len(out->str, out->len);
	tkr_memzero(out->str, out->allocated_len);
	g_string_free(out, TRUE);
	return result;
}

static gboolean parse_port(const char *s, guint *port)
{
	guint64 v;

	if (!g_ascii_string_to_unsigned(s, 10, 1, 65535, &v, NULL))
		return FALSE;
	*port = (guint)v;
	return TRUE;
}

gboolean tkr_credential_split_host(const char *host, char **name,
				   guint *port, GError **error)
{
	const char *colon;

	*name = NULL;
	*port = 0;
	if (!host || !*host)
		goto bad;
	if (host[0] == '[') {
		const char *close = strchr(host, ']');

		if (!close || close == host + 1)
			goto bad;
		if (close[1] && (close[1] != ':' || !parse_port(close + 2, port)))
			goto bad;
		*name = g_strndup(host, (gsize)(close - host) + 1);
		return TRUE;
	}
	colon = strchr(host, ':');
	if (!colon) {
		*name = g_strdup(host);
		return TRUE;
	}
	if (colon == host || strchr(colon + 1, ':') || !parse_port(colon + 1, port))
		goto bad;
	*name = g_strndup(host, (gsize)(colon - host));
	return TRUE;

bad:
	*port = 0;
	g_set_error(error, TKR_ERROR, TKR_ERROR_PROTOCOL,
		    "cannot parse host '%s'", host ? host : "");
	return FALSE;
}
