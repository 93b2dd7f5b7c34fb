#include "config.h"

#include "provider.h"
#include "error.h"
#include "trace.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

static const char *provider_path_env(void)
{
#ifdef HAVE_SECURE_GETENV
	return secure_getenv("TOKENRING_PROVIDER_PATH");
#else
	return g_getenv("TOKENRING_PROVIDER_PATH");
#endif
}

/*
 * The search order: TOKENRING_PROVIDER_PATH's directories (each holding
 * NAME.so directly or under subdir), then the installed $(pkglibdir).
 */
static GPtrArray *candidates(const char *subdir, const char *file)
{
	GPtrArray *paths = g_ptr_array_new_with_free_func(g_free);
	const char *env = provider_path_env();

	if (env) {
		g_auto(GStrv) dirs = g_strsplit(env, ":", -1);
		size_t i;

		for (i = 0; dirs[i]; i++) {
			if (!g_path_is_absolute(dirs[i]))
				continue;
			g_ptr_array_add(paths, g_build_filename(dirs[i], file,
								NULL));
			if (subdir)
				g_ptr_array_add(paths,
						g_build_filename(dirs[i], subdir,
								 file, NULL));
		}
	}
	g_ptr_array_add(paths, g_build_filename(PKGLIBDIR, subdir ? subdir : "",
						file, NULL));
	return paths;
}

char *tkr_module_find(const char *subdir, const char *file)
{
	g_autoptr(GPtrArray) paths = candidates(subdir, file);
	guint i;

	for (i = 0; i < paths->len; i++) {
		if (g_file_test(paths->pdata[i], G_FILE_TEST_IS_REGULAR))
			return g_strdup(paths->pdata[i]);
	}
	return NULL;
}

static gboolean name_ok(const char *name)
{
	const char *p;

	for (p = name; *p; p++) {
		if (!g_ascii_islower(*p) && !g_ascii_isdigit(*p) &&
		    *p != '_' && *p != '-')
			return FALSE;
	}
	return p != name && p - name <= 64;
}

TkrModule *tkr_module_load(const char *name, GError **error)
{
	g_autofree char *file = NULL;
	g_autofree char *path = NULL;
	TkrModule *m;
	const TkrProvider *vt;
	void *handle;

	if (!name_ok(name)) {
		g_set_error(error, TKR_ERROR, TKR_ERROR_PROVIDER,
			    "bad provider name '%s'", name);
		return NULL;
	}
	file = g_strconcat(name, ".so", NULL);
	path = tkr_module_find("providers", file);
	if (!path) {
		g_set_error(error, TKR_ERROR, TKR_ERROR_PROVIDER,
			    "provider '%s' is not installed (no %s in %s)",
			    name, file, PKGLIBDIR "/providers");
		return NULL;
	}
	handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!handle) {
		tkr_trace(&tkr_trace_provider, "dlopen: %s", dlerror());
		g_set_error(error, TKR_ERROR, TKR_ERROR_PROVIDER,
			    "provider '%s' failed to load", name);
		return NULL;
	}
	vt = dlsym(handle, "tkr_provider_v1");
	if (!vt || vt->abi != TKR_PROVIDER_ABI || !vt->name ||
	    strcmp(vt->name, name) || !vt->init || !vt->login ||
	    !vt->refresh || !vt->finish) {
		dlclose(handle);
		g_set_error(error, TKR_ERROR, TKR_ERROR_PROVIDER,
			    "provider '%s' is not a tokenring provider of "
			    "ABI %d", name, TKR_PROVIDER_ABI);
		return NULL;
	}
	tkr_trace(&tkr_trace_provider, "loaded provider '%s' from %s", name,
		  path);
	m = g_new0(TkrModule, 1);
	m->handle = handle;
	m->vt = vt;
	m->path = g_steal_pointer(&path);
	return m;
}

void tkr_module_unload(TkrModule *module)
{
	if (!module)
		return;
	dlclose(module->handle);
	g_free(module->path);
	g_free(module);
}

static gint by_name(gconstpointer a, gconstpointer b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

GStrv tkr_module_list(void)
{
	g_autoptr(GPtrArray) dirs = candidates("providers", "");
	g_autoptr(GPtrArray) names = g_ptr_array_new();
	g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash,
							   g_str_equal,
							   g_free, NULL);
	guint i;

	for (i = 0; i < dirs->len; i++) {
		g_autoptr(GDir) dir = g_dir_open(dirs->pdata[i], 0, NULL);
		const char *entry;

		while (dir && (entry = g_dir_read_name(dir))) {
			g_autofree char *name = NULL;

			if (!g_str_has_suffix(entry, ".so") ||
			    !g_strcmp0(entry, "tokenring-http.so"))
				continue;
			name = g_strndup(entry, strlen(entry) - 3);
			if (name_ok(name) && !g_hash_table_contains(seen, name))
				g_hash_table_add(seen, g_steal_pointer(&name));
		}
	}
	{
		GHashTableIter iter;
		gpointer key;

		g_hash_table_iter_init(&iter, seen);
		while (g_hash_table_iter_next(&iter, &key, NULL))
			g_ptr_array_add(names, g_strdup(key));
	}
	g_ptr_array_sort(names, by_name);
	g_ptr_array_add(names, NULL);
	return (GStrv)g_ptr_array_free(g_steal_pointer(&names), FALSE);
}
