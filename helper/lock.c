#include "config.h"

#include "lock.h"
#include "error.h"
#include "trace.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* Make dir (mode 0700) if missing; then insist it is ours and private. */
static gboolean safe_dir(const char *dir, GError **error)
{
	struct stat st;

	if (mkdir(dir, 0700) && errno != EEXIST) {
		g_set_error(error, TKR_ERROR, TKR_ERROR_CONFIG,
			    "cannot create '%s': %s", dir, g_strerror(errno));
		return FALSE;
	}
	if (lstat(dir, &st)) {
		g_set_error(error, TKR_ERROR, TKR_ERROR_CONFIG,
			    "cannot inspect '%s': %s", dir, g_strerror(errno));
		return FALSE;
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 077)) {
		g_set_error(error, TKR_ERROR, TKR_ERROR_CONFIG,
			    "refusing '%s': not a private directory of ours "
			    "(want mode 0700, owner uid %u)", dir,
			    (unsigned)geteuid());
		return FALSE;
	}
	return TRUE;
}

char *tkr_runtime_dir(GError **error)
{
	const char *runtime = g_getenv("XDG_RUNTIME_DIR");
	g_autofree char *dir = NULL;
	g_autofree char *fallback = NULL;
	GError *local = NULL;

	if (runtime && g_path_is_absolute(runtime)) {
		struct stat st;

		/*
		 * Others able to write to the runtime directory could swap
		 * our subdirectory for theirs: it must be ours alone too.
		 */
		if (stat(runtime, &st) || st.st_uid != geteuid() ||
		    (st.st_mode & 022)) {
			g_set_error(error, TKR_ERROR, TKR_ERROR_CONFIG,
				    "refusing XDG_RUNTIME_DIR '%s': not a "
				    "directory of ours that only we can write",
				    runtime);
			return NULL;
		}
		dir = g_build_filename(runtime, "tokenring", NULL);
		if (safe_dir(dir, &local))
			return g_steal_pointer(&dir);
		/* A hostile runtime dir is an error, not a reason to move. */
		g_propagate_error(error, local);
		return NULL;
	}
	fallback = g_strdup_printf("/tmp/tokenring-%u", (unsigned)geteuid());
	if (!safe_dir(fallback, error))
		return NULL;
	g_printerr("tokenring: warning: XDG_RUNTIME_DIR is not set; "
		   "locking in %s\n", fallback);
	return g_steal_pointer(&fallback);
}

static guint wait_from_env(void)
{
	const char *v = g_getenv("TOKENRING_LOCK_TIMEOUT");
	guint64 n;

	if (v && g_ascii_string_to_unsigned(v, 10, 1, 600, &n, NULL))
		return (guint)n;
	return TKR_LOCK_WAIT_DEFAULT;
}

int tkr_lock_account(const char *account, guint wait_s, GError **error)
{
	g_autofree char *dir = tkr_runtime_dir(error);
	g_autofree char *path = NULL;
	gint64 deadline;
	guint sleep_us = 2000;
	struct stat st;
	int fd;

	if (!dir)
		return -1;
	path = g_strdup_printf("%s/%s.lock", dir, account);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK,
		  0600);
	if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		int saved = errno;

		if (fd >= 0)
			close(fd);
		g_set_error(error, TKR_ERROR, TKR_ERROR_CONFIG,
			    "refusing lock file '%s': %s", path,
			    fd < 0 ? g_strerror(saved) : "not a regular file");
		return -1;
	}
	deadline = g_get_monotonic_time() +
		   (gint64)(wait_s ? wait_s : wait_from_env()) * G_USEC_PER_SEC;
	/* flock has no timeout: poll with a growing pause up to 100 ms. */
	while (flock(fd, LOCK_EX | LOCK_NB)) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			int saved = errno;

			close(fd);
			g_set_error(error, TKR_ERROR, TKR_ERROR_CONFIG,
				    "cannot lock '%s': %s", path,
				    g_strerror(saved));
			return -1;
		}
		if (g_get_monotonic_time() >= deadline) {
			close(fd);
			g_set_error(error, TKR_ERROR, TKR_ERROR_BUSY,
				    "account '%s' is busy: another tokenring "
				    "has been refreshing it for too long",
				    account);
			return -1;
		}
		g_usleep(sleep_us);
		sleep_us = MIN(sleep_us * 2, 100000);
	}
	tkr_trace(NULL, "locked account '%s'", account);
	return fd;
}

void tkr_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}
