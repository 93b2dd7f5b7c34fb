/*
 * git-credential-tokenring: the git credential helper front end.
 *
 * argv, stdin, stdout and exit codes only; the operations live in
 * git-proto.c.  git ignores our exit status and reads stdout only for
 * "get", so: a miss prints nothing anywhere; trouble is one line on stderr
 * and nothing on stdout.
 */
#include "config.h"

#include "main.h"
#include "credential.h"
#include "error.h"
#include "git-proto.h"
#include "trace.h"

#include <errno.h>
#include <gio/gio.h>
#include <string.h>
#include <unistd.h>

static gboolean do_get(const TkrCredential *req, GError **error)
{
	g_auto(TkrCredential) answer = TKR_CREDENTIAL_INIT;
	g_autoptr(TkrSecret) text = NULL;

	if (!tkr_git_get(req, &answer, error))
		return FALSE;
	text = tkr_credential_format_git(&answer, error);
	return text && tkr_main_write_all(STDOUT_FILENO, text, strlen(text),
				      error);
}

int main(int argc, char **argv)
{
	g_auto(TkrCredential) req = TKR_CREDENTIAL_INIT;
	g_autoptr(TkrSecret) input = NULL;
	g_autoptr(GError) error = NULL;
	const char *op;
	size_t len = 0;

	tkr_main_init();
	/* Unknown or missing operations are ignored, as git's helpers do. */
	if (argc < 2)
		return TKR_EXIT_OK;
	op = argv[1];
	if (strcmp(op, "get") && strcmp(op, "store") && strcmp(op, "erase"))
		return TKR_EXIT_OK;

	input = tkr_input_read(STDIN_FILENO, TKR_GIT_INPUT_MAX, TRUE, &len,
			       &error);
	if (!input || !tkr_credential_parse_git(&req, input, len, &error)) {
		/* A malformed request gets no answer at all, like a miss. */
		tkr_trace(NULL, "%s: request refused: %s", op, error->message);
		return TKR_EXIT_OK;
	}
	g_clear_pointer(&input, tkr_secret_free);

	if (!strcmp(op, "get"))
		do_get(&req, &error);
	else if (!strcmp(op, "store"))
		tkr_git_store(&req, &error);
	else
		tkr_git_erase(&req, &error);

	if (!error)
		return TKR_EXIT_OK;
	if (g_error_matches(error, TKR_ERROR, TKR_ERROR_NOT_FOUND) ||
	    g_error_matches(error, TKR_ERROR, TKR_ERROR_PROTOCOL)) {
		tkr_trace(NULL, "%s: %s", op, error->message);
		return TKR_EXIT_OK;
	}
	tkr_main_report(error);
	return tkr_main_exit_code(error);
}
