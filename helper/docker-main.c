/*
 * docker-credential-tokenring: the docker credential helper front end
 * (docs/PROTOCOLS.md section 2).  Errors go to stdout, where the docker
 * CLI reads them, with exit status 1; traces and logs go to stderr only.
 */
#include "config.h"

#include "main.h"
#include "credential.h"
#include "docker-proto.h"
#include "error.h"
#include "trace.h"

#include <errno.h>
#include <gio/gio.h>
#include <string.h>
#include <unistd.h>

#define TKR_DOCKER_STORE_MAX (1024 * 1024)

static int fail(const char *message)
{
	g_autofree char *line = tkr_error_sanitize(message, 300);

	g_print("%s\n", line);
	return 1;
}

static int do_store(GError **error)
{
	g_autoptr(TkrSecret) input = NULL;
	g_autoptr(TkrSecret) secret = NULL;
	g_autofree char *server = NULL;
	g_autofree char *username = NULL;
	size_t len = 0;

	input = tkr_input_read(STDIN_FILENO, TKR_DOCKER_STORE_MAX, FALSE, &len,
			       error);
	if (!input ||
	    !tkr_docker_parse_store(input, len, &server, &username, &secret,
				    error) ||
	    !tkr_docker_store(server, username, secret, error))
		return -1;
	return 0;
}

static int do_get(GError **error)
{
	g_autofree char *key = tkr_docker_read_key(STDIN_FILENO, error);
	g_autoptr(TkrSecret) out = NULL;

	if (!key || !(out = tkr_docker_get(key, error)) ||
	    !tkr_main_write_all(STDOUT_FILENO, out, strlen(out), error))
		return -1;
	return 0;
}

static int do_erase(GError **error)
{
	g_autofree char *key = tkr_docker_read_key(STDIN_FILENO, error);

	return key && tkr_docker_erase(key, error) ? 0 : -1;
}

static int do_list(GError **error)
{
	g_autofree char *out = tkr_docker_list(error);

	return out && tkr_main_write_all(STDOUT_FILENO, out, strlen(out),
					 error) ? 0 : -1;
}

int main(int argc, char **argv)
{
	g_autoptr(GError) error = NULL;
	const char *action;
	int rc;

	tkr_main_init();
	if (argc != 2) {
		g_print("Usage: docker-credential-tokenring "
			"<store|get|erase|list|version>\n");
		return 1;
	}
	action = argv[1];
	if (!strcmp(action, "version") || !strcmp(action, "--version") ||
	    !strcmp(action, "-v")) {
		g_print("docker-credential-tokenring (tokenring) v%s\n",
			PACKAGE_VERSION);
		return 0;
	}
	if (!strcmp(action, "--help") || !strcmp(action, "-h")) {
		g_print("Usage: docker-credential-tokenring "
			"<store|get|erase|list|version>\n");
		return 0;
	}
	if (!strcmp(action, "store"))
		rc = do_store(&error);
	else if (!strcmp(action, "get"))
		rc = do_get(&error);
	else if (!strcmp(action, "erase"))
		rc = do_erase(&error);
	else if (!strcmp(action, "list"))
		rc = do_list(&error);
	else {
		g_print("docker-credential-tokenring: unknown action: %s\n",
			action);
		return 1;
	}
	if (!rc)
		return 0;
	if (!error)
		return 1;
	tkr_trace(NULL, "%s: %s", action, error->message);
	/*
	 * Everything is exit 1 with the message on stdout; a locked or
	 * missing keyring is never reported as "not found".
	 */
	return fail(error->message);
}
