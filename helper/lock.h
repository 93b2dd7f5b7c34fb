/*
 * One lock per account, across processes (docs/SECURITY.md section 5):
 * flock on $XDG_RUNTIME_DIR/tokenring/NAME.lock, falling back to
 * /tmp/tokenring-UID/ with a warning.  The directory must be ours, a real
 * directory and mode 0700; the lock file is opened O_NOFOLLOW|O_CLOEXEC and
 * must be a regular file.  The kernel drops the lock when the holder dies,
 * so a kill -9 never wedges the next caller.  The file holds no data.
 */
#ifndef TKR_LOCK_H
#define TKR_LOCK_H

#include <glib.h>

/* How long to wait for another process's refresh, by default. */
#define TKR_LOCK_WAIT_DEFAULT 45

/*
 * Take account's lock, waiting up to wait_s seconds (TOKENRING_LOCK_TIMEOUT
 * overrides the default when wait_s is 0).  Returns the lock's fd (>= 0),
 * or -1 with TKR_ERROR_BUSY (timed out) or TKR_ERROR_CONFIG (an unsafe
 * runtime directory or lock file).  Blocks.
 */
int tkr_lock_account(const char *account, guint wait_s, GError **error);

/* Release the lock (closes fd).  -1 is allowed. */
void tkr_unlock(int fd);

/*
 * Returns: (transfer full) the directory for lock and state files,
 * created and checked, or NULL with TKR_ERROR_CONFIG.
 */
char *tkr_runtime_dir(GError **error);

#endif
