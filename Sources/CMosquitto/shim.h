#ifndef CMOSQUITTO_SHIM_H
#define CMOSQUITTO_SHIM_H
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <mosquitto.h>
#include <mqtt_protocol.h>
/* Compound macros are not imported by Swift: re-export the ones the client needs. */
static inline int cmosquitto_header_version(void) { return LIBMOSQUITTO_VERSION_NUMBER; }

/* Length in bytes of a received message's NUL-terminated topic (no allocation, no Swift String). */
static inline size_t cmosquitto_message_topic_length(const struct mosquitto_message *message) {
    return (message != NULL && message->topic != NULL) ? strlen(message->topic) : 0;
}

/* Corks (1) or uncorks (0) a TCP socket: while corked, small writes are gathered into full segments; uncorking sends
 * what is pending at once. Returns 0 or -1 (errno set); a non-TCP socket fails harmlessly. */
static inline int cmosquitto_set_tcp_cork(int socket, int on) {
#ifdef TCP_CORK
    return setsockopt(socket, IPPROTO_TCP, TCP_CORK, &on, sizeof(on));
#else
    (void)socket; (void)on;
    return -1;
#endif
}
#endif
