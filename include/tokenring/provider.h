/*
 * tokenring provider modules: the ABI (version 1).
 *
 * A provider teaches tokenring one token API.  It is a shared object in
 * $(pkglibdir)/providers/NAME.so that exports exactly one symbol,
 *
 *	const TkrProvider tkr_provider_v1 = { .abi = TKR_PROVIDER_ABI, ... };
 *
 * loaded with dlopen(RTLD_NOW | RTLD_LOCAL) only when an account needs a
 * refresh or a login, the way PAM loads its modules.  A module that fails
 * to load, lacks the symbol or has another ABI number fails its accounts;
 * there is no fallback.
 *
 * A provider includes this header and GLib, nothing else: it never links
 * libcurl, libsecret or json-c, and never touches the terminal.  The core
 * hands it everything through a TkrHost: HTTP with tokenring's security
 * policy (HTTPS with verification, loopback-only http, no redirects,
 * bounded time and size), strict JSON, secret memory, trace and the login
 * conversation.  See tokenring-provider(7) for a walk-through.
 *
 * Conventions for every slot below:
 *  - Errors are GErrors in TKR_ERROR (domain "tkr-error-quark"), with the
 *    codes of TkrProviderError.  Messages are one line, lowercase, no
 *    secret and no raw server text (use host->sanitize).
 *  - Strings passed in are borrowed for the duration of the call.
 *  - TkrSecret values are NUL-terminated strings in wiped memory: allocate
 *    them with host->secret_dup and free them with host->secret_free,
 *    never with g_free.
 *  - Every slot may block on the network for at most the account's
 *    timeout per request; none may prompt except through host->converse.
 *  - Calls are made from one thread.
 */
#ifndef TOKENRING_PROVIDER_H
#define TOKENRING_PROVIDER_H

#include <glib.h>

G_BEGIN_DECLS

#define TKR_PROVIDER_ABI 1

typedef char TkrSecret;

/* The error codes a provider may set (a subset of tokenring's TKR_ERROR). */
typedef enum {
	TKR_PROVIDER_ERROR_USAGE = 2,		/* a login field is missing */
	TKR_PROVIDER_ERROR_CONFIG = 3,		/* a bad account key value */
	TKR_PROVIDER_ERROR_NETWORK = 7,		/* no answer, may pass */
	TKR_PROVIDER_ERROR_HTTP = 8,		/* an unexpected status or body */
	TKR_PROVIDER_ERROR_RATE_LIMITED = 9,	/* try again later */
	TKR_PROVIDER_ERROR_LOGIN_NEEDED = 11,	/* the refresh token is dead */
	TKR_PROVIDER_ERROR_PROVIDER = 12,	/* anything else the API said no to */
} TkrProviderError;

/*
 * g_quark_from_string, not _static_string: the module may be unloaded
 * while the quark lives on.
 */
#define TKR_PROVIDER_ERROR (g_quark_from_string("tkr-error-quark"))

/*
 * What a login or refresh yields, and what the core keeps in the keyring
 * record (one JSON secret per account).  All fields are owned by the set.
 */
typedef struct {
	TkrSecret *access_token;	/* required, 1*VSCHAR */
	TkrSecret *refresh_token;	/* NULL: none came back, keep the old */
	gint64 expires_at;		/* access token, epoch seconds; 0 unknown */
	gint64 refresh_expires_at;	/* epoch seconds; 0 unknown */
	gint64 issued_at;		/* when the pair was issued; 0 unknown */
	/*
	 * The Authorization scheme the API wants ("Bearer"), or NULL when
	 * the token does not travel in an Authorization header.
	 */
	char *token_type;
	/*
	 * Provider data kept in the record: name -> TkrSecret *.  Things
	 * such as Ekuaibao's corporationId, or app credentials kept for
	 * re-login.  Never shown by "tokenring status".  NULL when empty.
	 */
	GHashTable *extras;
} TkrTokenSet;

/* Flags for host->converse and TkrLoginField. */
typedef enum {
	TKR_FIELD_SECRET = 1 << 0,	/* no echo; kept in secret memory */
	TKR_FIELD_OPTIONAL = 1 << 1,	/* may be absent */
} TkrFieldFlags;

/* One thing "tokenring login" may ask for (documentation and help). */
typedef struct {
	const char *key;		/* the key=value name on stdin */
	const char *prompt;		/* what a terminal prompt says */
	TkrFieldFlags flags;
} TkrLoginField;

/* An HTTP request.  Everything is borrowed by the host for the call. */
typedef struct {
	const char *method;		/* "GET" or "POST" */
	/*
	 * May carry secrets in its query (Ekuaibao requires it); the host
	 * never traces or prints a query string.
	 */
	const char *url;
	const char *const *headers;	/* "Name: value", NULL-terminated */
	const char *body;		/* may be a TkrSecret; NULL for none */
	gsize body_len;
	const char *content_type;	/* of the body; NULL for none */
} TkrHttpRequest;

/* An HTTP response; release it with host->http_response_clear. */
typedef struct {
	long status;			/* 200, 403, ...; 3xx never arrives */
	TkrSecret *body;		/* NUL-terminated, capped in size */
	gsize body_len;
	char *content_type;		/* nullable */
	char *retry_after;		/* the raw Retry-After header; nullable */
} TkrHttpResponse;

typedef struct _TkrJson TkrJson;	/* a node of a parsed document */

typedef struct _TkrHost TkrHost;

struct _TkrHost {
	guint abi;			/* TKR_PROVIDER_ABI */
	const char *account;		/* the account's name */
	const char *url;		/* its `url`, the API base */

	/*
	 * Perform one request under tokenring's policy.  Returns FALSE with
	 * NETWORK (no connection, timeout, truncated or oversized answer,
	 * a redirect) or CONFIG (a URL the policy refuses).  Any status,
	 * including 4xx and 5xx, is a TRUE return: the provider decides.
	 */
	gboolean (*http_request)(const TkrHost *host,
				 const TkrHttpRequest *request,
				 TkrHttpResponse *response, GError **error);
	void (*http_response_clear)(TkrHttpResponse *response);

	/*
	 * Returns: (transfer full) base followed by "?" (or "&" if base has
	 * a query) and the pairs key=value, percent-encoded (":" as %3A),
	 * in secret memory.  pairs is NULL-terminated: k1, v1, k2, v2, ...
	 */
	TkrSecret *(*url_with_query)(const char *base,
				     const char *const *pairs);
	/* The same pairs as an application/x-www-form-urlencoded body. */
	TkrSecret *(*form_encode)(const char *const *pairs);
	/* The same pairs as a JSON object of strings, in secret memory. */
	TkrSecret *(*json_encode)(const char *const *pairs);

	/*
	 * Strict JSON: one document, nothing after it but white space, depth
	 * at most 8.  Returns: (transfer full) the root, or NULL with HTTP.
	 */
	TkrJson *(*json_parse)(const char *text, gsize len, GError **error);
	void (*json_free)(TkrJson *root);
	/* The member key of an object node; NULL if absent or not an object. */
	const TkrJson *(*json_object)(const TkrJson *node, const char *key);
	/* Whether node is an object with member key (of any type). */
	gboolean (*json_has)(const TkrJson *node, const char *key);
	/*
	 * A string member that is a token: 1 to 8192 printable ASCII bytes
	 * (0x20-0x7E).  Returns: (transfer full) a secret, or NULL with HTTP
	 * naming the key.
	 */
	TkrSecret *(*json_token)(const TkrJson *node, const char *key,
				 GError **error);
	/* A string member (any UTF-8, no NUL).  (transfer full) or NULL. */
	char *(*json_string)(const TkrJson *node, const char *key,
			     GError **error);
	/*
	 * An integer member within [min, max] (a JSON integer, or a string
	 * of decimal digits when digits_ok).  FALSE with HTTP otherwise.
	 */
	gboolean (*json_int)(const TkrJson *node, const char *key,
			     gint64 min, gint64 max, gboolean digits_ok,
			     gint64 *out, GError **error);

	TkrSecret *(*secret_dup)(const char *s);
	void (*secret_free)(TkrSecret *s);
	/* Wipe len bytes at p so that the compiler cannot skip it. */
	void (*wipe)(void *p, gsize len);
	/* Compare in time that depends only on the lengths. */
	gboolean (*secret_equal)(const char *a, const char *b);

	/*
	 * Returns: (transfer full) server text fit for one line of a
	 * message: control bytes escaped, cut to max bytes.
	 */
	char *(*sanitize)(const char *text, gsize max);

	/* A trace line under TOKENRING_TRACE_PROVIDER; never a secret. */
	void (*trace)(const TkrHost *host, const char *fmt, ...)
		G_GNUC_PRINTF(2, 3);

	/*
	 * The login conversation (PAM's conv): ask for one field.  On a
	 * terminal this prompts (without echo for TKR_FIELD_SECRET);
	 * otherwise it answers from the key=value lines read from stdin.
	 * Returns: (transfer full) the value, or NULL: with no error for an
	 * absent TKR_FIELD_OPTIONAL field, else with USAGE.  Only valid
	 * during login.
	 */
	TkrSecret *(*converse)(const TkrHost *host, const char *key,
			       const char *prompt, TkrFieldFlags flags,
			       GError **error);

	/*
	 * Show the user one line during login (a device-code link, a QR
	 * payload): on stderr, control bytes escaped.  Only valid during
	 * login; never pass a secret.
	 */
	void (*inform)(const TkrHost *host, const char *text);

	/* Now, in seconds and in milliseconds since the epoch. */
	gint64 (*now)(void);
	gint64 (*now_ms)(void);

	/* Sleep, for short bounded backoffs (at most 10 s per call). */
	void (*sleep_ms)(guint ms);

	/* Release everything set owns (secrets wiped) and zero it. */
	void (*token_set_clear)(TkrTokenSet *set);
	/* The extra key of set, or NULL.  (transfer none) */
	const char *(*extra)(const TkrTokenSet *set, const char *key);
	/* Set (or replace) extra key to a secret copy of value; NULL: no-op. */
	void (*set_extra)(TkrTokenSet *set, const char *key, const char *value);

	/*
	 * Whether url passes the policy every request is held to (https, or
	 * plain http to a loopback host; a host, no user name, query or
	 * fragment), to check a configured URL before any request.  FALSE
	 * with CONFIG saying what is wrong.
	 */
	gboolean (*url_ok)(const char *url, GError **error);

	gpointer priv;			/* the core's; do not touch */
};

/*
 * The vtable.  Optional slots may be NULL.
 */
typedef struct {
	guint abi;			/* TKR_PROVIDER_ABI */
	const char *name;		/* [a-z0-9_-]+, the module's file name */
	const char *description;	/* one line, for "tokenring providers" */
	/* Account keys this provider understands, NULL-terminated. */
	const char *const *config_keys;
	/* What login may ask, terminated by { NULL }; documentation only. */
	const TkrLoginField *login_fields;

	/*
	 * Check the account's configuration and keep what is needed.
	 * config maps every key of the account's group to its value
	 * (borrowed, valid until finish).  Returns: (transfer full) the
	 * provider's state, or NULL with CONFIG naming the bad key.  No I/O.
	 */
	gpointer (*init)(const TkrHost *host, GHashTable *config,
			 GError **error);

	/*
	 * Obtain the first tokens, asking for what is needed through
	 * host->converse.  Fills out (zeroed by the caller).
	 */
	gboolean (*login)(gpointer state, const TkrHost *host,
			  TkrTokenSet *out, GError **error);

	/*
	 * Refresh current (the record as stored; borrowed) into out (zeroed
	 * by the caller).  Return LOGIN_NEEDED only when the API rejected
	 * the refresh token and nothing stored can re-acquire one;
	 * NETWORK or RATE_LIMITED when trying later may work.  A provider
	 * that can re-login with stored credentials (current->extras) does
	 * so itself.  The extras of out are merged over the record's: keys
	 * it sets replace, the others stay.
	 */
	gboolean (*refresh)(gpointer state, const TkrHost *host,
			    const TkrTokenSet *current, TkrTokenSet *out,
			    GError **error);

	/* Optional: revoke current at the server (logout).  */
	gboolean (*revoke)(gpointer state, const TkrHost *host,
			   const TkrTokenSet *current, GError **error);

	/* Free the state from init.  NULL is passed never. */
	void (*finish)(gpointer state);
} TkrProvider;

G_END_DECLS

#endif
