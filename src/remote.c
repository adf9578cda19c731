/* remote.c — placeholder, being written. */
#include "remote.h"
typedef int remote_placeholder;
