/*
 * Account records in the keyring: org.tokenring.Account items.
 */
#include "config.h"

#include "keyring-private.h"
#include "helper/error.h"
#include "helper/trace.h"

#include <string.h>

#define SEARCH_FLAGS (SECRET_SEARCH_ALL | SECRET_SEARCH_LOAD_SECRETS)

/* A record larger than this is not ours. */
#define TKR_RECORD_MAX (256 * 1024)

static const SecretSchema account_schema = {
	.name = "org.tokenring.Account",
	.flags = SECRET_SCHEMA_NONE,
	.attributes = {
		{ .name = "account", .type = SECRET_SCHEMA_ATTRIBUTE_STRING },
		{ .name = "provider", .type = SECRET_SCHEMA_ATTRIBUTE_STRING },
		{ .name = NULL, .type = 0 },
	},
};

static GHashTable *account_attributes(const char *account,
				      const char *provider)
{
	GHashTable *attrs = g_hash_table_new(g_str_hash, g_str_equal);

	g_hash_table_insert(attrs, "account", (gpointer)account);
	if (provider)
		g_hash_table_insert(attrs, "provider", (gpointer)provider);
	return attrs;
}

/* Decode item's secret into rec; a locked item is reported as locked. */
static gboolean decode_item(SecretItem *item, TkrRecord *rec, GError **error)
{
	g_autoptr(SecretValue) value = NULL;
	const char *text;
	gsize len;

	if (secret_item_get_locked(item) ||
	    !(value = secret_item_get_secret(item))) {
		tkr_keyring_set_locked_error(error);
		return FALSE;
	}
	text = secret_value_get(value, &len);
	if (len > TKR_RECORD_MAX) {
		g_set_error_literal(error, TKR_ERROR, TKR_ERROR_KEYRING_CORRUPT,
				    "unusable account record: too large");
		return FALSE;
	}
	return tkr_record_decode(text, len, rec, error);
}

gboolean tkr_keyring_record_load(TkrKeyring *kr, const char *account,
				 TkrRecord *rec, GError **error)
{
	g_autoptr(GHashTable) attrs = account_attributes(account, NULL);
	GList *items;
	gboolean ok;

	tkr_record_release(rec);
	if (!tkr_keyring_search(kr, &account_schema, attrs, SEARCH_FLAGS,
				&items, error))
		return FALSE;
	if (!items)
		return tkr_keyring_not_found(kr, error);
	/* One item per account; should there be more, the newest wins. */
	ok = decode_item(items->data, rec, error);
	g_list_free_full(items, g_object_unref);
	return ok;
}

gboolean tkr_keyring_record_store(TkrKeyring *kr, const char *account,
				  const char *provider, const TkrRecord *rec,
				  GError **error)
{
	g_autoptr(GHashTable) attrs = account_attributes(account, provider);
	g_autoptr(GHashTable) any = account_attributes(account, NULL);
	g_autoptr(TkrSecret) secret = tkr_record_encode(rec);
	g_autofree char *label = g_strdup_printf("tokenring account '%s'",
						 account);
	GList *items, *l;
	gboolean kept = FALSE, ok = TRUE;

	if (!tkr_keyring_replace(kr, &account_schema, attrs, label, secret,
				 strlen(secret), error))
		return FALSE;
	/* Read back: a silent drop must not pass for a stored token. */
	if (!tkr_keyring_search(kr, &account_schema, any, SEARCH_FLAGS,
				&items, error))
		return FALSE;
	for (l = items; l; l = l->next) {
		g_autoptr(GHashTable) have = secret_item_get_attributes(l->data);
		g_autoptr(SecretValue) value = NULL;
		const char *text;
		gsize len = 0;

		if (g_strcmp0(g_hash_table_lookup(have, "provider"), provider)) {
			if (ok)
				ok = tkr_keyring_delete(kr, l->data, error);
			continue;
		}
		value = secret_item_get_secret(l->data);
		text = value ? secret_value_get(value, &len) : NULL;
		if (text && len == strlen(secret) && !memcmp(text, secret, len))
			kept = TRUE;
	}
	g_list_free_full(items, g_object_unref);
	if (!kept && ok)
		g_set_error(error, TKR_ERROR, TKR_ERROR_KEYRING_UNAVAILABLE,
			    "the keyring did not keep the record of '%s'",
			    account);
	return kept && ok;
}

gboolean tkr_keyring_record_delete(TkrKeyring *kr, const char *account,
				   gboolean *deleted, GError **error)
{
	g_autoptr(GHashTable) attrs = account_attributes(account, NULL);
	GList *items, *l;
	gboolean ok = TRUE;

	if (deleted)
		*deleted = FALSE;
	if (!tkr_keyring_search(kr, &account_schema, attrs, SEARCH_FLAGS,
				&items, error))
		return FALSE;
	for (l = items; l && ok; l = l->next) {
		ok = tkr_keyring_delete(kr, l->data, error);
		if (ok && deleted)
			*deleted = TRUE;
	}
	g_list_free_full(items, g_object_unref);
	return ok;
}
