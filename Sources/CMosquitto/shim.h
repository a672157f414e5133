#ifndef CMOSQUITTO_SHIM_H
#define CMOSQUITTO_SHIM_H
#include <mosquitto.h>
#include <mqtt_protocol.h>
/* Compound macros are not imported by Swift: re-export the ones the client needs. */
static inline int cmosquitto_header_version(void) { return LIBMOSQUITTO_VERSION_NUMBER; }
#endif
