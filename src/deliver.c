/* deliver.c — placeholder, being written. */
#include "deliver.h"

int
deliver_run(const struct config *cfg, const struct deliver_options *opts, struct error *err)
{
	(void)cfg;
	(void)opts;
	return error_set(err, false, "delivery is not built yet");
}
