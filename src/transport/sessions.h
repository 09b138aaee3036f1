/*
 * The session policy of the device, shared by its transports (HTTP, BLE).
 *
 * One table holds the sessions of the whole device, whichever transport carries
 * them, so max_sessions is one limit for all. Each session has an owner (the
 * transport that opened it), a peer (the transport's name for the other end: the IP
 * address for HTTP, the BlueZ device for BLE), its creation and last-use times, and
 * whether its handshake is complete or a request of it waits for a reply (PENDING).
 *
 * A transport only translates its wire into these calls:
 *   wifiprov_sessions_begin()   a request of a peer that holds no session: proto-ver is
 *                               answered without one, prov-session opens one, anything
 *                               else is refused
 *   wifiprov_sessions_handle()  one request of a session, through wifiprov_device_handle()
 *   wifiprov_sessions_resume()  the PENDING request again, after the owner's wake
 *   wifiprov_sessions_cancel()  the peer went away while its request was held: the
 *                               session is closed too (its cipher moved past the request)
 *   wifiprov_sessions_close()   the transport ends a session (disconnect, failed start)
 * and learns through its struct wifiprov_session_owner when one of its PENDING replies
 * may be ready (wake) and when one of its sessions went away (closed), whoever closed it.
 *
 * Rules against guessing and flooding:
 *   - sessions are made by prov-session only (wifiprov_sessions_begin()); when the table
 *     is full, the least recently used session that has not completed its handshake
 *     makes room (the newcomer's own peer's first), an established one never does: when
 *     all are established the newcomer is refused;
 *   - a session that has not completed its handshake within handshake_s is closed;
 *   - a session answers only the peer that opened it (a cookie replayed from another
 *     address, or another BLE connection, is refused and the session is untouched);
 *   - handshake starts (Command0) and failed handshakes go through the guard
 *     (guard.h): token buckets per peer and for the device, growing delays after
 *     wrong credentials, an optional lock-out until wifiprov_sessions_unlock().
 *     A refused start returns WIFIPROV_ERR_BUSY at once, before the device sees it.
 *
 * Time: the policy reads the injected clock and keeps its deadlines (idle sessions,
 * the bound on a held reply); the caller runs wifiprov_sessions_expire() at
 * wifiprov_sessions_next_deadline_ms() and is told through deadline_fn when that moved.
 *
 * Portable C (no sockets, no OS headers); single-threaded like the device.
 */
#ifndef WIFIPROV_TRANSPORT_SESSIONS_H
#define WIFIPROV_TRANSPORT_SESSIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "transport/guard.h"
#include "wifiprov/common.h"
#include "wifiprov/device.h"

/* Longest peer string kept, without NUL (longer ones are cut). */
#define WIFIPROV_SESSIONS_PEER_MAX 63

/* Why a session went away (for the owner's closed callback and the logs). */
enum wifiprov_session_why {
    WIFIPROV_SESSION_WHY_OWNER = 0,             /* wifiprov_sessions_close() */
    WIFIPROV_SESSION_WHY_IDLE = 1,              /* unused for idle_s */
    WIFIPROV_SESSION_WHY_EVICTED = 2,           /* made room for a new session */
    WIFIPROV_SESSION_WHY_CANCELLED = 3,         /* its held request was dropped */
    WIFIPROV_SESSION_WHY_PENDING_TIMEOUT = 4,   /* its held reply never came */
    WIFIPROV_SESSION_WHY_STOPPED = 5,           /* the transport or the policy stops */
    WIFIPROV_SESSION_WHY_HANDSHAKE_TIMEOUT = 6, /* no complete handshake within handshake_s */
    WIFIPROV_SESSION_WHY_FAILED = 7,            /* the request that opened it failed (nobody knows its id) */
};
const char *wifiprov_session_why_to_string(enum wifiprov_session_why why);

/* What a transport gives the policy about itself; must outlive its sessions. */
struct wifiprov_session_owner {
    const char *name; /* "http", "ble" */
    void *ctx;
    /* A PENDING reply of @p id may be ready: call wifiprov_sessions_resume(). Required. */
    void (*wake)(void *ctx, uint32_t id);
    /* @p id is gone (called for every close, after the device closed it). May be NULL. */
    void (*closed)(void *ctx, uint32_t id, enum wifiprov_session_why why);
};

struct wifiprov_sessions_config {
    struct wifiprov_device *device; /* borrowed; outlives the policy */
    /* Sessions held at once over all transports; 0 = 8. Keep it equal to the device's. */
    unsigned max_sessions;
    /* A session unused this long is closed; 0 = 300 s. */
    unsigned idle_s;
    /* A request held (PENDING) this long is given up and its session closed; 0 = 60 s. */
    unsigned pending_max_s;
    /* A session whose handshake is not complete this long after it began is closed; 0 = 30 s. */
    unsigned handshake_s;
    /* Throttling of handshake starts and failures (guard.h; zeros = the defaults there). */
    struct wifiprov_guard_config guard;
    /* Monotonic milliseconds. Required. */
    uint64_t (*clock_ms)(void *ctx);
    void *clock_ctx;
    /* Source of session ids; NULL = the crypto backend's CSPRNG. */
    wifiprov_random_fn random;
    void *random_ctx;
    /* The next deadline may have changed: look at wifiprov_sessions_next_deadline_ms(). May be NULL. */
    void (*deadline_fn)(void *ctx);
    void *deadline_ctx;
};

struct wifiprov_sessions;

/* @return 0, WIFIPROV_ERR_INVAL (no device or clock), WIFIPROV_ERR_NOMEM. */
int wifiprov_sessions_new(const struct wifiprov_sessions_config *cfg, struct wifiprov_sessions **out);
/* Closes every session (owners are told, WHY_STOPPED). Accepts NULL. */
void wifiprov_sessions_free(struct wifiprov_sessions *ss);

/**
 * Opens a session of @p owner for @p peer and returns its id (never 0); transports
 * normally let wifiprov_sessions_begin() do it. When the table is full the least
 * recently used session that is not established and holds no request is closed
 * (WHY_EVICTED) to make room, one of @p peer's own first.
 * @return 0, WIFIPROV_ERR_TOO_MANY_SESSIONS (every session is established or busy),
 *         WIFIPROV_ERR_CRYPTO (no random id), WIFIPROV_ERR_NOMEM, WIFIPROV_ERR_INVAL.
 */
int wifiprov_sessions_open(struct wifiprov_sessions *ss, const struct wifiprov_session_owner *owner, const char *peer,
                           uint32_t *id);
/* Closes @p id (a held request is dropped first); unknown ids are ignored. */
void wifiprov_sessions_close(struct wifiprov_sessions *ss, uint32_t id, enum wifiprov_session_why why);
/* Closes every session of @p owner (the transport stops). */
void wifiprov_sessions_close_owner(struct wifiprov_sessions *ss, const struct wifiprov_session_owner *owner,
                                   enum wifiprov_session_why why);

bool wifiprov_sessions_exists(const struct wifiprov_sessions *ss, uint32_t id);
/* The owner of @p id, NULL when unknown. */
const struct wifiprov_session_owner *wifiprov_sessions_owner(const struct wifiprov_sessions *ss, uint32_t id);
/* true while a request of @p id waits for its reply. */
bool wifiprov_sessions_pending(const struct wifiprov_sessions *ss, uint32_t id);
/* Sessions of @p owner, or of every transport when NULL. */
size_t wifiprov_sessions_count(const struct wifiprov_sessions *ss, const struct wifiprov_session_owner *owner);

/**
 * A request of @p peer that holds no session of @p owner. "proto-ver" is answered
 * without a session (*id stays 0); "prov-session" opens one (a handshake start: the
 * guard may refuse it first with WIFIPROV_ERR_BUSY) and, when the device answered,
 * returns its id in *id for the transport to announce; any other endpoint is refused
 * with WIFIPROV_ERR_NO_SESSION. When the request fails, the new session is closed again.
 * @return as wifiprov_sessions_handle(), plus WIFIPROV_ERR_TOO_MANY_SESSIONS.
 */
int wifiprov_sessions_begin(struct wifiprov_sessions *ss, const struct wifiprov_session_owner *owner, const char *peer,
                            const char *endpoint, const uint8_t *req, size_t req_len, uint8_t *out, size_t out_cap,
                            size_t *out_len, uint32_t *id);

/**
 * One request of session @p id from @p peer to @p endpoint ("proto-ver" needs no
 * session: @p id 0 is fine for it). Same contract as wifiprov_device_handle():
 * @return 0 with the reply in @p out, WIFIPROV_ERR_PENDING (the owner's wake, then
 *         wifiprov_sessions_resume()), WIFIPROV_ERR_NO_SESSION (unknown id),
 *         WIFIPROV_ERR_NO_SESSION also when @p peer is not the session's peer (the
 *         session is untouched), WIFIPROV_ERR_BUSY (a handshake start the guard
 *         refused), WIFIPROV_ERR_STATE (a request of the session is already held), or
 *         the device's error. On an error the transport drops the exchange.
 */
int wifiprov_sessions_handle(struct wifiprov_sessions *ss, uint32_t id, const char *peer, const char *endpoint,
                             const uint8_t *req, size_t req_len, uint8_t *out, size_t out_cap, size_t *out_len);
/* Completes the held request of @p id: as wifiprov_device_resume(); NO_SESSION once it was closed. */
int wifiprov_sessions_resume(struct wifiprov_sessions *ss, uint32_t id, uint8_t *out, size_t out_cap, size_t *out_len);
/* The peer of @p id went away while its request was held: drops it and closes the session. */
void wifiprov_sessions_cancel(struct wifiprov_sessions *ss, uint32_t id);

/* The device's wake_fn (@p ctx is the struct wifiprov_sessions): wakes the owner of @p id. */
void wifiprov_sessions_wake(void *ctx, uint32_t id);

/* Lifts a lock-out after max_failures (the operator's SIGUSR1) and forgets all failures. */
void wifiprov_sessions_unlock(struct wifiprov_sessions *ss);
bool wifiprov_sessions_locked(const struct wifiprov_sessions *ss);
/* The guard, for tests and figures. */
struct wifiprov_guard *wifiprov_sessions_guard(struct wifiprov_sessions *ss);

/* When wifiprov_sessions_expire() has work next, on the clock; UINT64_MAX = nothing to do. */
uint64_t wifiprov_sessions_next_deadline_ms(const struct wifiprov_sessions *ss);
/* Closes idle sessions, handshakes that took too long and held replies that waited too long. */
void wifiprov_sessions_expire(struct wifiprov_sessions *ss);

#endif
