/*
 * A credential as the git credential protocol describes it
 * (git-credential(1); docs/PROTOCOLS.md section 1), and its wire format.
 *
 * The struct owns every field.  username NULL means "absent", "" means an
 * empty user name (they differ on the wire).  password and
 * oauth_refresh_token are secrets.  password_expiry_utc is 0 when there is
 * none.
 */
#ifndef TKR_CREDENTIAL_H
#define TKR_CREDENTIAL_H

#include "secret.h"

#include <glib.h>

/* The longest line git documents, LF included (git 2.46). */
#define TKR_GIT_LINE_MAX 65535
/* The most we read of one request: far above anything git sends. */
#define TKR_GIT_INPUT_MAX (1024 * 1024)

typedef struct {
	char *protocol;
	char *host;		/* as sent: may include ":port" */
	char *path;
	char *username;
	TkrSecret *password;
	TkrSecret *oauth_refresh_token;
	gint64 password_expiry_utc;
	gboolean ephemeral;
	gboolean authtype;	/* the request carried authtype/credential */
} TkrCredential;

#define TKR_CREDENTIAL_INIT { 0 }

void tkr_credential_init(TkrCredential *c);
void tkr_credential_release(TkrCredential *c);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(TkrCredential, tkr_credential_release)

/*
 * Read a request from fd: up to EOF (or, with to_blank_line, a blank
 * line: a caller may keep the pipe open after the request), at most max
 * bytes.  Returns: (transfer full) the bytes read, NUL terminated, with
 * their count in *len; the buffer is a secret because it holds passwords.
 * Sets TKR_ERROR_PROTOCOL when the input is too large, or a GIO error when
 * reading fails.  Blocks on fd.
 */
TkrSecret *tkr_input_read(int fd, size_t max, gboolean to_blank_line,
			  size_t *len, GError **error);

typedef void (*TkrKvFunc)(const char *key, const char *value, gpointer data);

/*
 * Walk the key=value lines of buf[0..len) up to a blank line or the end,
 * calling func for each (key and value borrowed for the call).  One CR
 * before each LF is dropped.  Fails with TKR_ERROR_PROTOCOL, having called
 * func for the lines before, when a line has no '=', is longer than
 * TKR_GIT_LINE_MAX, or holds a NUL, or a value a CR.
 */
gboolean tkr_kv_parse(const char *buf, size_t len, TkrKvFunc func,
		      gpointer data, GError **error);

/*
 * Parse the request in buf[0..len) into c (which is released first): lines
 * of key=value up to a blank line or the end; one CR before each LF is
 * dropped; unknown keys are ignored; a later key overrides an earlier one.
 * The whole request is refused with TKR_ERROR_PROTOCOL (and c left empty)
 * when a line has no '=', is longer than TKR_GIT_LINE_MAX, or a line holds
 * a NUL or a value a CR.
 */
gboolean tkr_credential_parse_git(TkrCredential *c, const char *buf,
				  size_t len, GError **error);

/*
 * Format the attributes git accepts back on "get": username, password,
 * password_expiry_utc (when not 0) and oauth_refresh_token, each only when
 * set.  Returns: (transfer full) the text, or NULL with TKR_ERROR_PROTOCOL
 * if a value holds CR, LF or NUL (nothing is to be printed then).
 */
TkrSecret *tkr_credential_format_git(const TkrCredential *c, GError **error);

/*
 * Split a git "host" value into the host name and port, understanding
 * "[v6]" and "[v6]:port".  *port is 0 when there is none.  Returns FALSE
 * with TKR_ERROR_PROTOCOL for an empty host, a port that is not a number in
 * 1..65535, or an unbracketed name with several ':'.
 */
gboolean tkr_credential_split_host(const char *host, char **name,
				   guint *port, GError **error);

#endif
