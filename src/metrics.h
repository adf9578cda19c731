/*
 * metrics.h — the Prometheus text exposition format (0.0.4) of bbgitops' health: `status --prometheus` prints it,
 * and poll.metrics_file receives it after every poll cycle (atomically, for node_exporter's textfile collector).
 * The values come from the state layer (state_metrics.h); this module only names and formats them.
 */
#ifndef BBGITOPS_METRICS_H
#define BBGITOPS_METRICS_H

#include "config.h"
#include "error.h"
#include "state.h"
#include "util.h"

/*
 * Appends the metrics of every configured repository to OUT. ST may be NULL (no state database yet: every value
 * is 0). NOW is the time the ages are measured at. Returns 0, or -1 with err set.
 */
int metrics_format(const struct config *cfg, struct state *st, long long now, struct sbuf *out, struct error *err);

/*
 * Writes TEXT to PATH atomically: a temporary file in PATH's directory, mode 0644 (metrics hold no secret and
 * node_exporter runs as another user), flushed, then renamed over PATH. Returns 0, or -1 with err set.
 */
int metrics_write_file(const char *path, const char *text, struct error *err);

/* Opens the state at cfg->state_dir, formats and writes cfg->poll_metrics_file. Returns 0, or -1 with err set. */
int metrics_update_file(const struct config *cfg, struct error *err);

#endif
