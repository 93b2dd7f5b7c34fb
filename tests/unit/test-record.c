#include "config.h"

#include "error.h"
#include "record.h"

#include <string.h>

static void test_roundtrip(void)
{
	g_auto(TkrRecord) rec = TKR_RECORD_INIT;
	g_auto(TkrRecord) back = TKR_RECORD_INIT;
	g_autoptr(TkrSecret) text = NULL;
	g_autoptr(GError) error = NULL;

	rec.tokens.access_token = tkr_secret_dup("AT:1");
	rec.tokens.refresh_token = tkr_secret_dup("RT \"quoted\"");
	rec.tokens.expires_at = 2000000000;
	rec.tokens.refresh_expires_at = 2100000000;
	rec.tokens.issued_at = 1900000000;
	rec.tokens.token_type = g_strdup("Bearer");
	rec.tokens.extras = tkr_extras_new();
	g_hash_table_insert(rec.tokens.extras, g_strdup("corporation_id"),
			    tkr_secret_dup("C1"));
	rec.last_refresh = 1900000001;
	rec.last_error = g_strdup("HTTP 503");
	rec.access_bad = TRUE;
	text = tkr_record_encode(&rec);
	g_assert_true(tkr_record_decode(text, strlen(text), &back, &error));
	g_assert_no_error(error);
	g_assert_cmpstr(back.tokens.access_token, ==, "AT:1");
	g_assert_cmpstr(back.tokens.refresh_token, ==, "RT \"quoted\"");
	g_assert_cmpint(back.tokens.expires_at, ==, 2000000000);
	g_assert_cmpint(back.tokens.refresh_expires_at, ==, 2100000000);
	g_assert_cmpint(back.tokens.issued_at, ==, 1900000000);
	g_assert_cmpstr(back.tokens.token_type, ==, "Bearer");
	g_assert_cmpstr(g_hash_table_lookup(back.tokens.extras,
					    "corporation_id"), ==, "C1");
	g_assert_cmpint(back.last_refresh, ==, 1900000001);
	g_assert_cmpstr(back.last_error, ==, "HTTP 503");
	g_assert_true(back.access_bad);
}

static void test_corrupt(void)
{
	const char *bad[] = {
		"", "garbage", "[]", "{}", "{\"version\":1}",
		"{\"version\":2,\"access_token\":\"a\"}",
		"{\"version\":1,\"access_token\":\"a\\nb\"}",
		"{\"version\":1,\"access_token\":\"a\",\"expires_at\":\"soon\"}",
		"{\"version\":1,\"access_token\":\"a\",\"extras\":{\"x\":1}}",
		"{\"version\":1,\"access_token\":\"a\"} trailing",
	};
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_auto(TkrRecord) rec = TKR_RECORD_INIT;
		g_autoptr(GError) error = NULL;

		g_assert_false(tkr_record_decode(bad[i], strlen(bad[i]), &rec,
						 &error));
		g_assert_error(error, TKR_ERROR, TKR_ERROR_KEYRING_CORRUPT);
		/* Never half a record. */
		g_assert_null(rec.tokens.access_token);
		g_assert_null(rec.tokens.extras);
	}
}

static void test_fresh(void)
{
	TkrRecord rec = TKR_RECORD_INIT;

	g_assert_false(tkr_record_fresh(&rec, 60, 1000));
	rec.tokens.access_token = tkr_secret_dup("a");
	g_assert_true(tkr_record_fresh(&rec, 60, 1000));	/* unknown expiry */
	rec.tokens.expires_at = 1061;
	g_assert_true(tkr_record_fresh(&rec, 60, 1000));
	rec.tokens.expires_at = 1060;
	g_assert_false(tkr_record_fresh(&rec, 60, 1000));
	rec.tokens.expires_at = G_MAXINT64 - 1;
	g_assert_true(tkr_record_fresh(&rec, 60, G_MININT64 + 100 > 0 ? 0 : 1000));
	rec.access_bad = TRUE;
	g_assert_false(tkr_record_fresh(&rec, 60, 1000));
	tkr_record_release(&rec);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
	g_test_add_func("/record/roundtrip", test_roundtrip);
	g_test_add_func("/record/corrupt", test_corrupt);
	g_test_add_func("/record/fresh", test_fresh);
	return g_test_run();
}
