/*
 * The core side of HTTP: load tokenring-http.so on the first request.
 * Nothing here includes curl; the programs never link it.
 */
#include "config.h"

#include "http.h"
#include "error.h"
#include "provider.h"
#include "secret.h"
#include "trace.h"

#include <dlfcn.h>
#include <string.h>

static const TkrHttpModule *module;

gboolean tkr_http_loaded(void)
{
	return module != NULL;
}

static gboolean load(GError **error)
{
	g_autofree char *path = NULL;
	void *handle;
	const TkrHttpModule *m;

	if (module)
		return TRUE;
	path = tkr_module_find(NULL, "tokenring-http.so");
	handle = path ? dlopen(path, RTLD_NOW | RTLD_LOCAL) : NULL;
	if (!handle) {
		if (path)
			tkr_trace(&tkr_trace_http, "dlopen: %s", dlerror());
		g_set_error(error, TKR_ERROR, TKR_ERROR_PROVIDER,
			    "cannot load tokenring-http.so from %s",
			    PKGLIBDIR);
		return FALSE;
	}
	m = dlsym(handle, "tkr_http_v1");
	if (!m || m->abi != TKR_HTTP_ABI || !m->perform) {
		dlclose(handle);
		g_set_error(error, TKR_ERROR, TKR_ERROR_PROVIDER,
			    "%s is not tokenring's HTTP module of ABI %d", path,
			    TKR_HTTP_ABI);
		return FALSE;
	}
	tkr_trace(&tkr_trace_http, "loaded %s", path);
	module = m;
	return TRUE;
}

gboolean tkr_http_request(const TkrHttpOptions *options,
			  const TkrHttpRequest *request,
			  TkrHttpResponse *response, GError **error)
{
	memset(response, 0, sizeof(*response));
	return load(error) && module->perform(options, request, response,
					      error);
}

void tkr_http_response_clear(TkrHttpResponse *response)
{
	tkr_secret_free(response->body);
	g_free(response->content_type);
	g_free(response->retry_after);
	memset(response, 0, sizeof(*response));
}
