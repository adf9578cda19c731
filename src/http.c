/* http.c — placeholder, being written. */
#include "http.h"
typedef int http_placeholder;
