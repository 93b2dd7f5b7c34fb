/*
 * docker plain items, in docker-credential-secretservice's layout
 * (docs/PROTOCOLS.md section 3.3), so that it and tokenring see each
 * other's items.  Unlike it, we keep one item per server key, and label
 * items with the ServerURL (which even makes secretservice's own list
 * right).
 */
#include "config.h"

#include "keyring-private.h"
#include "helper/error.h"
#include "helper/trace.h"

#include <string.h>

#define DOCKER_LABEL "Docker Credentials"
/* Larger secrets are somebody else's garbage. */
#define TKR_DOCKER_SECRET_MAX (64 * 1024)

static const SecretSchema docker_schema = {
	.name = "io.docker.Credentials",
	.flags = SECRET_SCHEMA_NONE,
	.attributes = {
		{ .name = "label", .type = SECRET_SCHEMA_ATTRIBUTE_STRING },
		{ .name = "server", .type = SECRET_SCHEMA_ATTRIBUTE_STRING },
		{ .name = "username", .type = SECRET_SCHEMA_ATTRIBUTE_STRING },
		{ .name = "docker_cli", .type = SECRET_SCHEMA_ATTRIBUTE_STRING },
		{ .name = NULL, .type = 0 },
	},
};

void tkr_docker_item_free(TkrDockerItem *item)
{
	if (!item)
		return;
	g_free(item->server);
	g_free(item->username);
	tkr_secret_free(item->secret);
	g_free(item);
}

/* Every docker item, with secrets when with_secrets. */
static gboolean search_all(TkrKeyring *kr, gboolean with_secrets,
			   GList **items, GError **error)
{
	g_autoptr(GHashTable) attrs = g_hash_table_new(g_str_hash,
						       g_str_equal);

	g_hash_table_insert(attrs, "docker_cli", "1");
	return tkr_keyring_search(kr, &docker_schema, attrs,
				  SECRET_SEARCH_ALL |
				  (with_secrets ? SECRET_SEARCH_LOAD_SECRETS : 0),
				  items, error);
}

GPtrArray *tkr_keyring_docker_list(TkrKeyring *kr, gboolean with_secrets,
				   GError **error)
{
	g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(
		(GDestroyNotify)tkr_docker_item_free);
	GList *items, *l;

	if (!search_all(kr, with_secrets, &items, error))
		return NULL;
	if (!items) {
		GError *nf = NULL;

		/* Empty: fine, unless it is empty because it is locked. */
		tkr_keyring_not_found(kr, &nf);
		if (!g_error_matches(nf, TKR_ERROR, TKR_ERROR_NOT_FOUND)) {
			g_propagate_error(error, nf);
			return NULL;
		}
		g_error_free(nf);
		return g_steal_pointer(&out);
	}
	for (l = items; l; l = l->next) {
		g_autoptr(GHashTable) attrs = secret_item_get_attributes(l->data);
		TkrDockerItem *item;

		if (!g_hash_table_lookup(attrs, "server"))
			continue;
		item = g_new0(TkrDockerItem, 1);
		item->server = g_strdup(g_hash_table_lookup(attrs, "server"));
		item->username = g_strdup(g_hash_table_lookup(attrs,
							      "username"));
		if (with_secrets) {
			g_autoptr(SecretValue) value = NULL;
			const char *text;
			gsize len;

			if (secret_item_get_locked(l->data) ||
			    !(value = secret_item_get_secret(l->data))) {
				tkr_docker_item_free(item);
				g_list_free_full(items, g_object_unref);
				tkr_keyring_set_locked_error(error);
				return NULL;
			}
			text = secret_value_get(value, &len);
			/* Untrusted: binary or huge is "no usable item". */
			if (len <= TKR_DOCKER_SECRET_MAX &&
			    !memchr(text, '\0', len))
				item->secret = tkr_secret_dup_len(text, len);
		}
		g_ptr_array_add(out, item);
	}
	g_list_free_full(items, g_object_unref);
	return g_steal_pointer(&out);
}

static gboolean in(const char *const *list, const char *s)
{
	return list && s && g_strv_contains(list, s);
}

gboolean tkr_keyring_docker_store(TkrKeyring *kr, const char *server,
				  const char *username, const char *secret,
				  const char *const *replace, GError **error)
{
	g_autoptr(GHashTable) attrs = g_hash_table_new(g_str_hash,
						       g_str_equal);
	g_autofree char *created = NULL;
	gboolean kept = FALSE, ok = TRUE;
	GList *items, *l;

	g_hash_table_insert(attrs, "label", DOCKER_LABEL);
	g_hash_table_insert(attrs, "server", (gpointer)server);
	g_hash_table_insert(attrs, "username", (gpointer)username);
	g_hash_table_insert(attrs, "docker_cli", "1");
	created = tkr_keyring_create(kr, &docker_schema, attrs, server, secret,
				     strlen(secret), error);
	if (!created)
		return FALSE;
	if (!search_all(kr, TRUE, &items, error))
		return FALSE;
	for (l = items; l; l = l->next) {
		const char *path = g_dbus_proxy_get_object_path(l->data);
		g_autoptr(GHashTable) have = secret_item_get_attributes(l->data);

		if (!strcmp(path, created)) {
			g_autoptr(SecretValue) value =
				secret_item_get_secret(l->data);
			gsize len = 0;
			const char *text = value ?
				secret_value_get(value, &len) : NULL;

			kept = text && len == strlen(secret) &&
			       !memcmp(text, secret, len);
		} else if (ok &&
			   (in(replace, g_hash_table_lookup(have, "server")) ||
			    !g_strcmp0(g_hash_table_lookup(have, "server"),
				       server))) {
			ok = tkr_keyring_delete(kr, l->data, error);
		}
	}
	g_list_free_full(items, g_object_unref);
	if (!kept && ok)
		g_set_error_literal(error, TKR_ERROR,
				    TKR_ERROR_KEYRING_UNAVAILABLE,
				    "the keyring did not keep the credentials");
	return kept && ok;
}

gboolean tkr_keyring_docker_erase(TkrKeyring *kr, const char *const *servers,
				  GError **error)
{
	gboolean ok = TRUE;
	GList *items, *l;

	if (!search_all(kr, FALSE, &items, error))
		return FALSE;
	for (l = items; l && ok; l = l->next) {
		g_autoptr(GHashTable) have = secret_item_get_attributes(l->data);

		if (in(servers, g_hash_table_lookup(have, "server")))
			ok = tkr_keyring_delete(kr, l->data, error);
	}
	g_list_free_full(items, g_object_unref);
	return ok;
}
