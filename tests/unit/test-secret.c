#include "config.h"

#include "secret.h"

#include <string.h>

static void test_new_is_zeroed(void)
{
	g_autoptr(TkrSecret) s = tkr_secret_new(100);
	size_t i;

	g_assert_cmpuint(tkr_secret_capacity(s), ==, 100);
	for (i = 0; i <= 100; i++)
		g_assert_cmpint(s[i], ==, 0);
}

static void test_wipe_whole_block(void)
{
	g_autoptr(TkrSecret) s = tkr_secret_dup("RTCANARY-wipe");
	size_t cap = tkr_secret_capacity(s), i;

	/* Bytes past the first NUL must go too, not just the string. */
	s[5] = '\0';
	tkr_secret_wipe(s);
	for (i = 0; i <= cap; i++)
		g_assert_cmpint(s[i], ==, 0);
}

static void test_memzero(void)
{
	char buf[64];
	size_t i;

	memset(buf, 'x', sizeof(buf));
	tkr_memzero(buf, sizeof(buf));
	for (i = 0; i < sizeof(buf); i++)
		g_assert_cmpint(buf[i], ==, 0);
}

static void test_dup_and_set(void)
{
	g_autoptr(TkrSecret) s = tkr_secret_dup_len("abcdef", 3);
	TkrSecret *slot = NULL;

	g_assert_cmpstr(s, ==, "abc");
	g_assert_null(tkr_secret_dup(NULL));
	tkr_secret_set(&slot, "one");
	tkr_secret_set(&slot, "two");
	g_assert_cmpstr(slot, ==, "two");
	tkr_secret_set(&slot, NULL);
	g_assert_null(slot);
}

static void test_large(void)
{
	g_autoptr(TkrSecret) s = tkr_secret_new(3 * 4096 + 7);

	memset(s, 'a', 3 * 4096 + 7);
	g_assert_cmpuint(strlen(s), ==, 3 * 4096 + 7);
}

static void test_equal(void)
{
	g_assert_true(tkr_secret_equal("abc", "abc"));
	g_assert_false(tkr_secret_equal("abc", "abd"));
	g_assert_false(tkr_secret_equal("abc", "abcd"));
	g_assert_false(tkr_secret_equal("abcd", "abc"));
	g_assert_false(tkr_secret_equal("", "a"));
	g_assert_true(tkr_secret_equal("", ""));
	g_assert_true(tkr_secret_equal(NULL, NULL));
	g_assert_false(tkr_secret_equal(NULL, ""));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
	g_test_add_func("/secret/new-is-zeroed", test_new_is_zeroed);
	g_test_add_func("/secret/wipe-whole-block", test_wipe_whole_block);
	g_test_add_func("/secret/memzero", test_memzero);
	g_test_add_func("/secret/dup-and-set", test_dup_and_set);
	g_test_add_func("/secret/large", test_large);
	g_test_add_func("/secret/equal", test_equal);
	return g_test_run();
}
