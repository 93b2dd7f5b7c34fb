/*
 * git plain items, in git-credential-libsecret's two layouts
 * (docs/PROTOCOLS.md sections 3.1, 3.2 and 3.4).
 *
 * We write the new layout (org.git.Password: the password on the first line
 * of the secret, then "password_expiry_utc=" and "oauth_refresh_token="
 * lines) so that a user can go back to newest git-credential-libsecret, and
 * read both.  The schema is searched without matching its name, which is
 * how items of either layout are found with one search.
 */
#include "config.h"

#include "keyring-private.h"
#include "helper/error.h"
#include "helper/trace.h"

#include <string.h>

#define GIT_SCHEMA_NEW "org.git.Password"
#define GIT_SCHEMA_OLD "org.gnome.keyring.NetworkPassword"
/* Every item of either layout, with its secret. */
#define SEARCH_FLAGS (SECRET_SEARCH_ALL | SECRET_SEARCH_LOAD_SECRETS)

/* A stored secret larger than this is somebody else's garbage. */
#define TKR_GIT_SECRET_MAX (64 * 1024)

static const SecretSchema git_schema = {
	.name = GIT_SCHEMA_NEW,
	.flags = SECRET_SCHEMA_DONT_MATCH_NAME,
	.attributes = {
		{ .name = "user", .type = SECRET_SCHEMA_ATTRIBUTE_STRING },
		{ .name = "object", .type = SECRET_SCHEMA_ATTRIBUTE_STRING },
		{ .name = "protocol", .type = SECRET_SCHEMA_ATTRIBUTE_STRING },
		{ .name = "port", .type = SECRET_SCHEMA_ATTRIBUTE_INTEGER },
		{ .name = "server", .type = SECRET_SCHEMA_ATTRIBUTE_STRING },
		{ .name = NULL, .type = 0 },
	},
};

/* The attributes that identify c's item; NULL with an error if c is unfit. */
static GHashTable *attributes_for(const TkrCredential *c, GError **error)
{
	g_autoptr(GHashTable) attrs = g_hash_table_new_full(g_str_hash,
							    g_str_equal,
							    NULL, g_free);
	g_autofree char *server = NULL;
	guint port = 0;

	if (!c->protocol || !*c->protocol) {
		g_set_error_literal(error, TKR_ERROR, TKR_ERROR_PROTOCOL,
				    "no protocol");
		return NULL;
	}
	if (c->host && *c->host) {
		if (!tkr_credential_split_host(c->host, &server, &port, error))
			return NULL;
	} else if (!c->path) {
		g_set_error_literal(error, TKR_ERROR, TKR_ERROR_PROTOCOL,
				    "no host");
		return NULL;
	}
	g_hash_table_insert(attrs, "protocol", g_strdup(c->protocol));
	if (server)
		g_hash_table_insert(attrs, "server", g_steal_pointer(&server));
	if (port)
		g_hash_table_insert(attrs, "port", g_strdup_printf("%u", port));
	if (c->username)
		g_hash_table_insert(attrs, "user", g_strdup(c->username));
	if (c->path)
		g_hash_table_insert(attrs, "object", g_strdup(c->path));
	return g_steal_pointer(&attrs);
}

/*
 * Whether item matches exactly what a search on want may only approximate:
 * a search cannot ask for an attribute to be absent, so an item stored
 * with a port would otherwise match a request without one.
 */
static gboolean same_port(SecretItem *item, GHashTable *want)
{
	g_autoptr(GHashTable) have = secret_item_get_attributes(item);

	return !g_strcmp0(g_hash_table_lookup(have, "port"),
			  g_hash_table_lookup(want, "port"));
}

typedef enum {
	ITEM_USABLE,
	ITEM_LOCKED,
	ITEM_UNUSABLE,
} ItemState;

/*
 * Decode item's secret into c's password, expiry and refresh token, and
 * its user attribute into c's username.  Foreign secrets are untrusted: a
 * binary, oversized or CR-bearing secret makes the item unusable, never
 * half-read.
 */
static ItemState decode_item(SecretItem *item, TkrCredential *c)
{
	g_autoptr(SecretValue) value = NULL;
	g_autoptr(GHashTable) attrs = NULL;
	const char *schema, *text;
	gboolean new_layout;
	gsize len;

	tkr_credential_release(c);
	schema = secret_item_get_schema_name(item);
	if (!g_strcmp0(schema, GIT_SCHEMA_NEW))
		new_layout = TRUE;
	else if (!g_strcmp0(schema, GIT_SCHEMA_OLD))
		new_layout = FALSE;
	else
		return ITEM_UNUSABLE;
	if (secret_item_get_locked(item))
		return ITEM_LOCKED;
	value = secret_item_get_secret(item);
	if (!value)
		return ITEM_LOCKED;
	text = secret_value_get(value, &len);
	if (len > TKR_GIT_SECRET_MAX || memchr(text, '\0', len) ||
	    memchr(text, '\r', len))
		return ITEM_UNUSABLE;
	if (new_layout) {
		const char *p = text, *end = text + len;

		/* Line 1 is the password; later lines are known by prefix. */
		while (p <= end) {
			const char *lf = memchr(p, '\n', (size_t)(end - p));
			size_t n = lf ? (size_t)(lf - p) : (size_t)(end - p);
			g_autoptr(TkrSecret) line = tkr_secret_dup_len(p, n);

			if (p == text)
				c->password = g_steal_pointer(&line);
			else if (g_str_has_prefix(line, "password_expiry_utc=")) {
				guint64 v;

				if (g_ascii_string_to_unsigned(line + 20, 10, 1,
							       G_MAXINT64, &v,
							       NULL))
					c->password_expiry_utc = (gint64)v;
			} else if (g_str_has_prefix(line, "oauth_refresh_token=")) {
				tkr_secret_set(&c->oauth_refresh_token,
					       line + 20);
			}
			p += n + 1;
		}
	} else {
		if (memchr(text, '\n', len))
			return ITEM_UNUSABLE;
		c->password = tkr_secret_dup_len(text, len);
	}
	attrs = secret_item_get_attributes(item);
	c->username = g_strdup(g_hash_table_lookup(attrs, "user"));
	return ITEM_USABLE;
}

gboolean tkr_keyring_git_lookup(TkrKeyring *kr, const TkrCredential *query,
				TkrCredential *found, GError **error)
{
	g_autoptr(GHashTable) attrs = attributes_for(query, error);
	GList *items, *l;
	gboolean any = FALSE, locked = FALSE, ok = FALSE;

	if (!attrs)
		return FALSE;
	if (!tkr_keyring_search(kr, &git_schema, attrs, SEARCH_FLAGS, &items,
				 error))
		return FALSE;
	/* Newest first: the first usable item wins, all of it from one item. */
	for (l = items; l && !ok; l = l->next) {
		if (!same_port(l->data, attrs))
			continue;
		any = TRUE;
		switch (decode_item(l->data, found)) {
		case ITEM_USABLE:
			ok = TRUE;
			break;
		case ITEM_LOCKED:
			locked = TRUE;
			break;
		case ITEM_UNUSABLE:
			tkr_trace(&tkr_trace_keyring,
				  "skipping an unusable item");
			break;
		}
	}
	g_list_free_full(items, g_object_unref);
	if (ok)
		return TRUE;
	tkr_credential_release(found);
	if (locked) {
		tkr_keyring_set_locked_error(error);
		return FALSE;
	}
	if (any) {
		g_set_error_literal(error, TKR_ERROR, TKR_ERROR_NOT_FOUND,
				    "no usable item");
		return FALSE;
	}
	return tkr_keyring_not_found(kr, error);
}

static char *label_for(const TkrCredential *c)
{
	return g_strdup_printf("Git: %s://%s/%s", c->protocol,
			       c->host ? c->host : "", c->path ? c->path : "");
}

/* The secret text of the new layout. */
static TkrSecret *encode_secret(const TkrCredential *c)
{
	g_autofree char *expiry = NULL;
	size_t len = strlen(c->password);
	TkrSecret *s;

	if (c->password_expiry_utc > 0)
		expiry = g_strdup_printf("\npassword_expiry_utc=%" G_GINT64_FORMAT,
					 c->password_expiry_utc);
	len += expiry ? strlen(expiry) : 0;
	if (c->oauth_refresh_token)
		len += strlen("\noauth_refresh_token=") +
		       strlen(c->oauth_refresh_token);
	s = tkr_secret_new(len);
	g_strlcat(s, c->password, len + 1);
	if (expiry)
		g_strlcat(s, expiry, len + 1);
	if (c->oauth_refresh_token) {
		g_strlcat(s, "\noauth_refresh_token=", len + 1);
		g_strlcat(s, c->oauth_refresh_token, len + 1);
	}
	return s;
}

static gboolean same_attributes(SecretItem *item, GHashTable *want)
{
	g_autoptr(GHashTable) have = secret_item_get_attributes(item);
	GHashTableIter iter;
	gpointer key, value;
	guint n = 0;

	g_hash_table_iter_init(&iter, have);
	while (g_hash_table_iter_next(&iter, &key, &value)) {
		if (!strcmp(key, "xdg:schema"))
			continue;
		if (g_strcmp0(g_hash_table_lookup(want, key), value))
			return FALSE;
		n++;
	}
	return n == g_hash_table_size(want);
}

/* Whether item holds exactly secret. */
static gboolean holds(SecretItem *item, const char *secret)
{
	g_autoptr(SecretValue) value = secret_item_get_secret(item);
	gsize len = 0;
	const char *text = value ? secret_value_get(value, &len) : NULL;

	return text && len == strlen(secret) && !memcmp(text, secret, len);
}

/* Whether item is one of ours with exactly the attributes attrs. */
static gboolean same_item(SecretItem *item, GHashTable *attrs)
{
	return !g_strcmp0(secret_item_get_schema_name(item), GIT_SCHEMA_NEW) &&
	       same_attributes(item, attrs);
}

gboolean tkr_keyring_git_store(TkrKeyring *kr, const TkrCredential *c,
			       GError **error)
{
	g_autoptr(GHashTable) attrs = attributes_for(c, error);
	g_autoptr(TkrSecret) secret = NULL;
	g_autofree char *label = NULL;
	g_autofree char *created = NULL;
	GList *items, *l;
	gboolean kept = FALSE, ok = TRUE;

	if (!attrs)
		return FALSE;
	g_return_val_if_fail(c->username && c->password, FALSE);
	secret = encode_secret(c);

	/*
	 * git approves the credential after every successful request; when
	 * the keyring already holds exactly this, there is nothing to write.
	 */
	if (!tkr_keyring_search(kr, &git_schema, attrs, SEARCH_FLAGS, &items,
				 error))
		return FALSE;
	for (l = items; l && !kept; l = l->next)
		kept = same_item(l->data, attrs) && holds(l->data, secret);
	g_list_free_full(items, g_object_unref);
	if (kept) {
		tkr_trace(&tkr_trace_keyring, "store: already stored");
		return TRUE;
	}

	label = label_for(c);
	created = tkr_keyring_create(kr, &git_schema, attrs, label, secret,
				     strlen(secret), error);
	if (!created)
		return FALSE;

	/*
	 * Read the new item back (some services, KeePassXC, drop a store
	 * silently), then retire the items it replaces: those of our layout
	 * with exactly the same attributes.  Old-layout items stay, as
	 * newest git-credential-libsecret leaves them.  A crash in between
	 * leaves two items, and lookups take the newer.
	 */
	if (!tkr_keyring_search(kr, &git_schema, attrs, SEARCH_FLAGS, &items,
				 error))
		return FALSE;
	for (l = items; l; l = l->next) {
		if (!strcmp(g_dbus_proxy_get_object_path(l->data), created))
			kept = holds(l->data, secret);
	}
	for (l = items; l && kept && ok; l = l->next) {
		if (strcmp(g_dbus_proxy_get_object_path(l->data), created) &&
		    same_item(l->data, attrs))
			ok = tkr_keyring_delete(kr, l->data, error);
	}
	g_list_free_full(items, g_object_unref);
	if (!kept)
		g_set_error_literal(error, TKR_ERROR,
				    TKR_ERROR_KEYRING_UNAVAILABLE,
				    "the keyring did not keep the credential");
	return kept && ok;
}

gboolean tkr_keyring_git_erase(TkrKeyring *kr, const TkrCredential *c,
			       guint *erased, GError **error)
{
	g_autoptr(GHashTable) attrs = attributes_for(c, error);
	g_autoptr(GPtrArray) doomed = NULL;
	TkrCredential stored = TKR_CREDENTIAL_INIT;
	GList *items, *l;
	gboolean ok = TRUE;
	guint i;

	if (erased)
		*erased = 0;
	if (!attrs)
		return FALSE;
	if (!tkr_keyring_search(kr, &git_schema, attrs, SEARCH_FLAGS, &items,
				 error))
		return FALSE;
	/* Decide everything first: a locked item stops the whole erase. */
	doomed = g_ptr_array_new();
	for (l = items; l && ok; l = l->next) {
		if (!same_port(l->data, attrs))
			continue;
		switch (decode_item(l->data, &stored)) {
		case ITEM_LOCKED:
			tkr_keyring_set_locked_error(error);
			ok = FALSE;
			break;
		case ITEM_UNUSABLE:
			/* Not ours to judge unless no password was given. */
			if (!c->password &&
			    (!g_strcmp0(secret_item_get_schema_name(l->data),
					GIT_SCHEMA_NEW) ||
			     !g_strcmp0(secret_item_get_schema_name(l->data),
					GIT_SCHEMA_OLD)))
				g_ptr_array_add(doomed, l->data);
			break;
		case ITEM_USABLE:
			if (!c->password ||
			    tkr_secret_equal(stored.password, c->password))
				g_ptr_array_add(doomed, l->data);
			break;
		}
	}
	tkr_credential_release(&stored);
	for (i = 0; ok && i < doomed->len; i++) {
		ok = tkr_keyring_delete(kr, doomed->pdata[i], error);
		if (ok && erased)
			(*erased)++;
	}
	g_list_free_full(items, g_object_unref);
	return ok;
}
