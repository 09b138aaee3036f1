/*
 * Security schemes 0, 1, 2 behind one interface, for both roles.
 * The core keeps one struct wifiprov_sec_session per transport session.
 * No OS headers.
 */
#ifndef WIFIPROV_SEC_H
#define WIFIPROV_SEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wifiprov/common.h"
#include "wifiprov/device.h"

enum wifiprov_sec_role {
    WIFIPROV_SEC_ROLE_DEVICE = 0,
    WIFIPROV_SEC_ROLE_CLIENT = 1,
};

struct wifiprov_sec2_precomp;

/* Everything a scheme needs; borrowed for wifiprov__sec_session_new() only (what is kept is copied). */
struct wifiprov_sec_params {
    enum wifiprov_security security;
    enum wifiprov_sec_role role;
    /* sec1: PoP bytes (both roles); pop_len 0 = no PoP */
    const uint8_t *pop;
    size_t pop_len;
    /* sec2 device: salt and verifier */
    const uint8_t *salt;
    size_t salt_len;
    const uint8_t *verifier;
    size_t verifier_len;
    /* sec2 client: username and password */
    const uint8_t *username;
    size_t username_len;
    const uint8_t *password;
    size_t password_len;
    /* sec2: 0 = constant 16-byte IV, 1 = 12-byte nonce with counter */
    int sec_patch_ver;
    /*
     * sec2 device, optional: the device's precomputation for this verifier, kept by
     * reference (the one exception to "copied"): it must outlive the session. NULL
     * computes every handshake without it.
     */
    const struct wifiprov_sec2_precomp *sec2_precomp;
    /* sec2 client, tests only: WIFIPROV_CLIENT_TEST_SEC2_* encodings to reproduce; 0 normally. */
    unsigned sec2_test_quirks;
    wifiprov_random_fn random; /* never NULL here: the caller resolves the default */
    void *random_ctx;
};

/* What a handshake step found, for security events. */
enum wifiprov_sec_outcome {
    WIFIPROV_SEC_OUTCOME_NONE = 0,
    WIFIPROV_SEC_OUTCOME_ESTABLISHED = 1,     /* SETUP_OK */
    WIFIPROV_SEC_OUTCOME_INVALID_PARAMS = 2,  /* bad lengths in a handshake message */
    WIFIPROV_SEC_OUTCOME_MISMATCH = 3,        /* wrong PoP / username / password */
};

struct wifiprov_sec_session;

/* @return 0, WIFIPROV_ERR_INVAL, WIFIPROV_ERR_NOMEM. */
int wifiprov__sec_session_new(const struct wifiprov_sec_params *params, struct wifiprov_sec_session **out);
/* Wipes keys. Accepts NULL. */
void wifiprov__sec_session_free(struct wifiprov_sec_session *s);
/* Back to the state before Cmd0 (keys wiped), keeping the configuration. */
void wifiprov__sec_session_reset(struct wifiprov_sec_session *s);

/*
 * Device role: one prov-session message in, one reply out. A Cmd0 at any time
 * restarts the handshake. On error nothing is written and the session is left
 * before Cmd0 (a failed handshake must start again).
 * @return 0, WIFIPROV_ERR_PROTO (unparsable, wrong sec_ver or payload case),
 *   WIFIPROV_ERR_STATE (Cmd1 before Cmd0), WIFIPROV_ERR_INVAL (bad key/proof lengths),
 *   WIFIPROV_ERR_AUTH (verify/proof mismatch), WIFIPROV_ERR_CRYPTO, WIFIPROV_ERR_NOSPC, WIFIPROV_ERR_NOMEM.
 * @p outcome (may be NULL) tells what to report as a security event.
 */
int wifiprov__sec_device_handshake(struct wifiprov_sec_session *s, const uint8_t *in, size_t in_len, uint8_t *out,
                                   size_t out_cap, size_t *out_len, enum wifiprov_sec_outcome *outcome);

/*
 * Client role: wifiprov__sec_client_start() writes Cmd0; then each reply goes to
 * wifiprov__sec_client_step(), which writes the next command (*out_len > 0) or
 * finishes (*out_len == 0 and wifiprov__sec_established() true).
 * @return as above; WIFIPROV_ERR_AUTH when the device's proof/verify data is wrong.
 */
int wifiprov__sec_client_start(struct wifiprov_sec_session *s, uint8_t *out, size_t out_cap, size_t *out_len);
int wifiprov__sec_client_step(struct wifiprov_sec_session *s, const uint8_t *in, size_t in_len, uint8_t *out,
                              size_t out_cap, size_t *out_len);

bool wifiprov__sec_established(const struct wifiprov_sec_session *s);
/* Whether the scheme encrypts application messages (false for sec0). */
bool wifiprov__sec_has_cipher(const struct wifiprov_sec_session *s);
/* Bytes encryption adds (16 for sec2's tag, 0 otherwise). */
size_t wifiprov__sec_overhead(const struct wifiprov_sec_session *s);

/*
 * Application messages, in strict order (sec1 shares one CTR stream across both
 * directions; sec2 shares one nonce counter). Both need an established session
 * (WIFIPROV_ERR_STATE otherwise); sec0 copies. Decrypt failures: WIFIPROV_ERR_CRYPTO
 * (tag mismatch; the counter does not advance), WIFIPROV_ERR_PROTO (shorter than a tag).
 * in and out may not overlap.
 */
int wifiprov__sec_encrypt(struct wifiprov_sec_session *s, const uint8_t *in, size_t len, uint8_t *out,
                          size_t out_cap, size_t *out_len);
int wifiprov__sec_decrypt(struct wifiprov_sec_session *s, const uint8_t *in, size_t len, uint8_t *out,
                          size_t out_cap, size_t *out_len);

#define WIFIPROV_SRP_N_LEN 384

/*
 * Security 2 device: fixed-base tables for g and the verifier, made once per device
 * and shared read-only by all its sessions (through wifiprov_sec_params.sec2_precomp),
 * so no locking is needed. With OpenSSL about 320 KB and some 60 M instructions
 * (bench/README.md); with Mbed TLS no table (a few hundred bytes, no work).
 * @return 0, WIFIPROV_ERR_INVAL (verifier not a number in [1, N)), WIFIPROV_ERR_NOMEM,
 *   WIFIPROV_ERR_CRYPTO.
 */
int wifiprov__sec2_precomp_new(const uint8_t *verifier, size_t verifier_len, struct wifiprov_sec2_precomp **out);
void wifiprov__sec2_precomp_free(struct wifiprov_sec2_precomp *pre); /* accepts NULL, wipes */
/* Bytes it takes. */
size_t wifiprov__sec2_precomp_size(const struct wifiprov_sec2_precomp *pre);

#endif
