// Linux system calls the Swift Glibc module does not expose: epoll, eventfd, and the batched
// recvmmsg/sendmmsg (which need _GNU_SOURCE). Thin wrappers only; no policy lives here.
#ifndef DNSBRIDGE_CNETSHIM_H
#define DNSBRIDGE_CNETSHIM_H

#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <sys/types.h>

#define DNSB_EPOLLIN 0x001u
#define DNSB_EPOLLOUT 0x004u
#define DNSB_EPOLLERR 0x008u
#define DNSB_EPOLLHUP 0x010u
#define DNSB_EPOLLRDHUP 0x2000u

/// One readiness event: the events mask and the 64-bit token given at registration.
typedef struct {
    uint32_t events;
    uint64_t token;
} dnsb_event;

int dnsb_epoll_create(void);
int dnsb_epoll_add(int epfd, int fd, uint32_t events, uint64_t token);
int dnsb_epoll_mod(int epfd, int fd, uint32_t events, uint64_t token);
int dnsb_epoll_del(int epfd, int fd);
/// Waits up to timeout_ms (-1: forever) and copies at most max events into out.
int dnsb_epoll_wait(int epfd, dnsb_event *out, int max, int timeout_ms);

int dnsb_eventfd(void);

/// accept4 with SOCK_NONBLOCK | SOCK_CLOEXEC (needs _GNU_SOURCE).
int dnsb_accept(int fd, struct sockaddr *address, socklen_t *length);
/// accept4 with SOCK_CLOEXEC only, for the blocking status socket.
int dnsb_accept_blocking(int fd);

/// One datagram slot of a batch: buffer, its capacity, the length received or to send, and the
/// peer address.
typedef struct {
    void *buffer;
    size_t capacity;
    size_t length;
    struct sockaddr_storage address;
    socklen_t address_length;
} dnsb_datagram;

/// recvmmsg into up to count slots without blocking; returns how many arrived, or -1 with errno.
int dnsb_recv_batch(int fd, dnsb_datagram *slots, unsigned count);
/// sendmmsg of up to count slots; returns how many were sent, or -1 with errno.
int dnsb_send_batch(int fd, dnsb_datagram *slots, unsigned count);

/// Lowers the calling thread (not the whole process) to nice 19.
int dnsb_lower_thread_priority(void);

#endif
