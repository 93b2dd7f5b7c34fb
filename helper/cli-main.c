/*
 * tokenring: the command line (DESIGN.md section 5).
 *
 * Thin: argument parsing, output formats and exit codes.  The work is in
 * refresh.c (every change to a record), account-config.c and keyring/.
 * No option takes a secret; login reads secrets from a no-echo prompt or
 * from key=value lines on stdin.
 */
#include "config.h"

#include "main.h"
#include "account-config.h"
#include "credential.h"
#include "error.h"
#include "json.h"
#include "provider.h"
#include "record.h"
#include "refresh.h"
#include "secret.h"

#include <errno.h>
#include <gio/gio.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

typedef int (*CommandFunc)(int argc, char **argv, GError **error);

typedef struct {
	const char *name;
	const char *args;
	const char *summary;
	CommandFunc func;
} Command;

static gint64 now_s(void)
{
	return g_get_real_time() / G_USEC_PER_SEC;
}

static gboolean usage_error(GError **error, const char *fmt, ...)
	G_GNUC_PRINTF(2, 3);

static gboolean usage_error(GError **error, const char *fmt, ...)
{
	va_list ap;
	g_autofree char *msg = NULL;

	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	g_set_error_literal(error, TKR_ERROR, TKR_ERROR_USAGE, msg);
	return FALSE;
}

/* Parse options; exactly nargs positional arguments remain (or up to). */
static gboolean parse(const char *cmd, const char *args, GOptionEntry *entries,
		      int *argc, char ***argv, int min_args, int max_args,
		      GError **error)
{
	g_autofree char *param = g_strdup_printf("%s %s", cmd, args);
	g_autoptr(GOptionContext) ctx = g_option_context_new(param);
	GError *local = NULL;
	int n;

	g_option_context_set_help_enabled(ctx, TRUE);
	if (entries)
		g_option_context_add_main_entries(ctx, entries, NULL);
	if (!g_option_context_parse(ctx, argc, argv, &local)) {
		g_set_error(error, TKR_ERROR, TKR_ERROR_USAGE, "%s",
			    local->message);
		g_error_free(local);
		return FALSE;
	}
	n = *argc - 1;
	if (n < min_args || n > max_args)
		return usage_error(error, "usage: tokenring %s %s", cmd, args);
	return TRUE;
}

static TkrAccount *account_arg(TkrConfig **config, const char *name,
			       GError **error)
{
	*config = tkr_config_load(error);
	return *config ? tkr_config_account(*config, name, error) : NULL;
}

static char *format_time(gint64 t)
{
	g_autoptr(GDateTime) dt = g_date_time_new_from_unix_local(t);

	return dt ? g_date_time_format(dt, "%Y-%m-%d %H:%M:%S %z")
		  : g_strdup("?");
}

/* "in 31d 23h", "5m ago" */
static char *format_relative(gint64 t, gint64 now)
{
	gint64 d = t > now ? t - now : now - t;
	g_autofree char *span = NULL;

	if (d >= 86400)
		span = g_strdup_printf("%" G_GINT64_FORMAT "d %" G_GINT64_FORMAT
				       "h", d / 86400, d % 86400 / 3600);
	else if (d >= 3600)
		span = g_strdup_printf("%" G_GINT64_FORMAT "h %" G_GINT64_FORMAT
				       "m", d / 3600, d % 3600 / 60);
	else if (d >= 60)
		span = g_strdup_printf("%" G_GINT64_FORMAT "m", d / 60);
	else
		span = g_strdup_printf("%" G_GINT64_FORMAT "s", d);
	return t > now ? g_strdup_printf("in %s", span)
		       : g_strdup_printf("%s ago", span);
}

/* ---- token ---------------------------------------------------------- */

static TkrSecret *shell_quoted(const char *s)
{
	size_t len = 2, i;
	TkrSecret *out;
	char *p;

	for (i = 0; s[i]; i++)
		len += s[i] == '\'' ? 4 : 1;
	out = tkr_secret_new(len);
	p = out;
	*p++ = '\'';
	for (i = 0; s[i]; i++) {
		if (s[i] == '\'') {
			memcpy(p, "'\\''", 4);
			p += 4;
		} else {
			*p++ = s[i];
		}
	}
	*p = '\'';
	return out;
}

static TkrSecret *format_token(const TkrAccount *a, const TkrRecord *rec,
			       const char *format, GError **error)
{
	const TkrTokenSet *t = &rec->tokens;
	gint64 now = now_s();

	if (!strcmp(format, "plain")) {
		g_autoptr(TkrSecret) s = tkr_secret_new(strlen(t->access_token)
							+ 1);

		g_strlcpy(s, t->access_token, tkr_secret_capacity(s) + 1);
		s[strlen(t->access_token)] = '\n';
		return g_steal_pointer(&s);
	}
	if (!strcmp(format, "json")) {
		g_autoptr(json_object) obj = json_object_new_object();
		g_autoptr(TkrSecret) text = NULL;
		TkrSecret *s;

		json_object_object_add(obj, "access_token",
				       json_object_new_string(t->access_token));
		json_object_object_add(obj, "expires_at", t->expires_at ?
				       json_object_new_int64(t->expires_at) :
				       NULL);
		json_object_object_add(obj, "expires_in", t->expires_at ?
				       json_object_new_int64(t->expires_at -
							     now) : NULL);
		json_object_object_add(obj, "token_type", t->token_type ?
				       json_object_new_string(t->token_type) :
				       NULL);
		json_object_object_add(obj, "account",
				       json_object_new_string(a->name));
		json_object_object_add(obj, "provider",
				       json_object_new_string(a->provider));
		text = tkr_json_to_secret(obj);
		s = tkr_secret_new(strlen(text) + 1);
		g_strlcpy(s, text, strlen(text) + 1);
		s[strlen(text)] = '\n';
		return s;
	}
	if (!strcmp(format, "header")) {
		if (!t->token_type) {
			g_set_error(error, TKR_ERROR, TKR_ERROR_USAGE,
				    "account '%s': provider '%s' names no "
				    "token type for an Authorization header; "
				    "use --format plain", a->name, a->provider);
			return NULL;
		}
		{
			size_t len = strlen("Authorization: ") +
				     strlen(t->token_type) + 1 +
				     strlen(t->access_token) + 1;
			TkrSecret *s = tkr_secret_new(len);

			g_snprintf(s, len + 1, "Authorization: %s %s\n",
				   t->token_type, t->access_token);
			return s;
		}
	}
	if (!strcmp(format, "env")) {
		g_autoptr(TkrSecret) q = shell_quoted(t->access_token);
		g_autofree char *exp = g_strdup_printf(
			"TOKENRING_EXPIRES_AT=%" G_GINT64_FORMAT "\n",
			t->expires_at);
		size_t len = strlen("TOKENRING_TOKEN=") + strlen(q) + 1 +
			     strlen(exp);
		TkrSecret *s = tkr_secret_new(len);

		g_snprintf(s, len + 1, "TOKENRING_TOKEN=%s\n%s", q, exp);
		return s;
	}
	g_set_error(error, TKR_ERROR, TKR_ERROR_USAGE,
		    "unknown format '%s'; use plain, json, header or env",
		    format);
	return NULL;
}

static int cmd_token(int argc, char **argv, GError **error)
{
	g_autofree char *format = NULL;
	gint64 min_valid = -1;
	GOptionEntry entries[] = {
		{ "min-valid", 0, 0, G_OPTION_ARG_INT64, &min_valid,
		  "Refresh unless the token stays valid this long", "SECONDS" },
		{ "format", 0, 0, G_OPTION_ARG_STRING, &format,
		  "plain (default), json, header or env", "FORMAT" },
		{ NULL },
	};
	g_autoptr(TkrConfig) config = NULL;
	g_auto(TkrRecord) rec = TKR_RECORD_INIT;
	g_autoptr(TkrSecret) out = NULL;
	TkrAccount *a;

	if (!parse("token", "NAME", entries, &argc, &argv, 1, 1, error))
		return -1;
	if (min_valid < -1 || min_valid > 365 * 86400LL) {
		usage_error(error, "--min-valid wants 0 to %d seconds",
			    365 * 86400);
		return -1;
	}
	a = account_arg(&config, argv[1], error);
	if (!a ||
	    !tkr_refresh_ensure(a, min_valid >= 0 ? min_valid : a->min_valid,
				0, &rec, NULL, error))
		return -1;
	out = format_token(a, &rec, format ? format : "plain", error);
	if (!out || !tkr_main_write_all(STDOUT_FILENO, out, strlen(out), error))
		return -1;
	return 0;
}

/* ---- login ---------------------------------------------------------- */

static void answer_kv(const char *key, const char *value, gpointer data)
{
	g_hash_table_replace(data, g_strdup(key), tkr_secret_dup(value));
}

/* key=value lines from stdin, for login without a terminal. */
static GHashTable *read_answers(GError **error)
{
	g_autoptr(TkrSecret) input = NULL;
	GHashTable *answers;
	size_t len = 0;

	input = tkr_input_read(STDIN_FILENO, TKR_GIT_INPUT_MAX, TRUE, &len,
			       error);
	if (!input)
		return NULL;
	answers = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					(GDestroyNotify)tkr_secret_free);
	if (!tkr_kv_parse(input, len, answer_kv, answers, error)) {
		g_hash_table_unref(answers);
		g_prefix_error(error, "login input: ");
		if (error && *error)
			(*error)->code = TKR_ERROR_USAGE;
		return NULL;
	}
	return answers;
}

static void print_validity(const TkrAccount *a, const TkrRecord *rec,
			   const char *what)
{
	if (rec->tokens.expires_at) {
		g_autofree char *abs = format_time(rec->tokens.expires_at);
		g_autofree char *rel = format_relative(rec->tokens.expires_at,
						       now_s());

		g_print("%s '%s': token valid until %s (%s)\n", what, a->name,
			abs, rel);
	} else {
		g_print("%s '%s'\n", what, a->name);
	}
}

static int cmd_login(int argc, char **argv, GError **error)
{
	g_autofree char *provider = NULL;
	g_autofree char *url = NULL;
	g_auto(GStrv) settings = NULL;
	GOptionEntry entries[] = {
		{ "provider", 0, 0, G_OPTION_ARG_STRING, &provider,
		  "Write the account with this provider to the config", "P" },
		{ "url", 0, 0, G_OPTION_ARG_STRING, &url,
		  "The account's API base URL (with --provider)", "URL" },
		{ "set", 0, 0, G_OPTION_ARG_STRING_ARRAY, &settings,
		  "Another config key (never a secret)", "KEY=VALUE" },
		{ NULL },
	};
	g_autoptr(TkrConfig) config = NULL;
	g_auto(TkrRecord) rec = TKR_RECORD_INIT;
	GHashTable *answers = NULL;
	TkrAccount *a;

	if (!parse("login", "NAME [--provider P --url U [--set KEY=VALUE]...]",
		   entries, &argc, &argv, 1, 1, error))
		return -1;
	if (!provider != !url) {
		usage_error(error, "--provider and --url go together");
		return -1;
	}
	if (!provider && settings) {
		usage_error(error, "--set goes with --provider and --url");
		return -1;
	}
	if (provider && !tkr_config_write_account(argv[1], provider, url,
						  settings, error))
		return -1;
	a = account_arg(&config, argv[1], error);
	if (!a)
		return -1;
	if (!isatty(STDIN_FILENO) && !(answers = read_answers(error)))
		return -1;
	if (!tkr_refresh_login(a, answers, &rec, error))
		return -1;
	print_validity(a, &rec, "logged in");
	return 0;
}

/* ---- status --------------------------------------------------------- */

typedef struct {
	const TkrAccount *account;
	TkrRecord rec;
	GError *error;		/* why there is no record */
} Status;

static void status_clear(Status *s)
{
	tkr_record_release(&s->rec);
	g_clear_error(&s->error);
}

static const char *state_of(const Status *s, gint64 now)
{
	if (s->account->broken)
		return "broken";
	if (s->error) {
		if (g_error_matches(s->error, TKR_ERROR, TKR_ERROR_NOT_FOUND))
			return "not logged in";
		if (g_error_matches(s->error, TKR_ERROR,
				    TKR_ERROR_KEYRING_LOCKED))
			return "locked";
		return "error";
	}
	if (s->rec.access_bad)
		return "rejected";
	if (s->rec.tokens.expires_at && s->rec.tokens.expires_at <= now)
		return "expired";
	return "ok";
}

static json_object *status_json(const Status *s, gint64 now)
{
	json_object *o = json_object_new_object();
	const TkrTokenSet *t = &s->rec.tokens;
	const TkrAccount *a = s->account;

	json_object_object_add(o, "account", json_object_new_string(a->name));
	json_object_object_add(o, "provider", a->provider ?
			       json_object_new_string(a->provider) : NULL);
	json_object_object_add(o, "url", a->url ?
			       json_object_new_string(a->url) : NULL);
	json_object_object_add(o, "state",
			       json_object_new_string(state_of(s, now)));
	json_object_object_add(o, "logged_in",
			       json_object_new_boolean(!s->error &&
						       !a->broken));
	json_object_object_add(o, "expires_at", t->expires_at ?
			       json_object_new_int64(t->expires_at) : NULL);
	json_object_object_add(o, "expires_in", t->expires_at ?
			       json_object_new_int64(t->expires_at - now) :
			       NULL);
	json_object_object_add(o, "refresh_expires_at", t->refresh_expires_at ?
			       json_object_new_int64(t->refresh_expires_at) :
			       NULL);
	json_object_object_add(o, "last_refresh", s->rec.last_refresh ?
			       json_object_new_int64(s->rec.last_refresh) :
			       NULL);
	json_object_object_add(o, "last_error", s->rec.last_error ?
			       json_object_new_string(s->rec.last_error) :
			       NULL);
	if (a->broken || s->error)
		json_object_object_add(o, "error", json_object_new_string(
			a->broken ? a->broken->message : s->error->message));
	return o;
}

static void status_text(const Status *s, gint64 now)
{
	const TkrTokenSet *t = &s->rec.tokens;
	const TkrAccount *a = s->account;

	g_print("account:        %s\n", a->name);
	g_print("provider:       %s\n", a->provider ? a->provider : "?");
	g_print("url:            %s\n", a->url ? a->url : "?");
	g_print("state:          %s\n", state_of(s, now));
	if (a->broken || (s->error && !g_error_matches(s->error, TKR_ERROR,
						       TKR_ERROR_NOT_FOUND))) {
		g_autofree char *m = tkr_error_sanitize(
			a->broken ? a->broken->message : s->error->message,
			300);

		g_print("problem:        %s\n", m);
	}
	if (t->expires_at) {
		g_autofree char *abs = format_time(t->expires_at);
		g_autofree char *rel = format_relative(t->expires_at, now);

		g_print("token expires:  %s (%s)\n", abs, rel);
	}
	if (t->refresh_expires_at) {
		g_autofree char *abs = format_time(t->refresh_expires_at);
		g_autofree char *rel = format_relative(t->refresh_expires_at,
						       now);

		g_print("refresh until:  %s (%s)\n", abs, rel);
	}
	if (s->rec.last_refresh) {
		g_autofree char *abs = format_time(s->rec.last_refresh);
		g_autofree char *rel = format_relative(s->rec.last_refresh,
						       now);

		g_print("last refresh:   %s (%s)\n", abs, rel);
	}
	if (s->rec.last_error) {
		g_autofree char *m = tkr_error_sanitize(s->rec.last_error, 300);

		g_print("last error:     %s\n", m);
	}
}

static void status_row(const Status *s, gint64 now)
{
	const TkrTokenSet *t = &s->rec.tokens;
	g_autofree char *rel = t->expires_at ?
			       format_relative(t->expires_at, now) :
			       g_strdup("-");
	g_autofree char *last = s->rec.last_refresh ?
				format_relative(s->rec.last_refresh, now) :
				g_strdup("-");
	g_autofree char *err = s->rec.last_error ?
			       tkr_error_sanitize(s->rec.last_error, 60) :
			       g_strdup("-");

	g_print("%-16s %-12s %-14s %-16s %-16s %s\n", s->account->name,
		s->account->provider ? s->account->provider : "?",
		state_of(s, now), rel, last, err);
}

static int cmd_status(int argc, char **argv, GError **error)
{
	gboolean as_json = FALSE;
	GOptionEntry entries[] = {
		{ "json", 0, 0, G_OPTION_ARG_NONE, &as_json,
		  "Print JSON", NULL },
		{ NULL },
	};
	g_autoptr(TkrConfig) config = NULL;
	g_autoptr(json_object) list = json_object_new_array();
	gint64 now = now_s();
	gboolean keyring_trouble = FALSE;
	guint i;

	if (!parse("status", "[NAME] [--json]", entries, &argc, &argv, 0, 1,
		   error))
		return -1;
	config = tkr_config_load(error);
	if (!config)
		return -1;
	if (argc == 2 && !tkr_config_account(config, argv[1], NULL) &&
	    !tkr_config_match(config, "https", "", NULL)) {
		gboolean known = FALSE;

		for (i = 0; i < config->accounts->len; i++)
			known |= !strcmp(((TkrAccount *)
					  config->accounts->pdata[i])->name,
					 argv[1]);
		if (!known) {
			tkr_config_account(config, argv[1], error);
			return -1;
		}
	}
	if (!as_json && argc == 1)
		g_print("%-16s %-12s %-14s %-16s %-16s %s\n", "ACCOUNT",
			"PROVIDER", "STATE", "EXPIRES", "LAST REFRESH",
			"LAST ERROR");
	for (i = 0; i < config->accounts->len; i++) {
		Status s = { config->accounts->pdata[i] };

		if (argc == 2 && strcmp(s.account->name, argv[1]))
			continue;
		if (!s.account->broken)
			tkr_refresh_peek(s.account, &s.rec, &s.error);
		if (s.error && (g_error_matches(s.error, TKR_ERROR,
						TKR_ERROR_KEYRING_UNAVAILABLE) ||
				g_error_matches(s.error, TKR_ERROR,
						TKR_ERROR_KEYRING_LOCKED)))
			keyring_trouble = TRUE;
		if (as_json)
			json_object_array_add(list, status_json(&s, now));
		else if (argc == 2)
			status_text(&s, now);
		else
			status_row(&s, now);
		status_clear(&s);
	}
	if (as_json)
		g_print("%s\n", json_object_to_json_string_ext(
			list, JSON_C_TO_STRING_PRETTY |
			JSON_C_TO_STRING_NOSLASHESCAPE));
	if (keyring_trouble) {
		g_set_error_literal(error, TKR_ERROR,
				    TKR_ERROR_KEYRING_UNAVAILABLE,
				    "the keyring could not be read; the status "
				    "above is incomplete");
		return -1;
	}
	return 0;
}

/* ---- refresh, logout, list, providers ------------------------------- */

static int cmd_refresh(int argc, char **argv, GError **error)
{
	gboolean force = FALSE;
	GOptionEntry entries[] = {
		{ "force", 0, 0, G_OPTION_ARG_NONE, &force,
		  "Refresh even if the token is still fresh", NULL },
		{ NULL },
	};
	g_autoptr(TkrConfig) config = NULL;
	g_auto(TkrRecord) rec = TKR_RECORD_INIT;
	gboolean refreshed = FALSE;
	TkrAccount *a;

	if (!parse("refresh", "NAME [--force]", entries, &argc, &argv, 1, 1,
		   error))
		return -1;
	a = account_arg(&config, argv[1], error);
	if (!a || !tkr_refresh_ensure(a, a->min_valid,
				      TKR_REFRESH_STRICT |
				      (force ? TKR_REFRESH_FORCE : 0),
				      &rec, &refreshed, error))
		return -1;
	print_validity(a, &rec, refreshed ? "refreshed" :
				"still fresh, not refreshed:");
	return 0;
}

static int cmd_logout(int argc, char **argv, GError **error)
{
	g_autoptr(TkrConfig) config = NULL;
	gboolean deleted = FALSE;
	TkrAccount *a;

	if (!parse("logout", "NAME", NULL, &argc, &argv, 1, 1, error))
		return -1;
	config = tkr_config_load(error);
	if (!config)
		return -1;
	a = tkr_config_account(config, argv[1], NULL);
	if (!a) {
		/* A broken or removed account can still be logged out. */
		TkrAccount tmp = { .name = argv[1] };

		if (!tkr_account_name_ok(argv[1])) {
			usage_error(error, "bad account name '%s'", argv[1]);
			return -1;
		}
		if (!tkr_refresh_logout(&tmp, &deleted, error))
			return -1;
	} else if (!tkr_refresh_logout(a, &deleted, error)) {
		return -1;
	}
	g_print(deleted ? "logged out of '%s'\n" : "'%s' was not logged in\n",
		argv[1]);
	return 0;
}

static int cmd_list(int argc, char **argv, GError **error)
{
	g_autoptr(TkrConfig) config = NULL;
	guint i;

	if (!parse("list", "", NULL, &argc, &argv, 0, 0, error))
		return -1;
	config = tkr_config_load(error);
	if (!config)
		return -1;
	for (i = 0; i < config->accounts->len; i++) {
		TkrAccount *a = config->accounts->pdata[i];

		g_print("%s\t%s\t%s%s%s\n", a->name,
			a->provider ? a->provider : "?", a->url ? a->url : "?",
			a->broken ? "\t# broken: " : "",
			a->broken ? a->broken->message : "");
	}
	return 0;
}

static int cmd_providers(int argc, char **argv, GError **error)
{
	g_auto(GStrv) names = NULL;
	size_t i;
	int j;

	if (!parse("providers", "", NULL, &argc, &argv, 0, 0, error))
		return -1;
	names = tkr_module_list();
	for (i = 0; names[i]; i++) {
		g_autoptr(GError) local = NULL;
		g_autoptr(TkrModule) m = tkr_module_load(names[i], &local);

		if (!m) {
			g_print("%-12s (broken: %s)\n", names[i],
				local->message);
			continue;
		}
		g_print("%-12s %s\n", names[i], m->vt->description ?
			m->vt->description : "");
		for (j = 0; m->vt->login_fields &&
			    m->vt->login_fields[j].key; j++)
			g_print("%-12s   login field %s%s%s\n", "",
				m->vt->login_fields[j].key,
				m->vt->login_fields[j].flags &
				TKR_FIELD_SECRET ? " (secret)" : "",
				m->vt->login_fields[j].flags &
				TKR_FIELD_OPTIONAL ? " (optional)" : "");
	}
	return 0;
}

static int cmd_help(int argc, char **argv, GError **error);

static const Command commands[] = {
	{ "token", "NAME [--min-valid SECONDS] [--format plain|json|header|env]",
	  "print a valid access token, refreshing it first if needed",
	  cmd_token },
	{ "login", "NAME [--provider P --url U [--set KEY=VALUE]...]",
	  "obtain the first tokens (secrets from a prompt or stdin)",
	  cmd_login },
	{ "status", "[NAME] [--json]", "show accounts and expiries, no secrets",
	  cmd_status },
	{ "refresh", "NAME [--force]", "refresh now if needed (or always)",
	  cmd_refresh },
	{ "logout", "NAME", "remove the account's tokens from the keyring",
	  cmd_logout },
	{ "list", "", "list configured accounts", cmd_list },
	{ "providers", "", "list installed provider modules", cmd_providers },
	{ "help", "[COMMAND]", "show help", cmd_help },
	{ NULL },
};

static void print_usage(FILE *to)
{
	const Command *c;

	fprintf(to, "usage: tokenring COMMAND [ARGS]\n\n");
	for (c = commands; c->name; c++)
		fprintf(to, "  %-10s %s\n", c->name, c->summary);
	fprintf(to, "\n  --help, --version\n\nExit codes: 0 ok, 1 error, "
		"2 usage, 3 login needed, 4 keyring unavailable or locked,\n"
		"5 provider or network failure that may pass.\n");
}

static int cmd_help(int argc, char **argv, GError **error)
{
	const Command *c;

	if (argc < 2) {
		print_usage(stdout);
		return 0;
	}
	for (c = commands; c->name; c++) {
		if (!strcmp(c->name, argv[1])) {
			char *args[] = { (char *)c->name, "--help", NULL };
			int n = 2;
			char **v = args;

			return c->func(n, v, error);
		}
	}
	usage_error(error, "no such command '%s'", argv[1]);
	return -1;
}

int main(int argc, char **argv)
{
	g_autoptr(GError) error = NULL;
	const Command *c;
	int rc;

	tkr_main_init();
	g_set_prgname("tokenring");
	if (argc < 2) {
		print_usage(stderr);
		return TKR_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		print_usage(stdout);
		return TKR_EXIT_OK;
	}
	if (!strcmp(argv[1], "--version")) {
		g_print("tokenring %s\n", PACKAGE_VERSION);
		return TKR_EXIT_OK;
	}
	for (c = commands; c->name; c++) {
		if (!strcmp(c->name, argv[1]))
			break;
	}
	if (!c->name) {
		g_printerr("tokenring: '%s' is not a command; see 'tokenring "
			   "--help'\n", argv[1]);
		return TKR_EXIT_USAGE;
	}
	rc = c->func(argc - 1, argv + 1, &error);
	if (rc >= 0 && !error)
		return rc;
	if (!error)
		return TKR_EXIT_ERROR;
	tkr_main_report(error);
	return tkr_main_exit_code(error);
}
