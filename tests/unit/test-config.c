#include "config.h"

#include "account-config.h"
#include "error.h"

#include <string.h>

static TkrConfig *load(const char *text)
{
	g_autofree char *path = g_build_filename(g_get_tmp_dir(), "config",
						 NULL);
	g_autoptr(GError) error = NULL;
	TkrConfig *config;

	g_assert_true(g_file_set_contents(path, text, -1, NULL));
	g_setenv("TOKENRING_CONFIG", path, TRUE);
	config = tkr_config_load(&error);
	g_assert_no_error(error);
	return config;
}

static void test_missing_file(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(TkrConfig) config = NULL;

	g_setenv("TOKENRING_CONFIG", "/nonexistent/tokenring/config", TRUE);
	config = tkr_config_load(&error);
	g_assert_no_error(error);
	g_assert_cmpuint(config->accounts->len, ==, 0);
}

static void test_defaults_and_errors(void)
{
	g_autoptr(TkrConfig) config = load(
		"[ok]\nprovider=ekuaibao\nurl=https://app.example.com\n"
		"[bad-min]\nprovider=x\nurl=https://a.test\nmin_valid=soon\n"
		"[bad-url]\nprovider=x\nurl=http://example.com\n"
		"[no-provider]\nurl=https://a.test\n"
		"[Upper]\nprovider=x\nurl=https://a.test\n"
		"[userinfo]\nprovider=x\nurl=https://u:p@a.test\n"
		"[loop]\nprovider=x\nurl=http://127.0.0.2:8080/api\n"
		"[loop6]\nprovider=x\nurl=http://[::1]:8080\n");
	g_autoptr(GError) error = NULL;
	TkrAccount *a;

	a = tkr_config_account(config, "ok", &error);
	g_assert_no_error(error);
	g_assert_cmpstr(a->username, ==, "ok");
	g_assert_cmpint(a->min_valid, ==, TKR_MIN_VALID_DEFAULT);
	g_assert_cmpuint(a->timeout, ==, TKR_TIMEOUT_DEFAULT);
	g_assert_null(tkr_config_account(config, "bad-min", &error));
	g_assert_error(error, TKR_ERROR, TKR_ERROR_CONFIG);
	g_assert_nonnull(strstr(error->message, "min_valid"));
	g_clear_error(&error);
	g_assert_null(tkr_config_account(config, "bad-url", &error));
	g_assert_nonnull(strstr(error->message, "https is required"));
	g_clear_error(&error);
	g_assert_null(tkr_config_account(config, "no-provider", &error));
	g_assert_nonnull(strstr(error->message, "provider"));
	g_clear_error(&error);
	g_assert_null(tkr_config_account(config, "Upper", &error));
	g_clear_error(&error);
	g_assert_null(tkr_config_account(config, "userinfo", &error));
	g_clear_error(&error);
	g_assert_nonnull(tkr_config_account(config, "loop", NULL));
	g_assert_nonnull(tkr_config_account(config, "loop6", NULL));
	g_assert_null(tkr_config_account(config, "absent", &error));
}

static void test_match(void)
{
	g_autoptr(TkrConfig) config = load(
		"[root]\nprovider=x\nurl=https://git.example.com\n"
		"[org]\nprovider=x\nurl=https://git.example.com/org/\n"
		"[deep]\nprovider=x\nurl=https://git.example.com/org/team\n"
		"[port]\nprovider=x\nurl=https://git.example.com:8443\n"
		"[local]\nprovider=x\nurl=http://127.0.0.1:9000\n");
	struct {
		const char *scheme, *host, *path, *want;
	} cases[] = {
		{ "https", "git.example.com", NULL, "root" },
		{ "https", "GIT.Example.COM", NULL, "root" },
		{ "https", "git.example.com:443", NULL, "root" },
		{ "https", "git.example.com", "org/repo.git", "org" },
		{ "https", "git.example.com", "org", "org" },
		{ "https", "git.example.com", "organic/repo.git", "root" },
		{ "https", "git.example.com", "org/team/x.git", "deep" },
		{ "https", "git.example.com", "org/teammate", "org" },
		{ "https", "git.example.com:8443", NULL, "port" },
		{ "http", "git.example.com", NULL, NULL },
		{ "https", "git.example.com.evil.test", NULL, NULL },
		{ "https", "xgit.example.com", NULL, NULL },
		{ "https", "git.example.com.", NULL, NULL },
		{ "https", "git.example.com:444", NULL, NULL },
		{ "http", "127.0.0.1:9000", NULL, "local" },
		{ "http", "127.0.0.1:9001", NULL, NULL },
		{ "https", "", NULL, NULL },
		{ "https", "user@git.example.com", NULL, NULL },
	};
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(cases); i++) {
		TkrAccount *a = tkr_config_match(config, cases[i].scheme,
						 cases[i].host, cases[i].path);

		g_test_message("%s://%s/%s", cases[i].scheme, cases[i].host,
			       cases[i].path ? cases[i].path : "");
		g_assert_cmpstr(a ? a->name : NULL, ==, cases[i].want);
	}
}

static void test_loopback(void)
{
	g_assert_true(tkr_host_is_loopback("127.0.0.1"));
	g_assert_true(tkr_host_is_loopback("127.9.8.7"));
	g_assert_true(tkr_host_is_loopback("[::1]"));
	g_assert_true(tkr_host_is_loopback("::1"));
	g_assert_true(tkr_host_is_loopback("LOCALHOST"));
	g_assert_false(tkr_host_is_loopback("localhost.evil.test"));
	g_assert_false(tkr_host_is_loopback("127.0.0.1.evil.test"));
	g_assert_false(tkr_host_is_loopback("10.0.0.1"));
	g_assert_false(tkr_host_is_loopback(""));
}

static void test_write(void)
{
	g_autofree char *path = g_build_filename(g_get_tmp_dir(), "cfg", "c",
						 NULL);
	char *set[] = { "power_code=219902", NULL };
	char *secret[] = { "app_security=x", NULL };
	g_autoptr(GError) error = NULL;
	g_autofree char *text = NULL;

	g_setenv("TOKENRING_CONFIG", path, TRUE);
	g_assert_true(tkr_config_write_account("ekb", "ekuaibao",
					       "https://app.example.com", set,
					       &error));
	g_assert_no_error(error);
	g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
	g_assert_nonnull(strstr(text, "power_code=219902"));
	g_assert_false(tkr_config_write_account("ekb", "ekuaibao",
						"https://app.example.com",
						secret, &error));
	g_assert_error(error, TKR_ERROR, TKR_ERROR_USAGE);
	g_clear_error(&error);
	g_assert_false(tkr_config_write_account("Bad Name", "x",
						"https://a.test", NULL,
						&error));
	g_assert_error(error, TKR_ERROR, TKR_ERROR_USAGE);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
	g_test_add_func("/config/missing-file", test_missing_file);
	g_test_add_func("/config/defaults-and-errors", test_defaults_and_errors);
	g_test_add_func("/config/match", test_match);
	g_test_add_func("/config/loopback", test_loopback);
	g_test_add_func("/config/write", test_write);
	return g_test_run();
}
