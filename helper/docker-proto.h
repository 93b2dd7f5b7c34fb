/*
 * The docker credential helper's operations (docs/PROTOCOLS.md section 2,
 * DESIGN.md section 7), independent of stdin, stdout and exit codes.
 *
 * Server keys: the original spelling is what we store and echo; matching
 * is first by the exact string, then by the canonical form of section 2.5
 * (lowercase scheme and host, https when none, default port and one
 * trailing '/' dropped, Docker Hub's aliases made one).  Keys that belong
 * to a configured account are answered with a fresh access token.
 */
#ifndef TKR_DOCKER_PROTO_H
#define TKR_DOCKER_PROTO_H

#include "secret.h"
#include "keyring/keyring.h"

#include <glib.h>

/* The exact messages the docker CLI matches. */
#define TKR_DOCKER_NOT_FOUND "credentials not found in native keychain"
#define TKR_DOCKER_NO_URL "no credentials server URL"
#define TKR_DOCKER_NO_USER "no credentials username"

/* The key new Docker Hub items get. */
#define TKR_DOCKER_HUB "https://index.docker.io/v1/"

/*
 * Returns: (transfer full) the canonical form of key, or NULL when it is
 * not a URL we can reason about (then only the exact string matches).
 */
char *tkr_docker_canonical(const char *key);

/*
 * Read a get/erase request: the server key, trimmed of ASCII white space.
 * Empty input is TKR_ERROR_PROTOCOL with TKR_DOCKER_NO_URL; more than one
 * line, a NUL or a CR is TKR_ERROR_PROTOCOL too.
 */
char *tkr_docker_read_key(int fd, GError **error);

/*
 * Parse a store request (Go's JSON: field names matched without regard
 * to case, unknown fields ignored), strictly otherwise.  Errors are
 * TKR_ERROR_PROTOCOL, with the CLI's exact messages for a missing
 * ServerURL or Username.
 */
gboolean tkr_docker_parse_store(const char *text, size_t len, char **server,
				char **username, TkrSecret **secret,
				GError **error);

/*
 * Returns: (transfer full) the JSON answer to get (with a final LF), or
 * NULL: TKR_ERROR_NOT_FOUND on a miss, or another error.
 */
TkrSecret *tkr_docker_get(const char *key, GError **error);

gboolean tkr_docker_store(const char *server, const char *username,
			  const char *secret, GError **error);

gboolean tkr_docker_erase(const char *key, GError **error);

/* Returns: (transfer full) the JSON answer to list (never refreshes). */
char *tkr_docker_list(GError **error);

#endif
