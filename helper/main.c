#include "config.h"

#include "main.h"
#include "error.h"
#include "signals.h"

#include <errno.h>
#include <gio/gio.h>
#include <locale.h>
#include <signal.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>

void tkr_main_init(void)
{
	struct rlimit none = { 0, 0 };

	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	/* g_print converts to the locale's charset: know it (UTF-8 text). */
	setlocale(LC_ALL, "");
	setrlimit(RLIMIT_CORE, &none);
	umask(077);
	g_log_writer_default_set_use_stderr(TRUE);
	/* Ours, before any module registers the name with its own string. */
	tkr_error_quark();
	/* A reader that went away is reported by the write, not a signal. */
	signal(SIGPIPE, SIG_IGN);
	tkr_signals_init();
}

int tkr_main_exit_code(const GError *error)
{
	if (!error)
		return TKR_EXIT_OK;
	if (error->domain != TKR_ERROR)
		return TKR_EXIT_ERROR;
	switch ((TkrErrorCode)error->code) {
	case TKR_ERROR_USAGE:
		return TKR_EXIT_USAGE;
	case TKR_ERROR_LOGIN_NEEDED:
		return TKR_EXIT_LOGIN_NEEDED;
	case TKR_ERROR_KEYRING_UNAVAILABLE:
	case TKR_ERROR_KEYRING_LOCKED:
		return TKR_EXIT_KEYRING;
	case TKR_ERROR_NETWORK:
	case TKR_ERROR_RATE_LIMITED:
	case TKR_ERROR_BUSY:
		return TKR_EXIT_TRANSIENT;
	default:
		return TKR_EXIT_ERROR;
	}
}

gboolean tkr_main_write_all(int fd, const char *buf, size_t len,
			    GError **error)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int saved = errno;

			g_set_error(error, G_IO_ERROR,
				    g_io_error_from_errno(saved),
				    "cannot write the answer: %s",
				    g_strerror(saved));
			return FALSE;
		}
		buf += n;
		len -= (size_t)n;
	}
	return TRUE;
}

void tkr_main_report(const GError *error)
{
	g_autofree char *line = tkr_error_sanitize(error->message, 300);

	g_printerr("tokenring: %s\n", line);
}
