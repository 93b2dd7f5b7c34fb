/*
 * The git credential helper's operations (docs/PROTOCOLS.md section 1 and
 * DESIGN.md section 6), independent of stdin, stdout and exit codes.
 *
 * Requests that do not match a configured account are served from git
 * plain items in the keyring, with newest git-credential-libsecret's
 * behaviour.  All three functions may block on the keyring (bounded).
 */
#ifndef TKR_GIT_PROTO_H
#define TKR_GIT_PROTO_H

#include "credential.h"

/*
 * Whether req names something specific enough to look up: a protocol and
 * a parseable, non-empty host, or protocol=cert with a path.  Anything
 * less must never reach the keyring (a wider search matches more items;
 * CVE-2020-11008).
 */
gboolean tkr_git_request_ok(const TkrCredential *req);

/*
 * Fill answer with what git should get back for req.  Returns FALSE with
 * TKR_ERROR_NOT_FOUND on a miss (print nothing), or another error.
 */
gboolean tkr_git_get(const TkrCredential *req, TkrCredential *answer,
		     GError **error);

/* Keep req's credential; requests git should not persist are ignored. */
gboolean tkr_git_store(const TkrCredential *req, GError **error);

/* Forget the credentials req names (compare-and-delete with a password). */
gboolean tkr_git_erase(const TkrCredential *req, GError **error);

#endif
