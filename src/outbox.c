/* outbox.c — placeholder, being written. */
#include "outbox.h"
typedef int outbox_placeholder;
