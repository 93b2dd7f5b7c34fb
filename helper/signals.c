#include "config.h"

#include "signals.h"

#include <signal.h>
#include <string.h>

static volatile sig_atomic_t deferring;
static volatile sig_atomic_t pending;

static void die_by(int sig)
{
	struct sigaction dfl;

	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	sigaction(sig, &dfl, NULL);
	raise(sig);
}

static void on_signal(int sig)
{
	if (deferring) {
		pending = sig;
		return;
	}
	die_by(sig);
}

void tkr_signals_init(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		struct sigaction old;

		/* Leave alone what our parent told us to ignore (nohup). */
		if (!sigaction(sigs[i], NULL, &old) && old.sa_handler == SIG_IGN)
			continue;
		sigaction(sigs[i], &sa, NULL);
	}
}

void tkr_signals_defer(void)
{
	pending = 0;
	deferring = 1;
}

void tkr_signals_release(void)
{
	deferring = 0;
	if (pending)
		die_by(pending);
}
