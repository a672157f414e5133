#ifndef CMOSQUITTO_SHIM_H
#define CMOSQUITTO_SHIM_H
#include <string.h>
#include <mosquitto.h>
#include <mqtt_protocol.h>
/* Compound macros are not imported by Swift: re-export the ones the client needs. */
static inline int cmosquitto_header_version(void) { return LIBMOSQUITTO_VERSION_NUMBER; }

/* Length in bytes of a received message's NUL-terminated topic (no allocation, no Swift String). */
static inline size_t cmosquitto_message_topic_length(const struct mosquitto_message *message) {
    return (message != NULL && message->topic != NULL) ? strlen(message->topic) : 0;
}
#endif
