/*
 * http-driver: one request through the HTTP module, for
 * t2001-http-policy.sh.
 *
 *	http-driver MODULE.so <request
 *
 * dlopens MODULE.so the way the core does, resolves tkr_http_v1 and
 * performs the request described on stdin as key=value lines:
 *
 *	method=GET|POST (default GET), url=..., header=Name: value
 *	(repeatable), content_type=..., body=... (the rest of the line),
 *	body_hex=... (the body as hex, for bytes a line cannot hold),
 *	ca_file=..., timeout=S (10), connect_timeout=S (min(5, timeout)),
 *	body_max=N (TKR_HTTP_BODY_MAX)
 *
 * On success it prints status=, content_type=, retry_after= and
 * body_len= lines, then "body=" and the body's raw bytes, without a
 * newline after them, and exits 0.  On error it prints
 * "error=<code> <message>" and exits 1; a usage or loading problem exits 2.
 * TOKENRING_TRACE_HTTP works as in tokenring: 1, 2 or true is stderr, 3 to
 * 9 that descriptor, an absolute path a file appended to.
 *
 * Response bodies come from a secret allocator of the driver's own that
 * wipes on free, as the core's does.
 */
#include "config.h"

#include "http.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define STDIN_MAX (1024 * 1024)

static void wipe(void *p, size_t len)
{
	if (!p || !len)
		return;
#if defined(HAVE_EXPLICIT_BZERO) || defined(__GLIBC__)
	explicit_bzero(p, len);
#else
	memset(p, 0, len);
	__asm__ __volatile__("" : : "r"(p) : "memory");
#endif
}

/* A size header in front of the string, so that the free wipes it all. */
#define SECRET_HEADER 16

static TkrSecret *secret_new(gsize len)
{
	char *block = g_malloc0(SECRET_HEADER + len + 1);

	memcpy(block, &len, sizeof(len));
	return block + SECRET_HEADER;
}

static void secret_free(TkrSecret *s)
{
	char *block;
	gsize len;

	if (!s)
		return;
	block = s - SECRET_HEADER;
	memcpy(&len, block, sizeof(len));
	wipe(block, SECRET_HEADER + len + 1);
	g_free(block);
}

static int trace_fd(void)
{
	const char *v = g_getenv("TOKENRING_TRACE_HTTP");

	if (!v || !*v || !strcmp(v, "0") || !g_ascii_strcasecmp(v, "false"))
		return -1;
	if (!strcmp(v, "1") || !strcmp(v, "2") ||
	    !g_ascii_strcasecmp(v, "true"))
		return STDERR_FILENO;
	if (v[0] >= '3' && v[0] <= '9' && !v[1])
		return v[0] - '0';
	if (g_path_is_absolute(v))
		return open(v, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
			    O_NOFOLLOW, 0600);
	return -1;
}

static gboolean parse_uint(const char *key, const char *v, guint64 max,
			   guint64 *out)
{
	if (!g_ascii_string_to_unsigned(v, 10, 0, max, out, NULL)) {
		fprintf(stderr, "http-driver: bad %s '%s'\n", key, v);
		return FALSE;
	}
	return TRUE;
}

static gboolean parse_hex(const char *v, GString *out)
{
	int hi, lo;

	for (; v[0]; v += 2) {
		hi = g_ascii_xdigit_value(v[0]);
		lo = v[1] ? g_ascii_xdigit_value(v[1]) : -1;
		if (hi < 0 || lo < 0) {
			fprintf(stderr, "http-driver: bad body_hex\n");
			return FALSE;
		}
		g_string_append_c(out, (char)(hi << 4 | lo));
	}
	return TRUE;
}

static void body_free(GString *body)
{
	if (!body)
		return;
	wipe(body->str, body->allocated_len);
	g_string_free(body, TRUE);
}

static void write_all(const char *p, gsize len)
{
	if (len && fwrite(p, 1, len, stdout) != len)
		exit(2);
}

int main(int argc, char **argv)
{
	g_autoptr(GPtrArray) headers = g_ptr_array_new();
	GString *input = g_string_new(NULL);
	GString *body = NULL;
	const char *method = "GET", *url = NULL, *content_type = NULL;
	const char *ca_file = NULL;
	guint64 timeout = 10, connect_timeout = 0, body_max = TKR_HTTP_BODY_MAX;
	TkrHttpOptions options = { 0 };
	TkrHttpRequest request = { 0 };
	TkrHttpResponse response = { 0 };
	const TkrHttpModule *module;
	GError *error = NULL;
	char buf[4096], *line, *next, *eq;
	gboolean ok;
	size_t n;
	void *dl;

	if (argc != 2) {
		fprintf(stderr, "usage: http-driver MODULE.so <request\n");
		return 2;
	}
	while ((n = fread(buf, 1, sizeof(buf), stdin)) > 0) {
		g_string_append_len(input, buf, n);
		if (input->len > STDIN_MAX) {
			fprintf(stderr, "http-driver: request too large\n");
			return 2;
		}
	}
	for (line = input->str; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		eq = strchr(line, '=');
		if (!*line)
			continue;
		if (!eq) {
			fprintf(stderr, "http-driver: no '=' in a line\n");
			return 2;
		}
		*eq++ = '\0';
		if (!strcmp(line, "method")) {
			method = eq;
		} else if (!strcmp(line, "url")) {
			url = eq;
		} else if (!strcmp(line, "header")) {
			g_ptr_array_add(headers, eq);
		} else if (!strcmp(line, "content_type")) {
			content_type = eq;
		} else if (!strcmp(line, "body")) {
			body_free(body);
			body = g_string_new(eq);
		} else if (!strcmp(line, "body_hex")) {
			body_free(body);
			body = g_string_new(NULL);
			if (!parse_hex(eq, body))
				return 2;
		} else if (!strcmp(line, "ca_file")) {
			ca_file = eq;
		} else if (!strcmp(line, "timeout")) {
			if (!parse_uint(line, eq, 3600, &timeout))
				return 2;
		} else if (!strcmp(line, "connect_timeout")) {
			if (!parse_uint(line, eq, 3600, &connect_timeout))
				return 2;
		} else if (!strcmp(line, "body_max")) {
			if (!parse_uint(line, eq, G_MAXSIZE, &body_max))
				return 2;
		} else {
			fprintf(stderr, "http-driver: unknown key '%s'\n",
				line);
			return 2;
		}
	}
	g_ptr_array_add(headers, NULL);

	dl = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
	if (!dl) {
		fprintf(stderr, "http-driver: %s\n", dlerror());
		return 2;
	}
	module = dlsym(dl, "tkr_http_v1");
	if (!module || module->abi != TKR_HTTP_ABI) {
		fprintf(stderr, "http-driver: no tkr_http_v1 of ABI %d\n",
			TKR_HTTP_ABI);
		return 2;
	}

	options.ca_file = ca_file;
	options.timeout_s = (guint)timeout;
	options.connect_timeout_s = connect_timeout ? (guint)connect_timeout :
				    (guint)MIN(timeout, 5);
	options.body_max = body_max;
	options.trace_fd = trace_fd();
	options.secret_new = secret_new;
	options.secret_free = secret_free;
	request.method = method;
	request.url = url;
	request.headers = (const char *const *)headers->pdata;
	request.body = body ? body->str : NULL;
	request.body_len = body ? body->len : 0;
	request.content_type = content_type;

	ok = module->perform(&options, &request, &response, &error);
	if (!ok) {
		printf("error=%d %s\n", error ? error->code : -1,
		       error ? error->message : "(no error set)");
		g_clear_error(&error);
	} else {
		printf("status=%ld\n", response.status);
		printf("content_type=%s\n", response.content_type ?
		       response.content_type : "");
		printf("retry_after=%s\n", response.retry_after ?
		       response.retry_after : "");
		printf("body_len=%zu\n", response.body_len);
		printf("body=");
		write_all(response.body, response.body_len);
	}
	if (fflush(stdout))
		return 2;
	secret_free(response.body);
	g_free(response.content_type);
	g_free(response.retry_after);
	body_free(body);
	wipe(input->str, input->allocated_len);
	g_string_free(input, TRUE);
	return ok ? 0 : 1;
}
