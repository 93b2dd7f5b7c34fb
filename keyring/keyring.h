/*
 * The keyring: the only part of tokenring that talks to the Secret Service
 * (through libsecret).  Callers see tokenring's own types; no libsecret
 * type leaves keyring/.
 *
 * Every call is bounded by a deadline (TOKENRING_KEYRING_TIMEOUT seconds,
 * default 5) and runs on a private main context, so a hung or absent
 * Secret Service never hangs git or docker.  Failures are classified as
 * TKR_ERROR_KEYRING_UNAVAILABLE (no bus, no service, no answer in time),
 * TKR_ERROR_KEYRING_LOCKED or TKR_ERROR_NOT_FOUND; "not found" is only
 * reported after a successful search of an unlocked keyring.
 *
 * All functions block for at most the deadline per D-Bus round trip.
 */
#ifndef TKR_KEYRING_H
#define TKR_KEYRING_H

#include "helper/credential.h"
#include "helper/record.h"

#include <glib.h>

typedef struct _TkrKeyring TkrKeyring;

/*
 * Connect to the session bus and open a Secret Service session.
 * Returns: (transfer full) the connection, or NULL with
 * TKR_ERROR_KEYRING_UNAVAILABLE.
 */
TkrKeyring *tkr_keyring_open(GError **error);

/* Close the connection.  NULL is allowed. */
void tkr_keyring_close(TkrKeyring *kr);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(TkrKeyring, tkr_keyring_close)

/*
 * git plain items (docs/PROTOCOLS.md section 3): items of
 * git-credential-libsecret's new (org.git.Password) and old
 * (org.gnome.keyring.NetworkPassword) layouts.
 *
 * query must carry protocol and host (or path for protocol=cert); its
 * username and path narrow the search when set.  The port is part of the
 * identity: "a.test" never matches an item stored for "a.test:8443".
 */

/*
 * Find the most recently modified usable item matching query and fill
 * found (released first) with username, password, password_expiry_utc and
 * oauth_refresh_token from that one item.  Returns FALSE with
 * TKR_ERROR_NOT_FOUND on a miss.
 */
gboolean tkr_keyring_git_lookup(TkrKeyring *kr, const TkrCredential *query,
				TkrCredential *found, GError **error);

/*
 * Store c in the new layout, replacing the item with the same attributes,
 * and read it back.  c needs username (may be empty) and password.
 */
gboolean tkr_keyring_git_store(TkrKeyring *kr, const TkrCredential *c,
			       GError **error);

/*
 * Delete the items of both layouts matching c; when c has a password, only
 * those whose stored password equals it.  If any matching item is locked
 * nothing is deleted (TKR_ERROR_KEYRING_LOCKED).  *erased (nullable) gets
 * the number of items deleted.
 */
gboolean tkr_keyring_git_erase(TkrKeyring *kr, const TkrCredential *c,
			       guint *erased, GError **error);

/*
 * docker plain items (docs/PROTOCOLS.md section 3.3): io.docker.Credentials
 * items with attributes label="Docker Credentials", server (the ServerURL
 * verbatim), username and docker_cli="1", shared with
 * docker-credential-secretservice.  Matching server keys is the docker
 * front end's business; here items are found by exact server strings.
 */
typedef struct {
	char *server;
	char *username;
	TkrSecret *secret;	/* NULL when not loaded */
} TkrDockerItem;

void tkr_docker_item_free(TkrDockerItem *item);

/*
 * Returns: (transfer full) every docker item (TkrDockerItem *), newest
 * first, with secrets when with_secrets (a locked item is then
 * TKR_ERROR_KEYRING_LOCKED); NULL with an error.  An empty keyring gives
 * an empty array, unless it is locked.
 */
GPtrArray *tkr_keyring_docker_list(TkrKeyring *kr, gboolean with_secrets,
				   GError **error);

/*
 * Store a new item, read it back, then delete the items whose server is
 * one of replace (NULL-terminated, nullable): one item per server key.
 */
gboolean tkr_keyring_docker_store(TkrKeyring *kr, const char *server,
				  const char *username, const char *secret,
				  const char *const *replace, GError **error);

/* Delete every item whose server is one of servers. */
gboolean tkr_keyring_docker_erase(TkrKeyring *kr, const char *const *servers,
				  GError **error);

/*
 * Account records (DESIGN.md section 8): schema org.tokenring.Account,
 * attributes "account" and "provider" (nothing secret), one item per
 * account whose secret is the whole record as JSON.
 */

/*
 * Read account's record into rec (released first).  TKR_ERROR_NOT_FOUND
 * when there is none; TKR_ERROR_KEYRING_CORRUPT when the item is garbage.
 */
gboolean tkr_keyring_record_load(TkrKeyring *kr, const char *account,
				 TkrRecord *rec, GError **error);

/*
 * Write rec as account's record in one call (atomic replace), then read it
 * back; a mismatch is TKR_ERROR_KEYRING_UNAVAILABLE.  Records of the same
 * account under another provider are removed afterwards.
 */
gboolean tkr_keyring_record_store(TkrKeyring *kr, const char *account,
				  const char *provider, const TkrRecord *rec,
				  GError **error);

/* Delete account's record; none is not an error.  *deleted is nullable. */
gboolean tkr_keyring_record_delete(TkrKeyring *kr, const char *account,
				   gboolean *deleted, GError **error);

#endif
