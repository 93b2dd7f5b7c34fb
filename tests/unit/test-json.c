#include "config.h"

#include "error.h"
#include "json.h"

#include <string.h>

static json_object *parse(const char *text, GError **error)
{
	return tkr_json_parse(text, strlen(text), error);
}

static void test_strict(void)
{
	const char *bad[] = {
		"{\"a\":1} x", "{\"a\":1}{\"b\":2}", "{'a':1}", "{\"a\":1,}",
		"/* c */ {\"a\":1}", "{\"a\":NaN}", "", "   ", "\xef\xbb\xbf{}",
		"{\"a\":", "[[[[[[[[[[1]]]]]]]]]]", "{\"a\":nan}",
		"{\"a\":Infinity}", "{\"a\":-Infinity}", "{\"a\":1e999}",
	};
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(json_object) o = parse(bad[i], &error);

		g_assert_null(o);
		g_assert_error(error, TKR_ERROR, TKR_ERROR_HTTP);
	}
	{
		g_autoptr(json_object) o = parse(" {\"a\": [1, 2]}\n\t ", NULL);

		g_assert_nonnull(o);
	}
	{
		const char nul[] = "{\"a\":1}\0";
		g_autoptr(GError) error = NULL;

		g_assert_null(tkr_json_parse(nul, sizeof(nul) - 1, &error));
		g_assert_error(error, TKR_ERROR, TKR_ERROR_HTTP);
	}
}

static void test_tokens(void)
{
	struct {
		const char *body;
		gboolean ok;
	} cases[] = {
		{ "{\"t\":\"abc:def\"}", TRUE },
		{ "{\"t\":\"a b~\"}", TRUE },
		{ "{\"t\":\"\"}", FALSE },
		{ "{\"t\":\"ab\\u0000cd\"}", FALSE },
		{ "{\"t\":\"a\\nhost=evil\"}", FALSE },
		{ "{\"t\":\"a\\rb\"}", FALSE },
		{ "{\"t\":\"\\u00e9\"}", FALSE },
		{ "{\"t\":42}", FALSE },
		{ "{\"t\":null}", FALSE },
		{ "{\"t\":{}}", FALSE },
		{ "{\"t\":[\"x\"]}", FALSE },
		{ "{\"u\":\"x\"}", FALSE },
	};
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(json_object) o = parse(cases[i].body, NULL);
		g_autoptr(GError) error = NULL;
		g_autoptr(TkrSecret) t = NULL;

		g_assert_nonnull(o);
		t = tkr_json_token(o, "t", &error);
		if (cases[i].ok) {
			g_assert_no_error(error);
			g_assert_nonnull(t);
		} else {
			g_assert_null(t);
			g_assert_error(error, TKR_ERROR, TKR_ERROR_HTTP);
		}
	}
}

static void test_long_token(void)
{
	GString *body = g_string_new("{\"t\":\"");
	g_autoptr(json_object) o = NULL;
	g_autoptr(TkrSecret) t = NULL;
	int i;

	for (i = 0; i < TKR_TOKEN_MAX + 1; i++)
		g_string_append_c(body, 'a');
	g_string_append(body, "\"}");
	o = parse(body->str, NULL);
	g_string_free(body, TRUE);
	t = tkr_json_token(o, "t", NULL);
	g_assert_null(t);
}

static void test_ints(void)
{
	struct {
		const char *body;
		gboolean digits_ok;
		gboolean ok;
		gint64 want;
	} cases[] = {
		{ "{\"n\":3600}", FALSE, TRUE, 3600 },
		{ "{\"n\":\"3600\"}", FALSE, FALSE, 0 },
		{ "{\"n\":\"3600\"}", TRUE, TRUE, 3600 },
		{ "{\"n\":\"36x\"}", TRUE, FALSE, 0 },
		{ "{\"n\":3.9}", FALSE, FALSE, 0 },
		{ "{\"n\":true}", FALSE, FALSE, 0 },
		{ "{\"n\":null}", FALSE, FALSE, 0 },
		{ "{\"n\":0}", FALSE, FALSE, 0 },
		{ "{\"n\":-5}", FALSE, FALSE, 0 },
		{ "{\"n\":9223372036854775807}", FALSE, FALSE, 0 },
		{ "{\"n\":99999999999999999999}", FALSE, FALSE, 0 },
		{ "{}", FALSE, FALSE, 0 },
	};
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(json_object) o = parse(cases[i].body, NULL);
		gint64 n = -1;
		gboolean ok;

		g_assert_nonnull(o);
		ok = tkr_json_int(o, "n", 1, 100000000, cases[i].digits_ok, &n,
				  NULL);
		g_assert_cmpint(ok, ==, cases[i].ok);
		if (ok)
			g_assert_cmpint(n, ==, cases[i].want);
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
	g_test_add_func("/json/strict", test_strict);
	g_test_add_func("/json/tokens", test_tokens);
	g_test_add_func("/json/long-token", test_long_token);
	g_test_add_func("/json/ints", test_ints);
	return g_test_run();
}
