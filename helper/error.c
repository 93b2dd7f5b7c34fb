#include "config.h"

#include "error.h"

G_DEFINE_QUARK(tkr-error-quark, tkr_error)

char *tkr_error_sanitize(const char *text, size_t max)
{
	GString *out = g_string_new(NULL);
	size_t i;

	for (i = 0; text && text[i] && i < max; i++) {
		unsigned char ch = (unsigned char)text[i];

		if (ch < 0x20 || ch == 0x7f)
			g_string_append_printf(out, "\\x%02x", ch);
		else
			g_string_append_c(out, (char)ch);
	}
	if (text && text[i])
		g_string_append(out, "...");
	return g_string_free(out, FALSE);
}
