// libmicrohttpd's start call and connection queries are variadic, which Swift cannot call:
// these wrappers fix the options the control listener uses.
#ifndef DNSBRIDGE_CMICROHTTPD_H
#define DNSBRIDGE_CMICROHTTPD_H
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <microhttpd.h>

/// Starts a daemon with its own polling thread (epoll where available) on `address`, with at
/// most `connections` open connections, `memory` octets of buffer per connection (which bounds
/// a request's header and body) and an idle timeout of `timeout_seconds`. NULL on failure.
struct MHD_Daemon *dnsb_mhd_start(const struct sockaddr *address, unsigned int connections, size_t memory,
                                  unsigned int timeout_seconds, MHD_AccessHandlerCallback handler,
                                  MHD_RequestCompletedCallback completed, void *context);

/// The peer's address, or NULL.
const struct sockaddr *dnsb_mhd_client_address(struct MHD_Connection *connection);
#endif
