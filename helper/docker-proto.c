#include "config.h"

#include "docker-proto.h"
#include "account-config.h"
#include "credential.h"
#include "error.h"
#include "json.h"
#include "refresh.h"
#include "trace.h"

#include <errno.h>
#include <gio/gio.h>
#include <string.h>
#include <unistd.h>

/* The CLI's own reader takes 64 KiB lines; a server key is far shorter. */
#define TKR_DOCKER_INPUT_MAX (64 * 1024)

static gboolean is_hub_host(const char *host)
{
	return !strcmp(host, "docker.io") || !strcmp(host, "index.docker.io") ||
	       !strcmp(host, "registry-1.docker.io");
}

char *tkr_docker_canonical(const char *key)
{
	g_autofree char *url = NULL;
	g_autofree char *scheme = NULL;
	g_autofree char *host = NULL;
	g_autofree char *path = NULL;
	g_autoptr(GUri) uri = NULL;
	int port;

	if (!key || !*key || strpbrk(key, " \t\r\n"))
		return NULL;
	url = strstr(key, "://") ? g_strdup(key)
				 : g_strconcat("https://", key, NULL);
	uri = g_uri_parse(url, G_URI_FLAGS_NONE, NULL);
	if (!uri || !g_uri_get_host(uri) || !*g_uri_get_host(uri) ||
	    g_uri_get_userinfo(uri) || g_uri_get_query(uri) ||
	    g_uri_get_fragment(uri))
		return NULL;
	scheme = g_ascii_strdown(g_uri_get_scheme(uri), -1);
	if (strcmp(scheme, "https") && strcmp(scheme, "http"))
		return NULL;
	host = g_ascii_strdown(g_uri_get_host(uri), -1);
	port = g_uri_get_port(uri);
	if ((port == 443 && !strcmp(scheme, "https")) ||
	    (port == 80 && !strcmp(scheme, "http")))
		port = -1;
	path = g_strdup(g_uri_get_path(uri));
	if (g_str_has_suffix(path, "/"))
		path[strlen(path) - 1] = '\0';
	/* Docker Hub, under every name the CLI and other clients use. */
	if (is_hub_host(host) && port < 0 && !strcmp(scheme, "https") &&
	    (!*path || !strcmp(path, "/v1")))
		return g_strdup("https://index.docker.io/v1");
	if (strchr(host, ':'))
		return port < 0 ? g_strdup_printf("%s://[%s]%s", scheme, host,
						  path)
				: g_strdup_printf("%s://[%s]:%d%s", scheme, host,
						  port, path);
	return port < 0 ? g_strdup_printf("%s://%s%s", scheme, host, path)
			: g_strdup_printf("%s://%s:%d%s", scheme, host, port,
					  path);
}

char *tkr_docker_read_key(int fd, GError **error)
{
	g_autoptr(TkrSecret) buf = NULL;
	size_t have = 0;
	char *start, *end;

	buf = tkr_input_read(fd, TKR_DOCKER_INPUT_MAX, FALSE, &have, error);
	if (!buf)
		return NULL;
	if (memchr(buf, '\0', have)) {
		g_set_error_literal(error, TKR_ERROR, TKR_ERROR_PROTOCOL,
				    "server URL contains a NUL byte");
		return NULL;
	}
	start = buf;
	end = buf + have;
	while (start < end && g_ascii_isspace(*start))
		start++;
	while (end > start && g_ascii_isspace(end[-1]))
		end--;
	if (start == end) {
		g_set_error_literal(error, TKR_ERROR, TKR_ERROR_PROTOCOL,
				    TKR_DOCKER_NO_URL);
		return NULL;
	}
	/* The reference helper glues lines together; we refuse. */
	if (memchr(start, '\n', (size_t)(end - start)) ||
	    memchr(start, '\r', (size_t)(end - start))) {
		g_set_error_literal(error, TKR_ERROR, TKR_ERROR_PROTOCOL,
				    "server URL spans several lines");
		return NULL;
	}
	return g_strndup(start, (gsize)(end - start));
}

/* A string field of obj whose name matches name without regard to case. */
static gboolean field(json_object *obj, const char *name, const char **value,
		      GError **error)
{
	gboolean found = FALSE;

	*value = NULL;
	json_object_object_foreach(obj, key, val) {
		if (g_ascii_strcasecmp(key, name))
			continue;
		if (found) {
			g_set_error(error, TKR_ERROR, TKR_ERROR_PROTOCOL,
				    "duplicate field '%s'", name);
			return FALSE;
		}
		found = TRUE;
		if (json_object_is_type(val, json_type_null))
			continue;
		if (!json_object_is_type(val, json_type_string) ||
		    (size_t)json_object_get_string_len(val) !=
		    strlen(json_object_get_string(val)) ||
		    strpbrk(json_object_get_string(val), "\r\n")) {
			g_set_error(error, TKR_ERROR, TKR_ERROR_PROTOCOL,
				    "field '%s' is not a one-line string",
				    name);
			return FALSE;
		}
		*value = json_object_get_string(val);
	}
	return TRUE;
}

gboolean tkr_docker_parse_store(const char *text, size_t len, char **server,
				char **username, TkrSecret **secret,
				GError **error)
{
	g_autoptr(json_object) obj = NULL;
	const char *s = NULL, *u = NULL, *p = NULL;
	GError *local = NULL;

	obj = tkr_json_parse(text, len, &local);
	if (obj && !json_object_is_type(obj, json_type_object))
		g_set_error_literal(&local, TKR_ERROR, TKR_ERROR_PROTOCOL,
				    "not a JSON object");
	if (local) {
		g_set_error(error, TKR_ERROR, TKR_ERROR_PROTOCOL,
			    "bad credentials: %s", local->message);
		g_error_free(local);
		return FALSE;
	}
	if (!field(obj, "ServerURL", &s, error) ||
	    !field(obj, "Username", &u, error) ||
	    !field(obj, "Secret", &p, error))
		return FALSE;
	if (!s || !*s) {
		g_set_error_literal(error, TKR_ERROR, TKR_ERROR_PROTOCOL,
				    TKR_DOCKER_NO_URL);
		return FALSE;
	}
	if (!u || !*u) {
		g_set_error_literal(error, TKR_ERROR, TKR_ERROR_PROTOCOL,
				    TKR_DOCKER_NO_USER);
		return FALSE;
	}
	*server = g_strdup(s);
	*username = g_strdup(u);
	*secret = tkr_secret_dup(p ? p : "");
	return TRUE;
}

/* The answer to get: {"ServerURL","Username","Secret"} and LF. */
static TkrSecret *answer(const char *server, const char *username,
			 const char *secret)
{
	g_autoptr(json_object) obj = json_object_new_object();
	g_autoptr(TkrSecret) text = NULL;
	TkrSecret *out;
	size_t len;

	json_object_object_add(obj, "ServerURL", json_object_new_string(server));
	json_object_object_add(obj, "Username",
			       json_object_new_string(username));
	json_object_object_add(obj, "Secret", json_object_new_string(secret));
	text = tkr_json_to_secret(obj);
	len = strlen(text);
	out = tkr_secret_new(len + 1);
	memcpy(out, text, len);
	out[len] = '\n';
	return out;
}

/* "host[:port]" of uri, brackets kept for IPv6. */
static char *host_port_of(GUri *uri)
{
	const char *host = g_uri_get_host(uri);
	int port = g_uri_get_port(uri);

	if (strchr(host, ':'))
		return port > 0 ? g_strdup_printf("[%s]:%d", host, port)
				: g_strdup_printf("[%s]", host);
	return port > 0 ? g_strdup_printf("%s:%d", host, port)
			: g_strdup(host);
}

/* The account covering url (with a scheme), if any. */
static TkrAccount *match_url(TkrConfig *config, const char *url)
{
	g_autoptr(GUri) uri = g_uri_parse(url, G_URI_FLAGS_NONE, NULL);
	g_autofree char *host_port = NULL;
	const char *path;

	if (!uri || !g_uri_get_host(uri) || !*g_uri_get_host(uri) ||
	    g_uri_get_userinfo(uri))
		return NULL;
	host_port = host_port_of(uri);
	path = g_uri_get_path(uri);
	return tkr_config_match(config, g_uri_get_scheme(uri), host_port,
				*path && strcmp(path, "/") ? path : NULL);
}

/*
 * The account covering key, if any; *config keeps it alive.  An
 * unreadable configuration is said once on stderr (docker shows it) and
 * otherwise ignored: plain storage still works.
 */
static TkrAccount *account_for(const char *key, TkrConfig **config)
{
	g_autofree char *canon = tkr_docker_canonical(key);
	g_autofree char *as_http = NULL;
	g_autoptr(GError) error = NULL;
	TkrAccount *a;

	*config = NULL;
	if (!canon)
		return NULL;
	*config = tkr_config_load(&error);
	if (!*config) {
		g_autofree char *line = tkr_error_sanitize(error->message, 300);

		g_printerr("tokenring: %s\n", line);
		return NULL;
	}
	a = match_url(*config, canon);
	/*
	 * The CLI sends bare host[:port] keys and speaks http to loopback
	 * registries: an http account (loopback only, by rule) covers a
	 * bare key too, with the key's own port.
	 */
	if (!a && !strstr(key, "://")) {
		as_http = g_strconcat("http://", key, NULL);
		a = match_url(*config, as_http);
	}
	return a;
}

/*
 * The stored items for key: the exact string if any, else every item
 * whose key is canonically the same.  Returns: (transfer full) servers.
 */
static GPtrArray *same_key(GPtrArray *items, const char *key)
{
	g_autofree char *canon = tkr_docker_canonical(key);
	GPtrArray *out = g_ptr_array_new();
	guint i;

	for (i = 0; i < items->len; i++) {
		TkrDockerItem *it = items->pdata[i];
		g_autofree char *c = NULL;

		if (!strcmp(it->server, key)) {
			g_ptr_array_add(out, it);
			continue;
		}
		c = tkr_docker_canonical(it->server);
		if (canon && c && !strcmp(canon, c))
			g_ptr_array_add(out, it);
	}
	return out;
}

TkrSecret *tkr_docker_get(const char *key, GError **error)
{
	g_autoptr(TkrConfig) config = NULL;
	g_autoptr(TkrKeyring) kr = NULL;
	g_autoptr(GPtrArray) items = NULL;
	g_autoptr(GPtrArray) matches = NULL;
	TkrAccount *a = account_for(key, &config);
	TkrDockerItem *best = NULL;
	guint i;

	if (a) {
		g_auto(TkrRecord) rec = TKR_RECORD_INIT;

		if (a->broken) {
			g_set_error(error, TKR_ERROR, TKR_ERROR_CONFIG,
				    "account '%s': %s", a->name,
				    a->broken->message);
			return NULL;
		}
		if (!tkr_refresh_ensure(a, a->min_valid, 0, &rec, NULL, error))
			return NULL;
		return answer(key, a->username, rec.tokens.access_token);
	}
	kr = tkr_keyring_open(error);
	if (!kr)
		return NULL;
	items = tkr_keyring_docker_list(kr, TRUE, error);
	if (!items)
		return NULL;
	matches = same_key(items, key);
	/* The exact spelling first; items come newest first. */
	for (i = 0; i < matches->len && !best; i++) {
		TkrDockerItem *it = matches->pdata[i];

		if (!strcmp(it->server, key))
			best = it;
	}
	if (!best && matches->len)
		best = matches->pdata[0];
	if (!best || !best->secret || !*best->secret || !best->username ||
	    strpbrk(best->secret, "\r\n") || strpbrk(best->username, "\r\n")) {
		g_set_error_literal(error, TKR_ERROR, TKR_ERROR_NOT_FOUND,
				    TKR_DOCKER_NOT_FOUND);
		return NULL;
	}
	return answer(best->server, best->username, best->secret);
}

/*
 * Open the keyring and find the servers of the items for key (exact or
 * canonically equal): the items a store or erase of key replaces.
 * Returns: (transfer full) the servers, or NULL with an error.
 */
static char **matching_servers(const char *key, TkrKeyring **kr,
			       GError **error)
{
	g_autoptr(GPtrArray) items = NULL;
	g_autoptr(GPtrArray) matches = NULL;
	GStrvBuilder *b;
	char **out;
	guint i;

	*kr = tkr_keyring_open(error);
	if (!*kr || !(items = tkr_keyring_docker_list(*kr, FALSE, error)))
		return NULL;
	matches = same_key(items, key);
	b = g_strv_builder_new();
	for (i = 0; i < matches->len; i++)
		g_strv_builder_add(b, ((TkrDockerItem *)
				       matches->pdata[i])->server);
	out = g_strv_builder_end(b);
	g_strv_builder_unref(b);
	return out;
}

gboolean tkr_docker_store(const char *server, const char *username,
			  const char *secret, GError **error)
{
	g_autoptr(TkrConfig) config = NULL;
	g_autoptr(TkrKeyring) kr = NULL;
	g_auto(GStrv) replace = NULL;
	g_autofree char *canon = tkr_docker_canonical(server);
	const char *key = server;

	/* An account's record changes only through its provider or login. */
	if (account_for(server, &config)) {
		tkr_trace(NULL, "store: account credentials are not stored");
		return TRUE;
	}
	if (strpbrk(username, "\r\n") || strpbrk(secret, "\r\n")) {
		g_set_error_literal(error, TKR_ERROR, TKR_ERROR_PROTOCOL,
				    "refusing a value with a line break");
		return FALSE;
	}
	replace = matching_servers(server, &kr, error);
	if (!replace)
		return FALSE;
	/* Docker Hub's items all go under the CLI's own key. */
	if (canon && !strcmp(canon, "https://index.docker.io/v1"))
		key = TKR_DOCKER_HUB;
	return tkr_keyring_docker_store(kr, key, username, secret,
					(const char *const *)replace, error);
}

gboolean tkr_docker_erase(const char *key, GError **error)
{
	g_autoptr(TkrConfig) config = NULL;
	g_autoptr(TkrKeyring) kr = NULL;
	g_auto(GStrv) servers = NULL;

	/* docker logout of an account: "tokenring logout NAME" does that. */
	if (account_for(key, &config)) {
		tkr_trace(NULL, "erase: account credentials stay");
		return TRUE;
	}
	servers = matching_servers(key, &kr, error);
	return servers &&
	       tkr_keyring_docker_erase(kr, (const char *const *)servers,
					error);
}

char *tkr_docker_list(GError **error)
{
	g_autoptr(TkrKeyring) kr = tkr_keyring_open(error);
	g_autoptr(GPtrArray) items = NULL;
	g_autoptr(json_object) obj = json_object_new_object();
	guint i;

	if (!kr)
		return NULL;
	items = tkr_keyring_docker_list(kr, FALSE, error);
	if (!items)
		return NULL;
	/* Oldest first, so that the newest item of a key wins. */
	for (i = items->len; i > 0; i--) {
		TkrDockerItem *it = items->pdata[i - 1];

		json_object_object_add(obj, it->server, json_object_new_string(
			it->username ? it->username : ""));
	}
	return g_strconcat(json_object_to_json_string_ext(
				   obj, JSON_C_TO_STRING_PLAIN |
				   JSON_C_TO_STRING_NOSLASHESCAPE), "\n", NULL);
}
