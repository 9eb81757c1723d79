/*
 * listen_probe.h: loopback listeners for the tests of the outbound address policy
 * (test_channel.c, test_discover.c, test_jetstream.c). A probe is a listening socket on
 * 127.0.0.1 or ::1 that nothing accepts from: a client that connected leaves a connection
 * waiting in its backlog, so a non-blocking accept() after the client returned tells
 * whether it connected at all, without timing. A responder is a thread that accepts one
 * connection on such a socket, reads the request head and writes a fixed answer.
 *
 * Header-only (static inline functions) so each test program takes what it uses; only loopback
 * addresses are ever bound or reached.
 */
#ifndef SAM_TEST_LISTEN_PROBE_H
#define SAM_TEST_LISTEN_PROBE_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* A listening socket on 127.0.0.1 (AF_INET) or ::1 (AF_INET6, IPv6 only) at port (0: any
 * free one), or -1. */
static inline int probe_listen(int family, int port)
{
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    if(fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if(family == AF_INET6) {
        struct sockaddr_in6 a;
        memset(&a, 0, sizeof(a));
        a.sin6_family = AF_INET6;
        a.sin6_addr = in6addr_loopback;
        a.sin6_port = htons((unsigned short)port);
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
        if(bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 16)) {
            close(fd);
            return -1;
        }
    } else {
        struct sockaddr_in a;
        memset(&a, 0, sizeof(a));
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons((unsigned short)port);
        if(bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 16)) {
            close(fd);
            return -1;
        }
    }
    return fd;
}

/* A listening socket on the IPv4 loopback address ip ("127.0.0.3") at port (0: any), or -1. */
static inline int probe_listen_v4(const char *ip, int port)
{
    struct sockaddr_in a;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    if(fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)port);
    if(inet_pton(AF_INET, ip, &a.sin_addr) != 1 || (ntohl(a.sin_addr.s_addr) >> 24) != 127 ||
       bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 16)) {
        close(fd);
        return -1;
    }
    return fd;
}

/* The port a socket is bound to, or -1. */
static inline int probe_port(int fd)
{
    struct sockaddr_storage a;
    socklen_t n = sizeof(a);
    if(getsockname(fd, (struct sockaddr *)&a, &n))
        return -1;
    if(a.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&a)->sin6_port);
    return ntohs(((struct sockaddr_in *)&a)->sin_port);
}

/* Listeners on 127.0.0.1 and ::1 at the same port: fds[0], fds[1]. Returns the port, or
 * -1 when no port was free on both after a few tries. */
static inline int probe_pair(int fds[2])
{
    for(int tries = 0; tries < 20; tries++) {
        int port;
        fds[0] = probe_listen(AF_INET, 0);
        if(fds[0] < 0)
            return -1;
        port = probe_port(fds[0]);
        fds[1] = probe_listen(AF_INET6, port);
        if(fds[1] >= 0)
            return port;
        close(fds[0]);
    }
    fds[0] = fds[1] = -1;
    return -1;
}

/* How many connections wait in fd's backlog (each is accepted and closed), without
 * waiting for any. */
static inline int probe_pending(int fd)
{
    int n = 0, c, fl = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    while((c = accept(fd, NULL, NULL)) >= 0) {
        close(c);
        n++;
    }
    fcntl(fd, F_SETFL, fl);
    return n;
}

struct probe_responder {
    int fd;                 /* the listening socket (borrowed) */
    const char *answer;     /* written after the request head */
    int served;             /* 1 once a connection was answered */
    pthread_t thread;
};

static inline void *probe_serve(void *arg)
{
    struct probe_responder *r = arg;
    struct pollfd p = {.fd = r->fd, .events = POLLIN};
    char head[8192];
    size_t n = 0;
    int c;
    if(poll(&p, 1, 10000) != 1)
        return NULL;
    c = accept(r->fd, NULL, NULL);
    if(c < 0)
        return NULL;
    while(n + 1 < sizeof(head)) {
        struct pollfd q = {.fd = c, .events = POLLIN};
        ssize_t k;
        if(poll(&q, 1, 10000) != 1)
            break;
        k = read(c, head + n, sizeof(head) - 1 - n);
        if(k <= 0)
            break;
        n += (size_t)k;
        head[n] = '\0';
        if(strstr(head, "\r\n\r\n"))
            break;
    }
    if(write(c, r->answer, strlen(r->answer)) == (ssize_t)strlen(r->answer))
        r->served = 1;
    close(c);
    return NULL;
}

/* Starts a thread that answers one connection on fd (at most 10 s of waiting). */
static inline int probe_respond(struct probe_responder *r, int fd, const char *answer)
{
    memset(r, 0, sizeof(*r));
    r->fd = fd;
    r->answer = answer;
    return pthread_create(&r->thread, NULL, probe_serve, r);
}

/* Waits for the responder; 1 when it answered a connection. */
static inline int probe_join(struct probe_responder *r)
{
    pthread_join(r->thread, NULL);
    return r->served;
}

#endif
