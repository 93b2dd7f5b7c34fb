/*
 * HTTP for providers: the core side and the module interface.
 *
 * libcurl lives only in tokenring-http.so (built from http-curl.c), which
 * the core dlopens on the first request, never on the cache-hit path
 * (DESIGN.md section 9).  The module exports one symbol, tkr_http_v1, of
 * type TkrHttpModule.  All of SECURITY.md section 3 is enforced inside the
 * module: https with verification (plain http only to a loopback host, and
 * then connecting only to loopback addresses), no redirects (a 3xx is an
 * error), a connect and a total timeout, a response size cap enforced while
 * receiving, no decompression, and redacted tracing.
 */
#ifndef TKR_HTTP_H
#define TKR_HTTP_H

#include <tokenring/provider.h>

#define TKR_HTTP_ABI 1

/* The largest response body accepted. */
#define TKR_HTTP_BODY_MAX (64 * 1024)

typedef struct {
	const char *ca_file;		/* extra PEM anchors; nullable */
	guint timeout_s;		/* total time for the request, >= 1 */
	guint connect_timeout_s;	/* >= 1, <= timeout_s */
	gsize body_max;			/* response cap in bytes */
	int trace_fd;			/* TOKENRING_TRACE_HTTP's fd, -1 off */
	/* The core's secret allocator: response bodies are made with it. */
	TkrSecret *(*secret_new)(gsize len);
	void (*secret_free)(TkrSecret *s);
} TkrHttpOptions;

typedef struct {
	guint abi;			/* TKR_HTTP_ABI */
	/*
	 * Perform request.  Returns TRUE with any final HTTP status except
	 * 3xx.  FALSE with TKR_ERROR_CONFIG for a URL the policy refuses
	 * (not https, or http to a host that is not loopback, userinfo, a
	 * scheme other than http/https), TKR_ERROR_NETWORK for everything
	 * that went wrong on the way (refused, timed out, TLS failure, 3xx,
	 * body over the cap, truncated body).  response is zeroed by the
	 * caller; on success its body and strings are owned by it (body in
	 * a TkrSecret from options->secret_new).
	 */
	gboolean (*perform)(const TkrHttpOptions *options,
			    const TkrHttpRequest *request,
			    TkrHttpResponse *response, GError **error);
} TkrHttpModule;

/*
 * The core side, used by the host services given to providers: load the
 * module on first use (searching TOKENRING_PROVIDER_PATH, then
 * $(pkglibdir)) and perform.  Blocks up to options->timeout_s.
 */
gboolean tkr_http_request(const TkrHttpOptions *options,
			  const TkrHttpRequest *request,
			  TkrHttpResponse *response, GError **error);

void tkr_http_response_clear(TkrHttpResponse *response);

/* Whether the HTTP module has been loaded (for tests of laziness). */
gboolean tkr_http_loaded(void);

#endif
