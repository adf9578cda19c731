/* outbox.h — placeholder, being written. */
