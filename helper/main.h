/*
 * What the three programs' main() functions share: process hygiene and the
 * one mapping from errors to exit codes (DESIGN.md section 5).  Only the
 * *-main.c files include this.
 */
#ifndef TKR_MAIN_H
#define TKR_MAIN_H

#include <glib.h>

enum {
	TKR_EXIT_OK = 0,
	TKR_EXIT_ERROR = 1,
	TKR_EXIT_USAGE = 2,
	TKR_EXIT_LOGIN_NEEDED = 3,
	TKR_EXIT_KEYRING = 4,
	TKR_EXIT_TRANSIENT = 5,
};

/*
 * Call first in main(): core dumps off and the process not dumpable (no
 * same-uid ptrace or /proc/PID/mem), umask 077, GLib logging to stderr only
 * (stdout is the protocol channel), SIGPIPE ignored.
 */
void tkr_main_init(void);

int tkr_main_exit_code(const GError *error);

/*
 * Write all of buf to fd (retrying short writes and EINTR); a reader that
 * went away is a GIO error, not a SIGPIPE.
 */
gboolean tkr_main_write_all(int fd, const char *buf, size_t len,
			    GError **error);

/* Print "tokenring: <message>" on stderr, sanitised, one line. */
void tkr_main_report(const GError *error);

#endif
