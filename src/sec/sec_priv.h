/*
 * Inside the security layer: the session object shared by all schemes, the
 * scheme operations table and helpers used by sec0.c, sec1.c and sec2.c.
 * No OS headers.
 */
#ifndef WIFIPROV_SEC_PRIV_H
#define WIFIPROV_SEC_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sec/sec.h"
#include "session.pb-c.h"

/*
 * Handshake progress. The device goes IDLE -> CMD0 (Resp0 sent) -> ESTABLISHED;
 * the client IDLE -> CMD0 (Cmd0 sent) -> CMD1 (Cmd1 sent) -> ESTABLISHED.
 * Any handshake error returns to IDLE.
 */
enum wifiprov_sec_state {
    WIFIPROV_SEC_STATE_IDLE = 0,
    WIFIPROV_SEC_STATE_CMD0 = 1,
    WIFIPROV_SEC_STATE_CMD1 = 2,
    WIFIPROV_SEC_STATE_ESTABLISHED = 3,
};
const char *wifiprov__sec_state_to_string(enum wifiprov_sec_state st);

/* Largest prov-session message the security layer parses (a 65535-byte username fits). */
#define WIFIPROV_SEC_MAX_IN (65535u + 1024u)

struct wifiprov_sec_session;

struct wifiprov_sec_ops {
    const char *name;
    bool has_cipher;
    size_t overhead;
    /* Copies what it keeps from @p p into s->priv. */
    int (*init)(struct wifiprov_sec_session *s, const struct wifiprov_sec_params *p);
    /* Wipes and frees s->priv. */
    void (*cleanup)(struct wifiprov_sec_session *s);
    /* Wipes handshake state and keys, keeping the configuration. */
    void (*reset)(struct wifiprov_sec_session *s);
    int (*device_msg)(struct wifiprov_sec_session *s, const SessionData *req, uint8_t *out, size_t out_cap,
                      size_t *out_len, enum wifiprov_sec_outcome *outcome);
    int (*client_start)(struct wifiprov_sec_session *s, uint8_t *out, size_t out_cap, size_t *out_len);
    int (*client_msg)(struct wifiprov_sec_session *s, const SessionData *resp, uint8_t *out, size_t out_cap,
                      size_t *out_len);
    int (*encrypt)(struct wifiprov_sec_session *s, const uint8_t *in, size_t len, uint8_t *out, size_t out_cap,
                   size_t *out_len);
    int (*decrypt)(struct wifiprov_sec_session *s, const uint8_t *in, size_t len, uint8_t *out, size_t out_cap,
                   size_t *out_len);
};

struct wifiprov_sec_session {
    const struct wifiprov_sec_ops *ops;
    enum wifiprov_security security;
    enum wifiprov_sec_role role;
    enum wifiprov_sec_state state;
    wifiprov_random_fn random;
    void *random_ctx;
    void *priv; /* the scheme's state */
};

extern const struct wifiprov_sec_ops wifiprov__sec0_ops;
extern const struct wifiprov_sec_ops wifiprov__sec1_ops;
extern const struct wifiprov_sec_ops wifiprov__sec2_ops;

/* Logs and records a state change. */
void wifiprov__sec_enter_state(struct wifiprov_sec_session *s, enum wifiprov_sec_state st);
/* Serialises @p msg into @p out. @return 0 or WIFIPROV_ERR_NOSPC. */
int wifiprov__sec_pack(const SessionData *msg, uint8_t *out, size_t out_cap, size_t *out_len);
/* Draws @p len bytes from the session's random source. */
int wifiprov__sec_random(struct wifiprov_sec_session *s, uint8_t *buf, size_t len);
/* Copies @p len bytes into a new buffer (NULL for len 0). @return 0 or WIFIPROV_ERR_NOMEM. */
int wifiprov__sec_dup(const uint8_t *in, size_t len, uint8_t **out);

/*
 * Security 1 key derivation, exposed for the known-answer tests:
 * shared = X25519(priv, peer_pub); key = shared XOR SHA-256(pop) when pop_len > 0.
 */
int wifiprov__sec1_derive_key(const uint8_t priv[32], const uint8_t peer_pub[32], const uint8_t *pop, size_t pop_len,
                              uint8_t shared[32], uint8_t key[32]);

/* The device-side handshake steps, kept as named functions so a profiler can count them. */
int wifiprov__sec1_device_cmd0(struct wifiprov_sec_session *s, const SessionData *req, uint8_t *out, size_t out_cap,
                               size_t *out_len, enum wifiprov_sec_outcome *outcome);
int wifiprov__sec1_device_cmd1(struct wifiprov_sec_session *s, const SessionData *req, uint8_t *out, size_t out_cap,
                               size_t *out_len, enum wifiprov_sec_outcome *outcome);
int wifiprov__sec2_device_cmd0(struct wifiprov_sec_session *s, const SessionData *req, uint8_t *out, size_t out_cap,
                               size_t *out_len, enum wifiprov_sec_outcome *outcome);
int wifiprov__sec2_device_cmd1(struct wifiprov_sec_session *s, const SessionData *req, uint8_t *out, size_t out_cap,
                               size_t *out_len, enum wifiprov_sec_outcome *outcome);

/*
 * Security 2, sec_patch_ver 0: length of the constant IV the device draws at Cmd1
 * (16 like ESP-IDF by default; 12 replays vectors made with a 12-byte nonce).
 * @return 0 or WIFIPROV_ERR_INVAL (not a sec2 device session, or a length other than 12 or 16).
 */
int wifiprov__sec2_set_patch0_iv_len(struct wifiprov_sec_session *s, size_t len);

/*
 * Security 2: which shortened encodings the session's last handshake used (client with
 * sec2_test_quirks) or accepted (device), as WIFIPROV_CLIENT_TEST_SEC2_* bits; 0 otherwise.
 */
unsigned wifiprov__sec2_tolerated(const struct wifiprov_sec_session *s);

#endif
