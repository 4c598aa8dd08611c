#define _GNU_SOURCE
#include "CNetShim.h"

#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/uio.h>
#include <errno.h>
#include <sys/resource.h>
#include <unistd.h>

int dnsb_epoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }

static int ctl(int epfd, int op, int fd, uint32_t events, uint64_t token) {
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = events;
    ev.data.u64 = token;
    return epoll_ctl(epfd, op, fd, &ev);
}

int dnsb_epoll_add(int epfd, int fd, uint32_t events, uint64_t token) { return ctl(epfd, EPOLL_CTL_ADD, fd, events, token); }
int dnsb_epoll_mod(int epfd, int fd, uint32_t events, uint64_t token) { return ctl(epfd, EPOLL_CTL_MOD, fd, events, token); }
int dnsb_epoll_del(int epfd, int fd) { return epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL); }

int dnsb_epoll_wait(int epfd, dnsb_event *out, int max, int timeout_ms) {
    struct epoll_event events[256];
    if (max > 256) max = 256;
    int n = epoll_wait(epfd, events, max, timeout_ms);
    for (int i = 0; i < n; i++) {
        out[i].events = events[i].events;
        out[i].token = events[i].data.u64;
    }
    return n;
}

int dnsb_eventfd(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }

int dnsb_accept(int fd, struct sockaddr *address, socklen_t *length) {
    return accept4(fd, address, length, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

int dnsb_accept_blocking(int fd) { return accept4(fd, NULL, NULL, SOCK_CLOEXEC); }

#define DNSB_BATCH_MAX 64

/// Points one mmsghdr per slot at the slot's buffer and address; `receiving` decides whether the
/// buffer's capacity (receive) or its length (send) is used, and whether the address is filled in.
static unsigned prepare(struct mmsghdr *msgs, struct iovec *iov, dnsb_datagram *slots, unsigned count, int receiving) {
    if (count > DNSB_BATCH_MAX) count = DNSB_BATCH_MAX;
    memset(msgs, 0, sizeof(struct mmsghdr) * count);
    for (unsigned i = 0; i < count; i++) {
        iov[i].iov_base = slots[i].buffer;
        iov[i].iov_len = receiving ? slots[i].capacity : slots[i].length;
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
        if (receiving) {
            msgs[i].msg_hdr.msg_name = &slots[i].address;
            msgs[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_storage);
        } else {
            msgs[i].msg_hdr.msg_name = slots[i].address_length ? &slots[i].address : NULL;
            msgs[i].msg_hdr.msg_namelen = slots[i].address_length;
        }
    }
    return count;
}

int dnsb_recv_batch(int fd, dnsb_datagram *slots, unsigned count) {
    struct mmsghdr msgs[DNSB_BATCH_MAX];
    struct iovec iov[DNSB_BATCH_MAX];
    count = prepare(msgs, iov, slots, count, 1);
    int n = recvmmsg(fd, msgs, count, MSG_DONTWAIT, NULL);
    for (int i = 0; i < n; i++) {
        slots[i].length = msgs[i].msg_len;
        slots[i].address_length = msgs[i].msg_hdr.msg_namelen;
    }
    return n;
}

int dnsb_send_batch(int fd, dnsb_datagram *slots, unsigned count) {
    struct mmsghdr msgs[DNSB_BATCH_MAX];
    struct iovec iov[DNSB_BATCH_MAX];
    count = prepare(msgs, iov, slots, count, 0);
    return sendmmsg(fd, msgs, count, MSG_DONTWAIT);
}

int dnsb_lower_thread_priority(void) { return setpriority(PRIO_PROCESS, (id_t)gettid(), 19); }
