#include "config.h"

#include "account-config.h"
#include "error.h"
#include "trace.h"

#include <errno.h>
#include <gio/gio.h>
#include <string.h>

/* The keys the core understands for every account. */
static const char *const common_keys[] = {
	"provider", "url", "username", "min_valid", "ca_file", "timeout", NULL,
};

gboolean tkr_account_name_ok(const char *name)
{
	const char *p;

	if (!name || (!g_ascii_islower(name[0]) && !g_ascii_isdigit(name[0])))
		return FALSE;
	for (p = name; *p; p++) {
		if (!g_ascii_islower(*p) && !g_ascii_isdigit(*p) &&
		    *p != '.' && *p != '_' && *p != '-')
			return FALSE;
	}
	return p - name <= 64;
}

char *tkr_config_path(void)
{
	const char *env = g_getenv("TOKENRING_CONFIG");

	if (env && *env)
		return g_strdup(env);
	return g_build_filename(g_get_user_config_dir(), "tokenring", "config",
				NULL);
}

gboolean tkr_host_is_loopback(const char *host)
{
	g_autofree char *bare = NULL;
	g_autoptr(GInetAddress) addr = NULL;
	size_t len;

	if (!host)
		return FALSE;
	if (!g_ascii_strcasecmp(host, "localhost"))
		return TRUE;
	len = strlen(host);
	if (len > 2 && host[0] == '[' && host[len - 1] == ']')
		bare = g_strndup(host + 1, len - 2);
	else
		bare = g_strdup(host);
	addr = g_inet_address_new_from_string(bare);
	return addr && g_inet_address_get_is_loopback(addr);
}

GUri *tkr_config_parse_url(const char *url, GError **error)
{
	g_autoptr(GUri) uri = NULL;
	GError *local = NULL;
	const char *scheme, *p;

	for (p = url; *p; p++) {
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f) {
			g_set_error_literal(error, TKR_ERROR, TKR_ERROR_CONFIG,
					    "bad value for 'url': white space "
					    "or a control or non-ASCII byte");
			return NULL;
		}
	}
	uri = g_uri_parse(url, G_URI_FLAGS_NONE, &local);
	if (!uri) {
		g_set_error(error, TKR_ERROR, TKR_ERROR_CONFIG,
			    "bad value for 'url': %s", local->message);
		g_error_free(local);
		return NULL;
	}
	scheme = g_uri_get_scheme(uri);
	if (!g_uri_get_host(uri) || !*g_uri_get_host(uri) ||
	    g_uri_get_userinfo(uri) || g_uri_get_query(uri) ||
	    g_uri_get_fragment(uri)) {
		g_set_error_literal(error, TKR_ERROR, TKR_ERROR_CONFIG,
				    "bad value for 'url': want scheme://host"
				    "[:port][/path], without user, query or "
				    "fragment");
		return NULL;
	}
	if (!g_ascii_strcasecmp(scheme, "https"))
		return g_steal_pointer(&uri);
	if (!g_ascii_strcasecmp(scheme, "http") &&
	    tkr_host_is_loopback(g_uri_get_host(uri)))
		return g_steal_pointer(&uri);
	g_set_error_literal(error, TKR_ERROR, TKR_ERROR_CONFIG,
			    "bad value for 'url': https is required (plain "
			    "http only to a loopback host)");
	return NULL;
}

static void account_free(gpointer data)
{
	TkrAccount *a = data;

	g_free(a->name);
	g_free(a->provider);
	g_free(a->url);
	g_clear_pointer(&a->uri, g_uri_unref);
	g_free(a->username);
	g_free(a->ca_file);
	g_clear_pointer(&a->keys, g_hash_table_unref);
	g_clear_error(&a->broken);
	g_free(a);
}

static gboolean parse_seconds(GHashTable *keys, const char *key, guint64 min,
			      guint64 max, guint64 *out, GError **error)
{
	const char *v = g_hash_table_lookup(keys, key);

	if (!v)
		return TRUE;
	if (!g_ascii_string_to_unsigned(v, 10, min, max, out, NULL)) {
		g_set_error(error, TKR_ERROR, TKR_ERROR_CONFIG,
			    "bad value for '%s': want a number of seconds "
			    "from %" G_GUINT64_FORMAT " to %" G_GUINT64_FORMAT,
			    key, min, max);
		return FALSE;
	}
	return TRUE;
}

/* Check the common keys of a; the first problem marks it broken. */
static void check_account(TkrAccount *a)
{
	guint64 min_valid = TKR_MIN_VALID_DEFAULT;
	guint64 timeout = TKR_TIMEOUT_DEFAULT;
	const char *v;
	GError **error = &a->broken;

	a->provider = g_strdup(g_hash_table_lookup(a->keys, "provider"));
	a->url = g_strdup(g_hash_table_lookup(a->keys, "url"));
	a->username = g_strdup(g_hash_table_lookup(a->keys, "username"));
	a->ca_file = g_strdup(g_hash_table_lookup(a->keys, "ca_file"));
	if (!a->username)
		a->username = g_strdup(a->name);

	if (!tkr_account_name_ok(a->name)) {
		g_set_error(error, TKR_ERROR, TKR_ERROR_CONFIG,
			    "bad account name; use [a-z0-9][a-z0-9._-]*");
		return;
	}
	if (!a->provider || !*a->provider) {
		g_set_error_literal(error, TKR_ERROR, TKR_ERROR_CONFIG,
				    "missing key 'provider'");
		return;
	}
	if (!a->url) {
		g_set_error_literal(error, TKR_ERROR, TKR_ERROR_CONFIG,
				    "missing key 'url'");
		return;
	}
	a->uri = tkr_config_parse_url(a->url, error);
	if (!a->uri)
		return;
	if (strpbrk(a->username, "\r\n")) {
		g_set_error_literal(error, TKR_ERROR, TKR_ERROR_CONFIG,
				    "bad value for 'username'");
		return;
	}
	if (!parse_seconds(a->keys, "min_valid", 0, 365 * 86400, &min_valid,
			   error) ||
	    !parse_seconds(a->keys, "timeout", 1, 600, &timeout, error))
		return;
	a->min_valid = (gint64)min_valid;
	a->timeout = (guint)timeout;
	v = a->ca_file;
	if (v && !g_file_test(v, G_FILE_TEST_IS_REGULAR))
		g_set_error(error, TKR_ERROR, TKR_ERROR_CONFIG,
			    "bad value for 'ca_file': no such file '%s'", v);
}

TkrConfig *tkr_config_load(GError **error)
{
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_autoptr(TkrConfig) config = g_new0(TkrConfig, 1);
	g_auto(GStrv) groups = NULL;
	GError *local = NULL;
	size_t i, j;

	config->path = tkr_config_path();
	config->accounts = g_ptr_array_new_with_free_func(account_free);
	if (!g_key_file_load_from_file(kf, config->path, G_KEY_FILE_NONE,
				       &local)) {
		if (g_error_matches(local, G_FILE_ERROR, G_FILE_ERROR_NOENT)) {
			g_error_free(local);
			return g_steal_pointer(&config);
		}
		g_set_error(error, TKR_ERROR, TKR_ERROR_CONFIG, "%s: %s",
			    config->path, local->message);
		g_error_free(local);
		return NULL;
	}
	groups = g_key_file_get_groups(kf, NULL);
	for (i = 0; groups[i]; i++) {
		TkrAccount *a = g_new0(TkrAccount, 1);
		g_auto(GStrv) keys = g_key_file_get_keys(kf, groups[i], NULL,
							 NULL);

		a->name = g_strdup(groups[i]);
		a->keys = g_hash_table_new_full(g_str_hash, g_str_equal,
						g_free, g_free);
		for (j = 0; keys && keys[j]; j++) {
			char *value = g_key_file_get_string(kf, groups[i],
							    keys[j], NULL);

			if (value)
				g_hash_table_insert(a->keys,
						    g_strdup(keys[j]), value);
		}
		check_account(a);
		tkr_trace(&tkr_trace_config, "account '%s': %s", a->name,
			  a->broken ? a->broken->message : "ok");
		g_ptr_array_add(config->accounts, a);
	}
	return g_steal_pointer(&config);
}

void tkr_config_free(TkrConfig *config)
{
	if (!config)
		return;
	g_free(config->path);
	g_ptr_array_unref(config->accounts);
	g_free(config);
}

TkrAccount *tkr_config_account(TkrConfig *config, const char *name,
			       GError **error)
{
	guint i;

	for (i = 0; i < config->accounts->len; i++) {
		TkrAccount *a = config->accounts->pdata[i];

		if (strcmp(a->name, name))
			continue;
		if (a->broken) {
			g_set_error(error, TKR_ERROR, TKR_ERROR_CONFIG,
				    "account '%s': %s", name,
				    a->broken->message);
			return NULL;
		}
		return a;
	}
	g_set_error(error, TKR_ERROR, TKR_ERROR_CONFIG,
		    "no account '%s' in %s", name, config->path);
	return NULL;
}

static int default_port(const char *scheme)
{
	return !g_ascii_strcasecmp(scheme, "https") ? 443 : 80;
}

/* "host:port" of uri, lowercase, port always explicit. */
static char *authority_of(GUri *uri)
{
	int port = g_uri_get_port(uri);
	const char *host = g_uri_get_host(uri);
	g_autofree char *lower = g_ascii_strdown(host, -1);

	if (port < 0)
		port = default_port(g_uri_get_scheme(uri));
	if (strchr(lower, ':'))
		return g_strdup_printf("[%s]:%d", lower, port);
	return g_strdup_printf("%s:%d", lower, port);
}

/* The request's "host[:port]" in the same form, or NULL if unparseable. */
static char *request_authority(const char *scheme, const char *host_port)
{
	g_autofree char *url = g_strdup_printf("%s://%s/", scheme, host_port);
	g_autoptr(GUri) uri = g_uri_parse(url, G_URI_FLAGS_NONE, NULL);

	if (!uri || !g_uri_get_host(uri) || g_uri_get_userinfo(uri))
		return NULL;
	return authority_of(uri);
}

/* Whether prefix (a url path) covers path on segment boundaries. */
static gboolean path_covers(const char *prefix, const char *path)
{
	size_t n;

	while (*prefix == '/')
		prefix++;
	n = strlen(prefix);
	while (n && prefix[n - 1] == '/')
		n--;
	if (!n)
		return TRUE;
	if (!path)
		return FALSE;
	while (*path == '/')
		path++;
	return !strncmp(prefix, path, n) && (path[n] == '\0' || path[n] == '/');
}

TkrAccount *tkr_config_match(TkrConfig *config, const char *scheme,
			     const char *host_port, const char *path)
{
	g_autofree char *want = NULL;
	TkrAccount *best = NULL;
	size_t best_len = 0;
	guint i;

	if (!scheme || !host_port || !*host_port)
		return NULL;
	want = request_authority(scheme, host_port);
	if (!want)
		return NULL;
	for (i = 0; i < config->accounts->len; i++) {
		TkrAccount *a = config->accounts->pdata[i];
		g_autofree char *have = NULL;
		const char *apath;

		if (!a->uri ||
		    g_ascii_strcasecmp(g_uri_get_scheme(a->uri), scheme))
			continue;
		have = authority_of(a->uri);
		apath = g_uri_get_path(a->uri);
		if (strcmp(have, want) || !path_covers(apath, path))
			continue;
		if (!best || strlen(apath) > best_len) {
			best = a;
			best_len = strlen(apath);
		}
	}
	return best;
}

/* Key names that would put a secret in argv and the config file. */
static gboolean looks_secret(const char *key)
{
	static const char *const words[] = { "secret", "security", "password",
					     "token", "verify", "code", NULL };
	g_autofree char *lower = g_ascii_strdown(key, -1);
	size_t i;

	for (i = 0; words[i]; i++) {
		if (strstr(lower, words[i]) && strcmp(lower, "power_code") &&
		    !g_str_has_suffix(lower, "_url"))
			return TRUE;
	}
	return FALSE;
}

gboolean tkr_config_write_account(const char *name, const char *provider,
				  const char *url, char **settings,
				  GError **error)
{
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_autofree char *path = tkr_config_path();
	g_autofree char *dir = g_path_get_dirname(path);
	g_autoptr(GUri) uri = NULL;
	GError *local = NULL;
	size_t i;

	if (!tkr_account_name_ok(name)) {
		g_set_error(error, TKR_ERROR, TKR_ERROR_USAGE,
			    "bad account name '%s'; use [a-z0-9][a-z0-9._-]*",
			    name);
		return FALSE;
	}
	uri = tkr_config_parse_url(url, error);
	if (!uri)
		return FALSE;
	if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_KEEP_COMMENTS,
				       &local)) {
		if (!g_error_matches(local, G_FILE_ERROR, G_FILE_ERROR_NOENT)) {
			g_propagate_prefixed_error(error, local, "%s: ", path);
			return FALSE;
		}
		g_clear_error(&local);
	}
	/* Other keys of an existing group (expire_days, say) stay. */
	g_key_file_set_string(kf, name, "provider", provider);
	g_key_file_set_string(kf, name, "url", url);
	for (i = 0; settings && settings[i]; i++) {
		const char *eq = strchr(settings[i], '=');
		g_autofree char *key = NULL;

		if (!eq || eq == settings[i]) {
			g_set_error(error, TKR_ERROR, TKR_ERROR_USAGE,
				    "--set wants KEY=VALUE, not '%s'",
				    settings[i]);
			return FALSE;
		}
		key = g_strndup(settings[i], (gsize)(eq - settings[i]));
		if (looks_secret(key)) {
			g_set_error(error, TKR_ERROR, TKR_ERROR_USAGE,
				    "'%s' looks like a secret; secrets never go "
				    "in argv or the config file (tokenring login "
				    "asks for them)", key);
			return FALSE;
		}
		g_key_file_set_string(kf, name, key, eq + 1);
	}
	if (g_mkdir_with_parents(dir, 0700)) {
		g_set_error(error, TKR_ERROR, TKR_ERROR_CONFIG,
			    "cannot create %s: %s", dir, g_strerror(errno));
		return FALSE;
	}
	return g_key_file_save_to_file(kf, path, error);
}

void tkr_config_warn_unknown(const TkrAccount *a, const char *const *known)
{
	GHashTableIter iter;
	gpointer key;

	g_hash_table_iter_init(&iter, a->keys);
	while (g_hash_table_iter_next(&iter, &key, NULL)) {
		if (g_strv_contains(common_keys, key) ||
		    (known && g_strv_contains(known, key)))
			continue;
		g_printerr("tokenring: warning: account '%s': unknown key "
			   "'%s' ignored\n", a->name, (const char *)key);
	}
}
