#include "config.h"

#include "trace.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

TkrTraceKey tkr_trace_default = { "TOKENRING_TRACE", -1, FALSE };
TkrTraceKey tkr_trace_keyring = TKR_TRACE_KEY_INIT(KEYRING);
TkrTraceKey tkr_trace_http = TKR_TRACE_KEY_INIT(HTTP);
TkrTraceKey tkr_trace_provider = TKR_TRACE_KEY_INIT(PROVIDER);
TkrTraceKey tkr_trace_config = TKR_TRACE_KEY_INIT(CONFIG);

/* Returns the fd for a TOKENRING_TRACE-style value, or -1 for off. */
static int open_trace_target(const char *value)
{
	int fd;

	if (!*value || !strcmp(value, "0") || !g_ascii_strcasecmp(value, "false"))
		return -1;
	if (!strcmp(value, "1") || !strcmp(value, "2") ||
	    !g_ascii_strcasecmp(value, "true"))
		return STDERR_FILENO;
	if (value[0] >= '3' && value[0] <= '9' && !value[1])
		return value[0] - '0';
	if (g_path_is_absolute(value)) {
		fd = open(value, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
			  O_NOFOLLOW, 0600);
		if (fd < 0)
			g_printerr("tokenring: could not open trace file '%s': %s\n",
				   value, g_strerror(errno));
		return fd;
	}
	g_printerr("tokenring: unknown trace value '%s'; use 1, 2, 3-9 or "
		   "an absolute path\n", value);
	return -1;
}

gboolean tkr_trace_want(TkrTraceKey *key)
{
	const char *value;

	if (!key)
		key = &tkr_trace_default;
	if (!key->initialized) {
		key->initialized = TRUE;
		value = g_getenv(key->env);
		if (value)
			key->fd = open_trace_target(value);
		else if (key != &tkr_trace_default &&
			 tkr_trace_want(&tkr_trace_default))
			key->fd = tkr_trace_default.fd;
	}
	return key->fd >= 0;
}

void tkr_trace_printf_fl(const char *file, int line, TkrTraceKey *key,
			 const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tkr_trace_vprintf_fl(file, line, key, fmt, ap);
	va_end(ap);
}

void tkr_trace_vprintf_fl(const char *file, int line, TkrTraceKey *key,
			  const char *fmt, va_list ap)
{
	g_autoptr(GDateTime) now = g_date_time_new_now_local();
	g_autoptr(GString) buf = g_string_new(NULL);
	const char *base = strrchr(file, '/');

	if (!key)
		key = &tkr_trace_default;
	g_string_append_printf(buf, "%02d:%02d:%02d.%06d %s",
			       g_date_time_get_hour(now),
			       g_date_time_get_minute(now),
			       g_date_time_get_second(now),
			       g_date_time_get_microsecond(now),
			       base ? base + 1 : file);
	if (line)
		g_string_append_printf(buf, ":%d", line);
	g_string_append_c(buf, ' ');
	g_string_append_vprintf(buf, fmt, ap);
	g_string_append_c(buf, '\n');
	/* One write per line so concurrent helpers do not interleave. */
	if (write(key->fd, buf->str, buf->len) < 0)
		key->fd = -1;
}

char *tkr_trace_fingerprint(const char *s)
{
	g_autofree char *hex = g_compute_checksum_for_string(G_CHECKSUM_SHA256,
							     s ? s : "", -1);

	return g_strndup(hex, 8);
}
