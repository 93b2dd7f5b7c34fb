/*
 * The provider loader, shaped like PAM's pam_dynamic.c: find NAME.so in
 * the directories of TOKENRING_PROVIDER_PATH (ignored when secure_getenv
 * says so) and then $(pkglibdir)/providers, dlopen it RTLD_NOW|RTLD_LOCAL,
 * resolve the one symbol tkr_provider_v1 and check its ABI number.  Any
 * failure fails the account (TKR_ERROR_PROVIDER); there is no fallback.
 */
#ifndef TKR_PROVIDER_LOADER_H
#define TKR_PROVIDER_LOADER_H

#include <glib.h>
#include <tokenring/provider.h>

typedef struct {
	void *handle;
	const TkrProvider *vt;		/* borrowed from the module */
	char *path;
} TkrModule;

/*
 * Returns: (transfer full) the loaded module, or NULL with
 * TKR_ERROR_PROVIDER.  Names must match [a-z0-9_-]+.
 */
TkrModule *tkr_module_load(const char *name, GError **error);
void tkr_module_unload(TkrModule *module);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(TkrModule, tkr_module_unload)

/*
 * Returns: (transfer full) the path of file in the module directories
 * (subdir of each, e.g. "providers"), or NULL if none has it.
 */
char *tkr_module_find(const char *subdir, const char *file);

/*
 * Returns: (transfer full) the names of every provider module found,
 * sorted, without duplicates.
 */
GStrv tkr_module_list(void);

#endif
