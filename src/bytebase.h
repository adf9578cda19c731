/* bytebase.h — placeholder, being written. */
