/* bytebase.c — placeholder, being written. */
#include "bytebase.h"
typedef int bytebase_placeholder;
