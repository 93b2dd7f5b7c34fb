#include "config.h"

#include "credential.h"
#include "error.h"

#include <string.h>
#include <fcntl.h>
#include <unistd.h>

static gboolean parse(TkrCredential *c, const char *text, GError **error)
{
	return tkr_credential_parse_git(c, text, strlen(text), error);
}

static void test_basic(void)
{
	g_auto(TkrCredential) c = TKR_CREDENTIAL_INIT;
	g_autoptr(GError) error = NULL;

	g_assert_true(parse(&c, "protocol=https\nhost=example.com:8443\n"
			    "path=a/b.git\nusername=alice\npassword=p=w\n"
			    "password_expiry_utc=9999999999\n"
			    "oauth_refresh_token=rt\n", &error));
	g_assert_no_error(error);
	g_assert_cmpstr(c.protocol, ==, "https");
	g_assert_cmpstr(c.host, ==, "example.com:8443");
	g_assert_cmpstr(c.path, ==, "a/b.git");
	g_assert_cmpstr(c.username, ==, "alice");
	/* Split at the first '=' only. */
	g_assert_cmpstr(c.password, ==, "p=w");
	g_assert_cmpint(c.password_expiry_utc, ==, 9999999999);
	g_assert_cmpstr(c.oauth_refresh_token, ==, "rt");
}

static void test_end_of_request(void)
{
	g_auto(TkrCredential) c = TKR_CREDENTIAL_INIT;

	/* EOF without a newline, then a blank line ending the request. */
	g_assert_true(parse(&c, "protocol=https\nhost=a.test", NULL));
	g_assert_cmpstr(c.host, ==, "a.test");
	g_assert_true(parse(&c, "protocol=https\n\nhost=evil.test\n", NULL));
	g_assert_null(c.host);
	g_assert_true(parse(&c, "protocol=https\r\n\r\nhost=evil.test\n", NULL));
	g_assert_cmpstr(c.protocol, ==, "https");
	g_assert_null(c.host);
}

static void test_empty_username(void)
{
	g_auto(TkrCredential) c = TKR_CREDENTIAL_INIT;

	g_assert_true(parse(&c, "username=\npassword=\n", NULL));
	g_assert_cmpstr(c.username, ==, "");
	g_assert_cmpstr(c.password, ==, "");
	g_assert_true(parse(&c, "protocol=https\n", NULL));
	g_assert_null(c.username);
}

static void test_crlf(void)
{
	g_auto(TkrCredential) c = TKR_CREDENTIAL_INIT;
	g_autoptr(GError) error = NULL;

	g_assert_true(parse(&c, "host=a.test\r\nprotocol=https\r\n", NULL));
	g_assert_cmpstr(c.host, ==, "a.test");
	g_assert_false(parse(&c, "host=a.test\rhost=evil.test\nprotocol=https\n",
			     &error));
	g_assert_error(error, TKR_ERROR, TKR_ERROR_PROTOCOL);
	g_assert_null(c.host);
	g_clear_error(&error);
	/* Only one CR is git's to drop. */
	g_assert_false(parse(&c, "host=a.test\r\r\n", &error));
	g_assert_error(error, TKR_ERROR, TKR_ERROR_PROTOCOL);
}

static void test_refused(void)
{
	g_auto(TkrCredential) c = TKR_CREDENTIAL_INIT;
	g_autoptr(GError) error = NULL;
	const char nul[] = "protocol=https\nhost=a\0.test\n";

	g_assert_false(parse(&c, "protocol=https\nhost\n", &error));
	g_assert_error(error, TKR_ERROR, TKR_ERROR_PROTOCOL);
	g_clear_error(&error);
	g_assert_null(c.protocol);
	g_assert_false(tkr_credential_parse_git(&c, nul, sizeof(nul) - 1,
						&error));
	g_assert_error(error, TKR_ERROR, TKR_ERROR_PROTOCOL);
}

static void test_unknown_and_repeated(void)
{
	g_auto(TkrCredential) c = TKR_CREDENTIAL_INIT;

	g_assert_true(parse(&c, "capability[]=authtype\nwwwauth[]=Basic\n"
			    "host=first.test\nhost=second.test\nurl=x\n"
			    "state[]=foo\nfuture=1\n", NULL));
	g_assert_cmpstr(c.host, ==, "second.test");
	g_assert_null(c.protocol);
	g_assert_true(parse(&c, "ephemeral=1\nauthtype=Bearer\n", NULL));
	g_assert_true(c.ephemeral);
	g_assert_true(c.authtype);
}

static void test_expiry_values(void)
{
	const char *garbage[] = { "0", "-1", "abc", "18446744073709551616",
				  "9223372036854775808", " 5", "5x", "" };
	g_auto(TkrCredential) c = TKR_CREDENTIAL_INIT;
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(garbage); i++) {
		g_autofree char *text = g_strdup_printf(
			"password_expiry_utc=%s\n", garbage[i]);

		g_assert_true(parse(&c, text, NULL));
		g_assert_cmpint(c.password_expiry_utc, ==, 0);
	}
	g_assert_true(parse(&c, "password_expiry_utc=9223372036854775807\n",
			    NULL));
	g_assert_cmpint(c.password_expiry_utc, ==, G_MAXINT64);
}

static char *line_of(size_t total_with_lf)
{
	/* "wwwauth[]=" + padding + "\n" adding up to total_with_lf bytes. */
	GString *s = g_string_new("wwwauth[]=");

	while (s->len < total_with_lf - 1)
		g_string_append_c(s, 'a');
	g_string_append_c(s, '\n');
	return g_string_free(s, FALSE);
}

static void test_line_length(void)
{
	g_auto(TkrCredential) c = TKR_CREDENTIAL_INIT;
	g_autoptr(GError) error = NULL;
	g_autofree char *ok = line_of(TKR_GIT_LINE_MAX);
	g_autofree char *long_line = line_of(TKR_GIT_LINE_MAX + 1);
	g_autofree char *req = NULL;

	g_assert_cmpuint(strlen(ok), ==, 65535);
	req = g_strconcat("protocol=https\n", ok, "host=a.test\n", NULL);
	g_assert_true(parse(&c, req, NULL));
	g_assert_cmpstr(c.host, ==, "a.test");
	g_free(req);
	req = g_strconcat("protocol=https\n", long_line, "host=a.test\n", NULL);
	g_assert_false(parse(&c, req, &error));
	g_assert_error(error, TKR_ERROR, TKR_ERROR_PROTOCOL);
	g_assert_null(c.host);
}

static void test_long_header_not_split(void)
{
	g_auto(TkrCredential) c = TKR_CREDENTIAL_INIT;
	g_autoptr(GString) req = g_string_new("protocol=https\n"
					      "host=badguy.example.com\n"
					      "wwwauth[]=basic realm=");
	int i;

	/* git's "not confused by long header": host= past 1024 bytes. */
	for (i = 0; i < 1001; i++)
		g_string_append_c(req, 'a');
	g_string_append(req, "host=victim.example.com\n");
	g_assert_true(parse(&c, req->str, NULL));
	g_assert_cmpstr(c.host, ==, "badguy.example.com");
}

static void test_format(void)
{
	g_auto(TkrCredential) c = TKR_CREDENTIAL_INIT;
	g_autoptr(GError) error = NULL;
	g_autoptr(TkrSecret) out = NULL;

	c.protocol = g_strdup("https");
	c.username = g_strdup("");
	c.password = tkr_secret_dup("pw");
	c.password_expiry_utc = 1234;
	c.oauth_refresh_token = tkr_secret_dup("rt");
	out = tkr_credential_format_git(&c, &error);
	g_assert_no_error(error);
	/* Never protocol or url: git would reset the credential on url=. */
	g_assert_cmpstr(out, ==, "username=\npassword=pw\n"
			"password_expiry_utc=1234\noauth_refresh_token=rt\n");
	tkr_secret_set(&c.password, "a\rb");
	g_assert_null(tkr_credential_format_git(&c, &error));
	g_assert_error(error, TKR_ERROR, TKR_ERROR_PROTOCOL);
}

static void test_split_host(void)
{
	struct {
		const char *host, *name;
		guint port;
	} good[] = {
		{ "example.com", "example.com", 0 },
		{ "example.com:8443", "example.com", 8443 },
		{ "[::1]", "[::1]", 0 },
		{ "[::1]:8080", "[::1]", 8080 },
		{ "127.0.0.1:65535", "127.0.0.1", 65535 },
	};
	const char *bad[] = { "", "example.org:notaport", "a:0", "a:65536",
			      "::1", "[::1", "[::1]x", "[::1]:", ":80", "[]" };
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(good); i++) {
		g_autofree char *name = NULL;
		guint port;

		g_assert_true(tkr_credential_split_host(good[i].host, &name,
							&port, NULL));
		g_assert_cmpstr(name, ==, good[i].name);
		g_assert_cmpuint(port, ==, good[i].port);
	}
	for (i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autofree char *name = NULL;
		g_autoptr(GError) error = NULL;
		guint port;

		g_assert_false(tkr_credential_split_host(bad[i], &name, &port,
							 &error));
		g_assert_error(error, TKR_ERROR, TKR_ERROR_PROTOCOL);
		g_assert_null(name);
	}
}

static void test_input_read(void)
{
	int fds[2];
	const char req[] = "protocol=https\nhost=a.test\n\nignored=1\n";
	g_autoptr(TkrSecret) buf = NULL;
	size_t len = 0;

	/* The writer stays open: reading must stop at the blank line. */
	g_assert_cmpint(pipe(fds), ==, 0);
	g_assert_cmpint(write(fds[1], req, sizeof(req) - 1), ==,
			(ssize_t)sizeof(req) - 1);
	buf = tkr_input_read(fds[0], TKR_GIT_INPUT_MAX, TRUE, &len, NULL);
	g_assert_nonnull(buf);
	g_assert_true(g_str_has_prefix(buf, "protocol=https\nhost=a.test\n\n"));
	close(fds[0]);
	close(fds[1]);
}

static void test_input_too_large(void)
{
	g_autofree char *path = g_build_filename(g_get_tmp_dir(), "big", NULL);
	g_autofree char *big = g_malloc(TKR_GIT_INPUT_MAX + 10);
	g_autoptr(GError) error = NULL;
	size_t len;
	int fd;

	memset(big, 'a', TKR_GIT_INPUT_MAX + 10);
	g_assert_true(g_file_set_contents(path, big, TKR_GIT_INPUT_MAX + 10,
					  NULL));
	fd = open(path, O_RDONLY);
	g_assert_cmpint(fd, >=, 0);
	g_assert_null(tkr_input_read(fd, TKR_GIT_INPUT_MAX, TRUE, &len,
				       &error));
	g_assert_error(error, TKR_ERROR, TKR_ERROR_PROTOCOL);
	close(fd);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
	g_test_add_func("/credential/parse/basic", test_basic);
	g_test_add_func("/credential/parse/end-of-request", test_end_of_request);
	g_test_add_func("/credential/parse/empty-username", test_empty_username);
	g_test_add_func("/credential/parse/crlf", test_crlf);
	g_test_add_func("/credential/parse/refused", test_refused);
	g_test_add_func("/credential/parse/unknown-and-repeated",
			test_unknown_and_repeated);
	g_test_add_func("/credential/parse/expiry-values", test_expiry_values);
	g_test_add_func("/credential/parse/line-length", test_line_length);
	g_test_add_func("/credential/parse/long-header",
			test_long_header_not_split);
	g_test_add_func("/credential/format", test_format);
	g_test_add_func("/credential/split-host", test_split_host);
	g_test_add_func("/credential/input/stops-at-blank-line", test_input_read);
	g_test_add_func("/credential/input/too-large", test_input_too_large);
	return g_test_run();
}
