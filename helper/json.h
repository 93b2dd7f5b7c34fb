/*
 * Strict JSON on top of json-c (docs/SECURITY.md section 4): one document,
 * nothing after it but white space, no comments or other leniencies, depth
 * at most TKR_JSON_DEPTH, and typed getters that never coerce.
 *
 * json-c cannot wipe its parse tree: callers keep documents that hold
 * secrets alive only briefly and copy tokens out into TkrSecrets.
 */
#ifndef TKR_JSON_H
#define TKR_JSON_H

#include "secret.h"

#include <glib.h>
#include <json-c/json.h>

#define TKR_JSON_DEPTH 8
/* The longest token we accept from anyone. */
#define TKR_TOKEN_MAX 8192

G_DEFINE_AUTOPTR_CLEANUP_FUNC(json_object, json_object_put)

/*
 * Returns: (transfer full) the root of text[0..len), or NULL with
 * TKR_ERROR_HTTP (text from a server) saying what is wrong.
 */
json_object *tkr_json_parse(const char *text, size_t len, GError **error);

/*
 * The string member key of obj as a token: 1 to TKR_TOKEN_MAX printable
 * ASCII bytes.  Returns: (transfer full) or NULL with TKR_ERROR_HTTP.
 */
TkrSecret *tkr_json_token(json_object *obj, const char *key, GError **error);

/* A string member without NUL.  (transfer full) or NULL with an error. */
char *tkr_json_string(json_object *obj, const char *key, GError **error);

/*
 * An integer member within [min, max]; a string of decimal digits counts
 * when digits_ok.  FALSE with TKR_ERROR_HTTP otherwise.
 */
gboolean tkr_json_int(json_object *obj, const char *key, gint64 min,
		      gint64 max, gboolean digits_ok, gint64 *out,
		      GError **error);

/* Whether s is 1*VSCHAR (0x20-0x7E) and at most max bytes. */
gboolean tkr_is_vschar(const char *s, size_t max);

/*
 * Returns: (transfer full) obj serialised compactly into secret memory.
 * (json-c's own buffer is freed unwiped: the documented residue.)
 */
TkrSecret *tkr_json_to_secret(json_object *obj);

#endif
