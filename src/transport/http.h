/*
 * HTTP transport of the device (PROTOCOL.md §7.1): `POST /<endpoint>` carries one
 * request of a struct wifiprov_device, the reply is the 200 body. libmicrohttpd runs
 * in external epoll mode on the caller's sd-event loop, on one thread.
 *
 * Sessions: a `Cookie: session=<u32>` naming a live session of this transport continues
 * it. Otherwise a connection that already created a session continues that one, and a
 * connection that has none gets a new session, announced with `Set-Cookie:
 * session=<id>` on the reply. Several clients can hold sessions at once (ESP-IDF allows
 * one). A session is made by a prov-session request only; proto-ver is answered
 * without one, and other endpoints without a session close the connection. Limits,
 * eviction, expiry, throttling and the bound on held replies are the session policy's
 * (transport/sessions.h), shared with the other transports; the peer of a session is
 * the client's IP address, and its cookie works from that address only.
 *
 * Errors are reported the ESP-IDF way: the connection is closed without a response
 * (bad body, failed handshake, decryption error, ...). Unknown paths get 404, other
 * methods on an endpoint 405, and the usual captive-portal probes harmless answers;
 * with a provisioning page, GET / is the page and the probes lead to it (http_page.h).
 */
#ifndef WIFIPROV_TRANSPORT_HTTP_H
#define WIFIPROV_TRANSPORT_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "wifiprov/common.h"
#include "wifiprov/device.h"
#include "transport/sessions.h"

struct wifiprov_httpd_config {
    /* The loop (borrowed). NULL together with listen == NULL: no sockets (fuzzing). */
    sd_event *event;
    /* The device whose endpoints are served (borrowed; outlives the transport). */
    struct wifiprov_device *device;
    /* The device's session policy (borrowed; outlives the transport). */
    struct wifiprov_sessions *sessions;
    /* "ADDR:PORT": IPv4 "0.0.0.0:80", IPv6 "[::]:80"; port 0 = any free port. */
    const char *listen;
    /* Concurrent TCP connections; 0 = 16. */
    unsigned max_connections;
    /* Concurrent TCP connections from one client address; 0 = 4. */
    unsigned max_connections_per_peer;
    /* A connection idle this long is closed; 0 = 30 s. */
    unsigned connection_timeout_s;
    /* The provisioning page (borrowed; outlives the transport); NULL = none (http_page.h). */
    const struct wifiprov_httpd_page *page;
};

struct wifiprov_httpd;

/**
 * Binds the socket and starts serving on cfg->event.
 * @return 0, WIFIPROV_ERR_INVAL (bad address or configuration), WIFIPROV_ERR_IO (socket,
 *         bind or libmicrohttpd failure, logged), WIFIPROV_ERR_NOMEM.
 */
int wifiprov_httpd_new(const struct wifiprov_httpd_config *cfg, struct wifiprov_httpd **out);
/* Closes every connection and session of this transport. Accepts NULL. */
void wifiprov_httpd_free(struct wifiprov_httpd *h);

/* The bound address as "ADDR:PORT" (the real port when 0 was asked). @return 0 or WIFIPROV_ERR_NOSPC. */
int wifiprov_httpd_address(const struct wifiprov_httpd *h, char *buf, size_t cap);
/* Sessions this transport holds. */
size_t wifiprov_httpd_session_count(const struct wifiprov_httpd *h);

/* Parses "ADDR:PORT" (see listen above). @p ss is a struct sockaddr_storage. @return 0 or INVAL. */
int wifiprov_httpd_parse_address(const char *s, void *ss, size_t *ss_len);

/*
 * The request path without sockets, for the fuzzer and for the transport itself.
 * A struct wifiprov_httpd_conn stands for one TCP connection, a struct
 * wifiprov_httpd_req for one request on it.
 */
struct wifiprov_httpd_conn;
struct wifiprov_httpd_req;

enum wifiprov_httpd_verdict {
    WIFIPROV_HTTPD_VERDICT_CONTINUE = 0, /* headers accepted: feed the body */
    WIFIPROV_HTTPD_VERDICT_REPLY = 1,    /* send the reply */
    WIFIPROV_HTTPD_VERDICT_PENDING = 2,  /* hold the connection until the session is woken */
    WIFIPROV_HTTPD_VERDICT_CLOSE = 3,    /* close the connection without a response */
};

struct wifiprov_httpd_reply {
    unsigned status;          /* 200, 204, 302, 404, 405 */
    const char *content_type; /* NULL = none */
    const uint8_t *body;      /* valid until the request is freed */
    size_t len;
    bool set_cookie; /* add Set-Cookie: session=<session_id> */
    uint32_t session_id;
    bool allow_post;            /* add Allow: POST (405) */
    const char *location;       /* add Location (302); NULL = none */
    const char *const *headers; /* more headers: name, value, ..., NULL; NULL = none */
};

/* @p peer: the client's address without the port (the session policy's peer). */
struct wifiprov_httpd_conn *wifiprov__httpd_conn_new(struct wifiprov_httpd *h, const char *peer);
void wifiprov__httpd_conn_free(struct wifiprov_httpd *h, struct wifiprov_httpd_conn *c);
struct wifiprov_httpd_req *wifiprov__httpd_req_new(struct wifiprov_httpd_conn *c);
void wifiprov__httpd_req_free(struct wifiprov_httpd *h, struct wifiprov_httpd_req *r);

/* Headers of a request. @p cookie, @p content_length: header values or NULL when absent. */
enum wifiprov_httpd_verdict wifiprov__httpd_begin(struct wifiprov_httpd *h, struct wifiprov_httpd_req *r,
                                                  const char *method, const char *path, const char *cookie,
                                                  const char *content_length, bool chunked,
                                                  struct wifiprov_httpd_reply *reply);
/* A piece of the body: CONTINUE or CLOSE (more than announced). */
enum wifiprov_httpd_verdict wifiprov__httpd_body(struct wifiprov_httpd_req *r, const uint8_t *data, size_t len);
/* The body is complete: dispatch it. REPLY, PENDING or CLOSE. */
enum wifiprov_httpd_verdict wifiprov__httpd_finish(struct wifiprov_httpd *h, struct wifiprov_httpd_req *r,
                                                   struct wifiprov_httpd_reply *reply);
/* After a wake: try the pending request again. REPLY, PENDING or CLOSE. */
enum wifiprov_httpd_verdict wifiprov__httpd_resume(struct wifiprov_httpd *h, struct wifiprov_httpd_req *r,
                                                   struct wifiprov_httpd_reply *reply);

/* Captive-portal probes (http_probes.c): the answer to GET @p path, or NULL. */
struct wifiprov_httpd_probe {
    const char *path;
    unsigned status;
    const char *type;
    const char *body;
};
const struct wifiprov_httpd_probe *wifiprov__httpd_probe_find(const char *path);

/* Cookie header parsing: 1 and *id for a well-formed session=<u32>, 0 for none, -1 for a malformed one. */
int wifiprov__httpd_parse_cookie(const char *value, uint32_t *id);

#endif
