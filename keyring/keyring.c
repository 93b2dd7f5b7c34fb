/*
 * The connection to the Secret Service, and libsecret calls with a deadline.
 *
 * libsecret's synchronous calls can block for GDBus's 25 s default or for
 * the bus's service activation timeout (120 s on Debian).  So every call
 * here is libsecret's asynchronous variant, run on a private main context
 * with a timeout source that cancels it (docs/SECURITY.md section 6).
 */
#include "config.h"

#include "keyring-private.h"
#include "helper/error.h"
#include "helper/trace.h"

#include <string.h>

#define TKR_KEYRING_TIMEOUT_DEFAULT 5

static void on_done(GObject *source, GAsyncResult *result, gpointer data)
{
	GAsyncResult **slot = data;

	*slot = g_object_ref(result);
}

static gboolean on_deadline(gpointer data)
{
	g_cancellable_cancel(data);
	return G_SOURCE_REMOVE;
}

static gboolean keep_ticking(gpointer data)
{
	return G_SOURCE_CONTINUE;
}

/* What a call that never completed is reported as. */
static void no_answer(TkrKeyring *kr, GError **error)
{
	g_set_error(error, TKR_ERROR, TKR_ERROR_KEYRING_UNAVAILABLE,
		    "the keyring did not answer within %u s", kr->timeout_s);
}

/*
 * Run the context until *result is set.  The operation was started with
 * cancel; the deadline cancels it, which makes it complete with
 * G_IO_ERROR_CANCELLED.  Returns the result (transfer none), or NULL if
 * even a second after the deadline nothing came (an operation libsecret
 * refused to start, say): callers report that as no answer in time.
 */
static GAsyncResult *wait_for(TkrKeyring *kr, GCancellable *cancel,
			      GAsyncResult **result)
{
	gint64 give_up = g_get_monotonic_time() +
			 ((gint64)kr->timeout_s + 1) * G_USEC_PER_SEC;
	GSource *deadline = g_timeout_source_new_seconds(kr->timeout_s);
	GSource *tick = g_timeout_source_new(100);

	g_source_set_callback(deadline, on_deadline, cancel, NULL);
	g_source_attach(deadline, kr->ctx);
	/* Wakes the loop up now and then, so that give_up is looked at. */
	g_source_set_callback(tick, keep_ticking, NULL, NULL);
	g_source_attach(tick, kr->ctx);
	while (!*result && g_get_monotonic_time() < give_up)
		g_main_context_iteration(kr->ctx, TRUE);
	g_source_destroy(tick);
	g_source_unref(tick);
	g_source_destroy(deadline);
	g_source_unref(deadline);
	return *result;
}

void tkr_keyring_set_locked_error(GError **error)
{
	g_set_error_literal(error, TKR_ERROR, TKR_ERROR_KEYRING_LOCKED,
			    "the keyring is locked; unlock it (e.g. "
			    "gnome-keyring-daemon --unlock) and try again");
}

static gboolean is_remote(const GError *e, const char *name)
{
	g_autofree char *remote = g_dbus_error_get_remote_error(e);

	return remote && !strcmp(remote, name);
}

/*
 * Turn whatever libsecret or GDBus reported into one of our keyring
 * errors, with a message fit for one line on the user's terminal.
 */
static void classify(TkrKeyring *kr, GCancellable *cancel, GError *in,
		     GError **error)
{
	tkr_trace(&tkr_trace_keyring, "keyring call failed: %s", in->message);
	if (g_cancellable_is_cancelled(cancel) ||
	    g_error_matches(in, G_DBUS_ERROR, G_DBUS_ERROR_TIMEOUT) ||
	    g_error_matches(in, G_DBUS_ERROR, G_DBUS_ERROR_NO_REPLY) ||
	    g_error_matches(in, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
		g_set_error(error, TKR_ERROR, TKR_ERROR_KEYRING_UNAVAILABLE,
			    "the keyring did not answer within %u s",
			    kr->timeout_s);
	else if (g_error_matches(in, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN) ||
		 g_error_matches(in, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER) ||
		 g_error_matches(in, G_DBUS_ERROR, G_DBUS_ERROR_SPAWN_SERVICE_NOT_FOUND) ||
		 g_error_matches(in, G_DBUS_ERROR, G_DBUS_ERROR_SPAWN_EXEC_FAILED) ||
		 g_error_matches(in, G_DBUS_ERROR, G_DBUS_ERROR_SPAWN_CHILD_EXITED) ||
		 g_error_matches(in, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_METHOD) ||
		 g_error_matches(in, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_OBJECT))
		g_set_error_literal(error, TKR_ERROR,
				    TKR_ERROR_KEYRING_UNAVAILABLE,
				    "no Secret Service on the session bus (is "
				    "gnome-keyring-daemon or KeePassXC running?)");
	else if (g_error_matches(in, SECRET_ERROR, SECRET_ERROR_IS_LOCKED) ||
		 is_remote(in, "org.freedesktop.Secret.Error.IsLocked"))
		tkr_keyring_set_locked_error(error);
	else if (g_error_matches(in, G_DBUS_ERROR, G_DBUS_ERROR_DISCONNECTED) ||
		 g_error_matches(in, G_IO_ERROR, G_IO_ERROR_CLOSED) ||
		 g_error_matches(in, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED))
		g_set_error_literal(error, TKR_ERROR,
				    TKR_ERROR_KEYRING_UNAVAILABLE,
				    "the Secret Service went away during the call");
	else
		g_set_error_literal(error, TKR_ERROR,
				    TKR_ERROR_KEYRING_UNAVAILABLE,
				    "the keyring refused the request");
	g_error_free(in);
}

static guint timeout_from_env(void)
{
	const char *v = g_getenv("TOKENRING_KEYRING_TIMEOUT");
	guint64 n;

	if (v && g_ascii_string_to_unsigned(v, 10, 1, 120, &n, NULL))
		return (guint)n;
	return TKR_KEYRING_TIMEOUT_DEFAULT;
}

TkrKeyring *tkr_keyring_open(GError **error)
{
	TkrKeyring *kr = g_new0(TkrKeyring, 1);
	g_autoptr(GCancellable) cancel = g_cancellable_new();
	g_autoptr(GAsyncResult) result = NULL;
	g_autoptr(GDBusConnection) bus = NULL;
	GError *local = NULL;

	kr->timeout_s = timeout_from_env();
	kr->ctx = g_main_context_new();
	g_main_context_push_thread_default(kr->ctx);

	/*
	 * Connect to the bus first and on our own, so that "no bus" gets its
	 * own message instead of whatever the service proxy makes of it.
	 */
	g_bus_get(G_BUS_TYPE_SESSION, cancel, on_done, &result);
	if (!wait_for(kr, cancel, &result)) {
		no_answer(kr, error);
		tkr_keyring_close(kr);
		return NULL;
	}
	bus = g_bus_get_finish(result, &local);
	if (!bus) {
		tkr_trace(&tkr_trace_keyring, "no session bus: %s",
			  local->message);
		g_error_free(local);
		g_set_error_literal(error, TKR_ERROR,
				    TKR_ERROR_KEYRING_UNAVAILABLE,
				    "no D-Bus session bus: is this an SSH or "
				    "cron session?");
		tkr_keyring_close(kr);
		return NULL;
	}
	g_clear_object(&result);
	secret_service_get(SECRET_SERVICE_OPEN_SESSION, cancel, on_done,
			   &result);
	if (!wait_for(kr, cancel, &result)) {
		no_answer(kr, error);
		tkr_keyring_close(kr);
		return NULL;
	}
	kr->service = secret_service_get_finish(result, &local);
	if (!kr->service) {
		classify(kr, cancel, local, error);
		tkr_keyring_close(kr);
		return NULL;
	}
	tkr_trace(&tkr_trace_keyring, "connected to the Secret Service");
	return kr;
}

void tkr_keyring_close(TkrKeyring *kr)
{
	if (!kr)
		return;
	g_clear_object(&kr->service);
	g_main_context_pop_thread_default(kr->ctx);
	g_main_context_unref(kr->ctx);
	g_free(kr);
}

/*
 * Most recently modified first.  Times have one-second resolution, so ties
 * are common: then the later created, then the later object path (services
 * number items as they create them; compared as a person would, "10" after
 * "9").  Any order will do as long as it is the same every time.
 */
static gint newest_first(gconstpointer a, gconstpointer b)
{
	SecretItem *ia = (SecretItem *)a, *ib = (SecretItem *)b;
	guint64 ma = secret_item_get_modified(ia);
	guint64 mb = secret_item_get_modified(ib);
	guint64 ca = secret_item_get_created(ia);
	guint64 cb = secret_item_get_created(ib);
	g_autofree char *ka = NULL, *kb = NULL;

	if (ma != mb)
		return ma > mb ? -1 : 1;
	if (ca != cb)
		return ca > cb ? -1 : 1;
	ka = g_utf8_collate_key_for_filename(
		g_dbus_proxy_get_object_path(G_DBUS_PROXY(ia)), -1);
	kb = g_utf8_collate_key_for_filename(
		g_dbus_proxy_get_object_path(G_DBUS_PROXY(ib)), -1);
	return -strcmp(ka, kb);
}

/*
 * libsecret refuses attributes and labels that are not UTF-8 with a
 * warning, and starts no call at all: check first, and say so.
 */
static gboolean utf8_ok(GHashTable *attributes, const char *label,
			GError **error)
{
	GHashTableIter iter;
	gpointer key, value;

	g_hash_table_iter_init(&iter, attributes);
	while (g_hash_table_iter_next(&iter, &key, &value)) {
		if (!g_utf8_validate(value, -1, NULL)) {
			g_set_error(error, TKR_ERROR, TKR_ERROR_PROTOCOL,
				    "'%s' is not valid UTF-8",
				    (const char *)key);
			return FALSE;
		}
	}
	if (label && !g_utf8_validate(label, -1, NULL)) {
		g_set_error_literal(error, TKR_ERROR, TKR_ERROR_PROTOCOL,
				    "the item label is not valid UTF-8");
		return FALSE;
	}
	return TRUE;
}

gboolean tkr_keyring_search(TkrKeyring *kr, const SecretSchema *schema,
			    GHashTable *attributes, SecretSearchFlags flags,
			    GList **items, GError **error)
{
	g_autoptr(GCancellable) cancel = g_cancellable_new();
	g_autoptr(GAsyncResult) result = NULL;
	GError *local = NULL;

	*items = NULL;
	if (!utf8_ok(attributes, NULL, error))
		return FALSE;
	secret_service_search(kr->service, schema, attributes, flags, cancel,
			      on_done, &result);
	if (!wait_for(kr, cancel, &result)) {
		no_answer(kr, error);
		return FALSE;
	}
	*items = secret_service_search_finish(kr->service, result, &local);
	if (local) {
		classify(kr, cancel, local, error);
		g_list_free_full(g_steal_pointer(items), g_object_unref);
		return FALSE;
	}
	tkr_trace(&tkr_trace_keyring, "search found %u item(s)",
		  g_list_length(*items));
	*items = g_list_sort(*items, newest_first);
	return TRUE;
}

char *tkr_keyring_create(TkrKeyring *kr, const SecretSchema *schema,
			 GHashTable *attributes, const char *label,
			 const char *secret, gsize len, GError **error)
{
	g_autoptr(GCancellable) cancel = g_cancellable_new();
	g_autoptr(GAsyncResult) result = NULL;
	g_autoptr(SecretCollection) collection = NULL;
	g_autoptr(SecretValue) value = NULL;
	g_autoptr(SecretItem) item = NULL;
	GError *local = NULL;

	if (!utf8_ok(attributes, label, error))
		return NULL;
	secret_collection_for_alias(kr->service, SECRET_COLLECTION_DEFAULT,
				    SECRET_COLLECTION_NONE, cancel, on_done,
				    &result);
	if (!wait_for(kr, cancel, &result)) {
		no_answer(kr, error);
		return NULL;
	}
	collection = secret_collection_for_alias_finish(result, &local);
	if (local) {
		classify(kr, cancel, local, error);
		return NULL;
	}
	if (!collection) {
		g_set_error_literal(error, TKR_ERROR,
				    TKR_ERROR_KEYRING_UNAVAILABLE,
				    "the keyring has no default collection");
		return NULL;
	}
	if (secret_collection_get_locked(collection)) {
		tkr_keyring_set_locked_error(error);
		return NULL;
	}
	g_clear_object(&result);
	/* SecretValue copies into libsecret's secure memory. */
	value = secret_value_new(secret, (gssize)len, "text/plain");
	secret_item_create(collection, schema, attributes, label, value,
			   SECRET_ITEM_CREATE_NONE, cancel, on_done, &result);
	if (!wait_for(kr, cancel, &result)) {
		no_answer(kr, error);
		return NULL;
	}
	item = secret_item_create_finish(result, &local);
	if (!item) {
		classify(kr, cancel, local, error);
		return NULL;
	}
	tkr_trace(&tkr_trace_keyring, "created item '%s'", label);
	return g_strdup(g_dbus_proxy_get_object_path(G_DBUS_PROXY(item)));
}

gboolean tkr_keyring_replace(TkrKeyring *kr, const SecretSchema *schema,
			     GHashTable *attributes, const char *label,
			     const char *secret, gsize len, GError **error)
{
	g_autoptr(GCancellable) cancel = g_cancellable_new();
	g_autoptr(GAsyncResult) result = NULL;
	g_autoptr(SecretValue) value = NULL;
	GError *local = NULL;

	if (!utf8_ok(attributes, label, error))
		return FALSE;
	value = secret_value_new(secret, (gssize)len, "text/plain");
	secret_service_store(kr->service, schema, attributes,
			     SECRET_COLLECTION_DEFAULT, label, value, cancel,
			     on_done, &result);
	if (!wait_for(kr, cancel, &result)) {
		no_answer(kr, error);
		return FALSE;
	}
	if (!secret_service_store_finish(kr->service, result, &local)) {
		classify(kr, cancel, local, error);
		return FALSE;
	}
	tkr_trace(&tkr_trace_keyring, "stored item '%s'", label);
	return TRUE;
}

gboolean tkr_keyring_delete(TkrKeyring *kr, SecretItem *item, GError **error)
{
	g_autoptr(GCancellable) cancel = g_cancellable_new();
	g_autoptr(GAsyncResult) result = NULL;
	GError *local = NULL;

	secret_item_delete(item, cancel, on_done, &result);
	if (!wait_for(kr, cancel, &result)) {
		no_answer(kr, error);
		return FALSE;
	}
	if (!secret_item_delete_finish(item, result, &local)) {
		classify(kr, cancel, local, error);
		return FALSE;
	}
	tkr_trace(&tkr_trace_keyring, "deleted item %s",
		  g_dbus_proxy_get_object_path(G_DBUS_PROXY(item)));
	return TRUE;
}

gboolean tkr_keyring_not_found(TkrKeyring *kr, GError **error)
{
	g_autoptr(GCancellable) cancel = g_cancellable_new();
	g_autoptr(GAsyncResult) result = NULL;
	g_autoptr(SecretCollection) collection = NULL;
	GError *local = NULL;

	secret_collection_for_alias(kr->service, SECRET_COLLECTION_DEFAULT,
				    SECRET_COLLECTION_NONE, cancel, on_done,
				    &result);
	if (!wait_for(kr, cancel, &result)) {
		no_answer(kr, error);
		return FALSE;
	}
	collection = secret_collection_for_alias_finish(result, &local);
	if (local) {
		classify(kr, cancel, local, error);
		return FALSE;
	}
	if (collection && secret_collection_get_locked(collection)) {
		tkr_keyring_set_locked_error(error);
		return FALSE;
	}
	g_set_error_literal(error, TKR_ERROR, TKR_ERROR_NOT_FOUND,
			    "no matching item");
	return FALSE;
}
