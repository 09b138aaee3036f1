/*
 * The session policy's guard against guessing and flooding (internal to sessions.c,
 * exposed for its unit tests). Portable, clock passed in by the caller.
 *
 * Handshake starts (a Command0, which under security 2 costs the device two 3072-bit
 * exponentiations) pass two token buckets, one for the device and one per peer. When a
 * few busy peers have emptied the device's bucket, a quiet peer (its own bucket full)
 * still gets in through a small reserve, so a flood from a few addresses cannot starve
 * an honest client; a flood from many addresses can only be bounded, not told apart. Failed handshakes
 * (a wrong PoP / SRP password) count per peer and for the whole device: the first
 * free_failures cost nothing, after that each further start waits twice as long as
 * the last (2, 4, 8, ... s, capped at max_delay_s), and one failure is forgiven per
 * decay_s without failures. A start during a delay is refused at once, which costs
 * the device nothing and the guesser time. After max_failures failures in total
 * every start is refused until wifiprov__guard_unlock().
 *
 * A peer is (transport name, peer address); the table keeps the peers seen last.
 */
#ifndef WIFIPROV_TRANSPORT_GUARD_H
#define WIFIPROV_TRANSPORT_GUARD_H

#include <stdbool.h>
#include <stdint.h>

struct wifiprov_guard_config {
    unsigned free_failures;               /* failures without delay; 0 = 5 */
    unsigned max_delay_s;                 /* longest delay; 0 = 60 */
    unsigned decay_s;                     /* one failure forgiven per this many seconds without failures; 0 = 60 */
    unsigned max_failures;                /* lock-out after this many failures in total; 0 = never */
    unsigned rate, burst;                 /* handshake starts per second on the device and bucket size; 0 = 10, 20 */
    unsigned peer_rate, peer_burst;       /* the same per peer; 0 = 2, 5 */
    unsigned reserve_rate, reserve_burst; /* the reserve for quiet peers; 0 = 2, 4 */
    const char *unlock_hint;              /* how an operator lifts a lock-out, for the log; NULL = none */
};

enum wifiprov_guard_verdict {
    WIFIPROV_GUARD_ALLOW = 0,
    WIFIPROV_GUARD_PEER_DELAY = 1,   /* the peer waits after failed handshakes */
    WIFIPROV_GUARD_DEVICE_DELAY = 2, /* the device waits after failed handshakes */
    WIFIPROV_GUARD_PEER_RATE = 3,    /* the peer's bucket is empty */
    WIFIPROV_GUARD_DEVICE_RATE = 4,  /* the device's bucket is empty */
    WIFIPROV_GUARD_LOCKED = 5,       /* max_failures reached */
};
const char *wifiprov__guard_verdict_to_string(enum wifiprov_guard_verdict v);

struct wifiprov_guard;

/* @return 0 or WIFIPROV_ERR_NOMEM. */
int wifiprov__guard_new(const struct wifiprov_guard_config *cfg, struct wifiprov_guard **out);
void wifiprov__guard_free(struct wifiprov_guard *g);

/* May @p peer of transport @p owner start a handshake at @p now_ms? ALLOW takes a token
 * from both buckets; a refusal is logged (at most once per second). */
enum wifiprov_guard_verdict wifiprov__guard_admit(struct wifiprov_guard *g, const char *owner, const char *peer,
                                                  uint64_t now_ms);
/* A handshake of @p peer failed on its credentials (logged, without the guess). */
void wifiprov__guard_failure(struct wifiprov_guard *g, const char *owner, const char *peer, uint64_t now_ms);
/* Lifts a lock-out and forgets every failure. */
void wifiprov__guard_unlock(struct wifiprov_guard *g);
bool wifiprov__guard_locked(const struct wifiprov_guard *g);
/* Failures counted now for @p peer (NULL: the device's), after decay. */
unsigned wifiprov__guard_failures(struct wifiprov_guard *g, const char *owner, const char *peer, uint64_t now_ms);

#endif
