#include "config.h"

#include "json.h"
#include "error.h"

#include <math.h>
#include <string.h>

/*
 * json-c 0.16's strict mode still takes 'single-quoted' strings and NaN or
 * Infinity.  Outside double-quoted strings, JSON has only structure, white
 * space, numbers and the letters of true, false and null: check that.
 */
static gboolean only_json_outside_strings(const char *text, size_t len)
{
	gboolean in_string = FALSE, escaped = FALSE;
	size_t i;

	for (i = 0; i < len; i++) {
		char c = text[i];

		if (in_string) {
			if (escaped)
				escaped = FALSE;
			else if (c == '\\')
				escaped = TRUE;
			else if (c == '"')
				in_string = FALSE;
		} else if (c == '"') {
			in_string = TRUE;
		} else if (!strchr("{}[]:, \t\r\n0123456789+-.eEtrufalsn", c)) {
			return FALSE;
		}
	}
	return TRUE;
}

/* Whether every number under obj is finite ("nan" spelt in lowercase). */
static gboolean finite_numbers(json_object *obj)
{
	size_t i;

	switch (json_object_get_type(obj)) {
	case json_type_double:
		return isfinite(json_object_get_double(obj));
	case json_type_array:
		for (i = 0; i < json_object_array_length(obj); i++) {
			if (!finite_numbers(json_object_array_get_idx(obj, i)))
				return FALSE;
		}
		return TRUE;
	case json_type_object: {
		json_object_object_foreach(obj, key, val) {
			(void)key;
			if (!finite_numbers(val))
				return FALSE;
		}
		return TRUE;
	}
	default:
		return TRUE;
	}
}

json_object *tkr_json_parse(const char *text, size_t len, GError **error)
{
	struct json_tokener *tok;
	json_object *root;
	enum json_tokener_error jerr;
	size_t end;

	if (len > G_MAXINT || memchr(text, '\0', len)) {
		g_set_error_literal(error, TKR_ERROR, TKR_ERROR_HTTP,
				    "invalid JSON: NUL byte or too long");
		return NULL;
	}
	if (!only_json_outside_strings(text, len)) {
		g_set_error_literal(error, TKR_ERROR, TKR_ERROR_HTTP,
				    "invalid JSON: not JSON syntax");
		return NULL;
	}
	tok = json_tokener_new_ex(TKR_JSON_DEPTH);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	root = json_tokener_parse_ex(tok, text, (int)len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (!root || jerr != json_tokener_success) {
		json_object_put(root);
		g_set_error(error, TKR_ERROR, TKR_ERROR_HTTP, "invalid JSON: %s",
			    jerr == json_tokener_continue ?
			    "truncated" : json_tokener_error_desc(jerr));
		return NULL;
	}
	while (end < len && g_ascii_isspace(text[end]))
		end++;
	if (end != len) {
		json_object_put(root);
		g_set_error_literal(error, TKR_ERROR, TKR_ERROR_HTTP,
				    "invalid JSON: data after the document");
		return NULL;
	}
	if (!finite_numbers(root)) {
		json_object_put(root);
		g_set_error_literal(error, TKR_ERROR, TKR_ERROR_HTTP,
				    "invalid JSON: NaN or Infinity");
		return NULL;
	}
	return root;
}

gboolean tkr_is_vschar(const char *s, size_t max)
{
	size_t i;

	for (i = 0; s[i]; i++) {
		if (i >= max || s[i] < 0x20 || s[i] > 0x7e)
			return FALSE;
	}
	return i > 0;
}

static json_object *member(json_object *obj, const char *key,
			   json_type type, GError **error)
{
	json_object *v = NULL;

	if (!obj || !json_object_is_type(obj, json_type_object) ||
	    !json_object_object_get_ex(obj, key, &v) ||
	    !json_object_is_type(v, type)) {
		g_set_error(error, TKR_ERROR, TKR_ERROR_HTTP,
			    "'%s' missing or of the wrong type", key);
		return NULL;
	}
	return v;
}

TkrSecret *tkr_json_token(json_object *obj, const char *key, GError **error)
{
	json_object *v = member(obj, key, json_type_string, error);
	const char *s;

	if (!v)
		return NULL;
	s = json_object_get_string(v);
	if ((size_t)json_object_get_string_len(v) != strlen(s) ||
	    !tkr_is_vschar(s, TKR_TOKEN_MAX)) {
		g_set_error(error, TKR_ERROR, TKR_ERROR_HTTP,
			    "'%s' is not a token (1 to %d printable ASCII "
			    "characters)", key, TKR_TOKEN_MAX);
		return NULL;
	}
	return tkr_secret_dup(s);
}

char *tkr_json_string(json_object *obj, const char *key, GError **error)
{
	json_object *v = member(obj, key, json_type_string, error);
	const char *s;

	if (!v)
		return NULL;
	s = json_object_get_string(v);
	if ((size_t)json_object_get_string_len(v) != strlen(s)) {
		g_set_error(error, TKR_ERROR, TKR_ERROR_HTTP,
			    "'%s' holds a NUL byte", key);
		return NULL;
	}
	return g_strdup(s);
}

gboolean tkr_json_int(json_object *obj, const char *key, gint64 min,
		      gint64 max, gboolean digits_ok, gint64 *out,
		      GError **error)
{
	json_object *v = NULL;
	gint64 n;

	if (obj && json_object_is_type(obj, json_type_object))
		json_object_object_get_ex(obj, key, &v);
	if (v && json_object_is_type(v, json_type_int)) {
		n = json_object_get_int64(v);
	} else if (v && digits_ok && json_object_is_type(v, json_type_string)) {
		guint64 u;

		if (!g_ascii_string_to_unsigned(json_object_get_string(v), 10,
						0, G_MAXINT64, &u, NULL))
			goto bad;
		n = (gint64)u;
	} else {
		goto bad;
	}
	/* json-c clamps what does not fit to INT64_MIN/MAX: out of range. */
	if (n < min || n > max || n == G_MAXINT64 || n == G_MININT64)
		goto bad;
	*out = n;
	return TRUE;

bad:
	g_set_error(error, TKR_ERROR, TKR_ERROR_HTTP,
		    "'%s' missing, not an integer or out of range", key);
	return FALSE;
}

TkrSecret *tkr_json_to_secret(json_object *obj)
{
	size_t len = 0;
	const char *text = json_object_to_json_string_length(
		obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
		&len);

	return tkr_secret_dup_len(text, len);
}
