/* remote.h — placeholder, being written. */
