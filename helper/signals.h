/*
 * Holding off SIGINT, SIGTERM and SIGHUP through a critical section (from
 * sending a refresh until the rotated pair is in the keyring: SECURITY.md
 * section 5 rule 5).
 *
 * sigprocmask would not do: GLib's D-Bus worker thread (and libcurl's
 * resolver thread) exist by then, with the signals unblocked, and would
 * take the default action for the whole process.  So tkr_signals_init()
 * installs one handler, in every thread's name: outside a critical section
 * it restores the default action and re-raises (exit as by the signal);
 * inside, it only notes the signal, which tkr_signals_release() re-raises.
 */
#ifndef TKR_SIGNALS_H
#define TKR_SIGNALS_H

/* Install the handlers; call once, early in main(). */
void tkr_signals_init(void);

/* Enter a critical section (not nested). */
void tkr_signals_defer(void);

/* Leave it; a signal that came meanwhile now takes effect. */
void tkr_signals_release(void);

#endif
