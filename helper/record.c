#include "config.h"

#include "record.h"
#include "error.h"
#include "json.h"

#include <string.h>

#define TKR_RECORD_VERSION 1

void tkr_token_set_release(TkrTokenSet *set)
{
	tkr_secret_free(set->access_token);
	tkr_secret_free(set->refresh_token);
	g_free(set->token_type);
	g_clear_pointer(&set->extras, g_hash_table_unref);
	memset(set, 0, sizeof(*set));
}

void tkr_record_release(TkrRecord *rec)
{
	tkr_token_set_release(&rec->tokens);
	g_free(rec->last_error);
	memset(rec, 0, sizeof(*rec));
}

GHashTable *tkr_extras_new(void)
{
	return g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
				     (GDestroyNotify)tkr_secret_free);
}

void tkr_token_set_copy(TkrTokenSet *dst, const TkrTokenSet *src)
{
	tkr_token_set_release(dst);
	dst->access_token = tkr_secret_dup(src->access_token);
	dst->refresh_token = tkr_secret_dup(src->refresh_token);
	dst->expires_at = src->expires_at;
	dst->refresh_expires_at = src->refresh_expires_at;
	dst->issued_at = src->issued_at;
	dst->token_type = g_strdup(src->token_type);
	if (src->extras) {
		GHashTableIter iter;
		gpointer k, v;

		dst->extras = tkr_extras_new();
		g_hash_table_iter_init(&iter, src->extras);
		while (g_hash_table_iter_next(&iter, &k, &v))
			g_hash_table_insert(dst->extras, g_strdup(k),
					    tkr_secret_dup(v));
	}
}

gboolean tkr_record_fresh(const TkrRecord *rec, gint64 min_valid, gint64 now)
{
	if (!rec->tokens.access_token || rec->access_bad)
		return FALSE;
	if (!rec->tokens.expires_at)
		return TRUE;
	/* Written so that it cannot overflow for any stored expiry. */
	return rec->tokens.expires_at - now > min_valid;
}

static void add_string(json_object *obj, const char *key, const char *value)
{
	if (value)
		json_object_object_add(obj, key, json_object_new_string(value));
}

static void add_int(json_object *obj, const char *key, gint64 value)
{
	if (value)
		json_object_object_add(obj, key, json_object_new_int64(value));
}

TkrSecret *tkr_record_encode(const TkrRecord *rec)
{
	g_autoptr(json_object) obj = json_object_new_object();
	const TkrTokenSet *t = &rec->tokens;

	json_object_object_add(obj, "version",
			       json_object_new_int(TKR_RECORD_VERSION));
	add_string(obj, "access_token", t->access_token);
	add_string(obj, "refresh_token", t->refresh_token);
	add_int(obj, "expires_at", t->expires_at);
	add_int(obj, "refresh_expires_at", t->refresh_expires_at);
	add_int(obj, "issued_at", t->issued_at);
	add_string(obj, "token_type", t->token_type);
	add_int(obj, "last_refresh", rec->last_refresh);
	add_string(obj, "last_error", rec->last_error);
	if (rec->access_bad)
		json_object_object_add(obj, "access_bad",
				       json_object_new_boolean(TRUE));
	if (t->extras && g_hash_table_size(t->extras)) {
		json_object *extras = json_object_new_object();
		GHashTableIter iter;
		gpointer k, v;

		g_hash_table_iter_init(&iter, t->extras);
		while (g_hash_table_iter_next(&iter, &k, &v))
			add_string(extras, k, v);
		json_object_object_add(obj, "extras", extras);
	}
	return tkr_json_to_secret(obj);
}

static gboolean optional_int(json_object *obj, const char *key, gint64 *out,
			     GError **error)
{
	*out = 0;
	if (!json_object_object_get_ex(obj, key, NULL))
		return TRUE;
	return tkr_json_int(obj, key, 0, G_MAXINT64 - 1, FALSE, out, error);
}

static gboolean decode(json_object *obj, TkrRecord *rec, GError **error)
{
	TkrTokenSet *t = &rec->tokens;
	json_object *v;
	gint64 version;

	if (!tkr_json_int(obj, "version", 1, G_MAXINT32, FALSE, &version,
			  error))
		return FALSE;
	if (version != TKR_RECORD_VERSION) {
		g_set_error(error, TKR_ERROR, TKR_ERROR_KEYRING_CORRUPT,
			    "record version %" G_GINT64_FORMAT " unknown",
			    version);
		return FALSE;
	}
	t->access_token = tkr_json_token(obj, "access_token", error);
	if (!t->access_token)
		return FALSE;
	if (json_object_object_get_ex(obj, "refresh_token", NULL)) {
		t->refresh_token = tkr_json_token(obj, "refresh_token", error);
		if (!t->refresh_token)
			return FALSE;
	}
	if (!optional_int(obj, "expires_at", &t->expires_at, error) ||
	    !optional_int(obj, "refresh_expires_at", &t->refresh_expires_at,
			  error) ||
	    !optional_int(obj, "issued_at", &t->issued_at, error) ||
	    !optional_int(obj, "last_refresh", &rec->last_refresh, error))
		return FALSE;
	if (json_object_object_get_ex(obj, "token_type", NULL) &&
	    !(t->token_type = tkr_json_string(obj, "token_type", error)))
		return FALSE;
	if (json_object_object_get_ex(obj, "last_error", NULL) &&
	    !(rec->last_error = tkr_json_string(obj, "last_error", error)))
		return FALSE;
	if (json_object_object_get_ex(obj, "access_bad", &v))
		rec->access_bad = json_object_get_boolean(v);
	if (json_object_object_get_ex(obj, "extras", &v)) {
		json_object_object_foreach(v, key, val) {
			if (!json_object_is_type(val, json_type_string)) {
				g_set_error(error, TKR_ERROR,
					    TKR_ERROR_KEYRING_CORRUPT,
					    "extra '%s' is not a string", key);
				return FALSE;
			}
			if (!t->extras)
				t->extras = tkr_extras_new();
			g_hash_table_insert(t->extras, g_strdup(key),
					    tkr_secret_dup(json_object_get_string(val)));
		}
	}
	return TRUE;
}

gboolean tkr_record_decode(const char *text, size_t len, TkrRecord *rec,
			   GError **error)
{
	g_autoptr(json_object) obj = NULL;
	GError *local = NULL;

	tkr_record_release(rec);
	obj = tkr_json_parse(text, len, &local);
	if (obj && !json_object_is_type(obj, json_type_object))
		g_set_error_literal(&local, TKR_ERROR, TKR_ERROR_HTTP,
				    "not an object");
	if (!local)
		decode(obj, rec, &local);
	if (local) {
		tkr_record_release(rec);
		g_set_error(error, TKR_ERROR, TKR_ERROR_KEYRING_CORRUPT,
			    "unusable account record: %s", local->message);
		g_error_free(local);
		return FALSE;
	}
	return TRUE;
}
