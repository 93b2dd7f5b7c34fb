/*
 * The configuration file (DESIGN.md section 4): a GLib key file, one group
 * per account, found at $TOKENRING_CONFIG or
 * $XDG_CONFIG_HOME/tokenring/config.  Secrets never live in it.
 *
 * The core checks the keys every account understands; the provider checks
 * its own keys when it is loaded (so the cache-hit path never loads it).
 * An account with a bad value is kept, marked broken, so that using it
 * fails with a message naming the key, while other accounts work.
 */
#ifndef TKR_ACCOUNT_CONFIG_H
#define TKR_ACCOUNT_CONFIG_H

#include <glib.h>

#define TKR_MIN_VALID_DEFAULT 60
#define TKR_TIMEOUT_DEFAULT 30

typedef struct {
	char *name;
	char *provider;
	char *url;		/* as written */
	GUri *uri;		/* parsed; NULL when url is bad */
	char *username;		/* what git and docker are given */
	gint64 min_valid;	/* seconds */
	char *ca_file;		/* nullable */
	guint timeout;		/* seconds per request */
	GHashTable *keys;	/* every key of the group -> value */
	GError *broken;		/* why the account cannot be used; nullable */
} TkrAccount;

typedef struct {
	char *path;		/* the file read (or that would be) */
	GPtrArray *accounts;	/* of TkrAccount *, in file order */
} TkrConfig;

/* The configuration file's path.  Returns: (transfer full). */
char *tkr_config_path(void);

/*
 * Read the configuration.  A missing file is an empty configuration; a
 * file that is not a key file is TKR_ERROR_CONFIG.
 */
TkrConfig *tkr_config_load(GError **error);
void tkr_config_free(TkrConfig *config);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(TkrConfig, tkr_config_free)

/*
 * The account called name.  Returns: (transfer none) the account, or NULL
 * with TKR_ERROR_CONFIG when it is not configured or is broken.
 */
TkrAccount *tkr_config_account(TkrConfig *config, const char *name,
			       GError **error);

/*
 * The account whose url covers a request: scheme and host[:port] equal
 * (case-insensitive host, default ports normalised), and the url's path a
 * prefix of path on segment boundaries; the longest url wins.  path may be
 * NULL (git without credential.useHttpPath): then only accounts whose url
 * has no path below "/" match.  Broken accounts match too, so that using
 * one reports why.  Returns: (transfer none) (nullable).
 */
TkrAccount *tkr_config_match(TkrConfig *config, const char *scheme,
			     const char *host_port, const char *path);

/*
 * Whether host (a host name or IP literal, brackets allowed) is loopback:
 * 127.0.0.0/8, ::1 or "localhost".
 */
gboolean tkr_host_is_loopback(const char *host);

/*
 * Parse and check an account url: https, or http to a loopback host; no
 * userinfo, query or fragment.  Returns: (transfer full) or NULL with
 * TKR_ERROR_CONFIG.
 */
GUri *tkr_config_parse_url(const char *url, GError **error);

/*
 * Write (or replace) account name's group with provider, url and the
 * extra key=value settings, keeping the rest of the file and its comments.
 */
gboolean tkr_config_write_account(const char *name, const char *provider,
				  const char *url, char **settings,
				  GError **error);

/*
 * Warn on stderr about a's keys that neither the core nor the provider
 * (known, NULL-terminated) understands; they are ignored, as PAM does.
 */
void tkr_config_warn_unknown(const TkrAccount *a, const char *const *known);

/* Whether name is a valid account name: [a-z0-9][a-z0-9._-]*. */
gboolean tkr_account_name_ok(const char *name);

#endif
