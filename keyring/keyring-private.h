/*
 * Shared by the files of keyring/ only: the connection and the bounded
 * libsecret calls built on it.
 */
#ifndef TKR_KEYRING_PRIVATE_H
#define TKR_KEYRING_PRIVATE_H

#include "keyring.h"

#include <libsecret/secret.h>

struct _TkrKeyring {
	GMainContext *ctx;	/* pushed as thread default while open */
	SecretService *service;
	guint timeout_s;
};

/*
 * Put the matching items (SecretItem *, transfer full) in *items, newest
 * first (ties broken by creation, then object path); an empty result is
 * TRUE with *items NULL.  FALSE with *error set otherwise.
 */
gboolean tkr_keyring_search(TkrKeyring *kr, const SecretSchema *schema,
			    GHashTable *attributes, SecretSearchFlags flags,
			    GList **items, GError **error);

/*
 * Create a new item holding secret[0..len) as text/plain in the default
 * collection, never replacing another.  (The service's own "replace"
 * matches any item whose attributes include ours, so storing a credential
 * without a port would clobber the one with a port; callers delete exact
 * duplicates themselves, after the new item exists.)
 * Returns: (transfer full) the new item's D-Bus object path.
 */
char *tkr_keyring_create(TkrKeyring *kr, const SecretSchema *schema,
			 GHashTable *attributes, const char *label,
			 const char *secret, gsize len, GError **error);

/*
 * Store secret[0..len) in the default collection, replacing in place the
 * item with these attributes (the service's atomic replace).  Use only
 * for schemas where no item's attributes are a superset of another's.
 */
gboolean tkr_keyring_replace(TkrKeyring *kr, const SecretSchema *schema,
			     GHashTable *attributes, const char *label,
			     const char *secret, gsize len, GError **error);

gboolean tkr_keyring_delete(TkrKeyring *kr, SecretItem *item, GError **error);

/*
 * Called after a search came back empty: sets TKR_ERROR_KEYRING_LOCKED if
 * the default collection is locked (some services, KeePassXC among them,
 * answer a search of a locked database with nothing), else
 * TKR_ERROR_NOT_FOUND.  Always returns FALSE.
 */
gboolean tkr_keyring_not_found(TkrKeyring *kr, GError **error);

void tkr_keyring_set_locked_error(GError **error);

#endif
