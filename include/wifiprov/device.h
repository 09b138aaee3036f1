/*
 * Device role: endpoint table, sessions and dispatch. A transport (HTTP, BLE,
 * console) owns the connections; it gives each session a 32-bit id and calls
 * wifiprov_device_handle() with (session id, endpoint name, request bytes).
 * No OS headers; single-threaded (the caller serialises calls on one device).
 */
#ifndef WIFIPROV_DEVICE_H
#define WIFIPROV_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wifiprov/common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define WIFIPROV_EP_VERSION "proto-ver"
#define WIFIPROV_EP_SESSION "prov-session"
#define WIFIPROV_EP_CONFIG "prov-config"
#define WIFIPROV_EP_SCAN "prov-scan"
#define WIFIPROV_EP_CTRL "prov-ctrl"
#define WIFIPROV_EP_NAME_MAX 32 /* longest endpoint name, without NUL */

enum wifiprov_security {
    WIFIPROV_SECURITY_0 = 0,
    WIFIPROV_SECURITY_1 = 1,
    WIFIPROV_SECURITY_2 = 2,
};

/* Security events, as ESP-IDF numbers them, plus session bookkeeping. */
enum wifiprov_device_event {
    WIFIPROV_DEVICE_EVENT_SETUP_OK = 0,
    WIFIPROV_DEVICE_EVENT_INVALID_PARAMS = 1,
    WIFIPROV_DEVICE_EVENT_CREDENTIALS_MISMATCH = 2,
    WIFIPROV_DEVICE_EVENT_SESSION_OPENED = 3,
    WIFIPROV_DEVICE_EVENT_SESSION_CLOSED = 4,
};
const char *wifiprov_device_event_to_string(enum wifiprov_device_event ev);

struct wifiprov_device_config {
    enum wifiprov_security security;
    /* Security 1: proof of possession. NULL or "" = none, advertised as "no_pop" (ESP-IDF does not
     * advertise an empty one). */
    const char *pop;
    /* Security 2: salt and verifier (big-endian), copied. */
    const uint8_t *sec2_salt;
    size_t sec2_salt_len;
    const uint8_t *sec2_verifier;
    size_t sec2_verifier_len;
    /* Security 2: use the old constant-IV framing (sec_patch_ver 0) instead of the current one (1). */
    bool sec2_patch0;
    /* Most sessions held at once; 0 = 8. Opening one more fails with TOO_MANY_SESSIONS. */
    unsigned max_sessions;
    /* "prov.ver" of the version reply; NULL = "v1.1". */
    const char *prov_ver;
    /* Version reply as compact JSON instead of ESP-IDF's tab-indented form. */
    bool version_compact;
    /* Random source; NULL = the crypto backend's CSPRNG (tests inject fixed bytes). */
    wifiprov_random_fn random;
    void *random_ctx;
    /* Called when a session's pending reply may be ready: the transport then calls wifiprov_device_resume(). */
    void (*wake_fn)(void *ctx, uint32_t session_id);
    void *wake_ctx;
    /* Security and session events. */
    void (*event_fn)(void *ctx, enum wifiprov_device_event ev, uint32_t session_id);
    void *event_ctx;
};

struct wifiprov_device;

/**
 * Creates a device with the endpoints "proto-ver" and "prov-session" registered.
 * @return 0, WIFIPROV_ERR_INVAL (bad security settings, e.g. sec2 without verifier),
 *         WIFIPROV_ERR_NOMEM.
 */
int wifiprov_device_new(const struct wifiprov_device_config *cfg, struct wifiprov_device **out);
/* Frees the device and wipes all session keys and secrets. Accepts NULL. */
void wifiprov_device_free(struct wifiprov_device *dev);

/* A request as an endpoint handler sees it (already decrypted). */
struct wifiprov_request {
    uint32_t session_id;
    const uint8_t *data;
    size_t len;
    /* true when this is a wifiprov_device_resume() of a request that returned PENDING; data is then the
     * original request. */
    bool resumed;
};

/**
 * An endpoint handler: writes the plaintext reply to @p out (capacity @p out_cap).
 * @return 0, WIFIPROV_ERR_PENDING (reply later: call wifiprov_device_wake() when it may be ready),
 *         or any other negative error, which the transport reports as a failed exchange.
 */
typedef int (*wifiprov_endpoint_fn)(void *ctx, const struct wifiprov_request *req, uint8_t *out,
                                    size_t out_cap, size_t *out_len);

/**
 * Registers an application endpoint (encrypted by the session). Names are ASCII, 1..32 bytes.
 * @return 0, WIFIPROV_ERR_INVAL (bad or duplicate name), WIFIPROV_ERR_NOMEM.
 */
int wifiprov_device_add_endpoint(struct wifiprov_device *dev, const char *name, wifiprov_endpoint_fn fn,
                                 void *ctx);
/* @return 0 or WIFIPROV_ERR_NOT_FOUND. The built-in endpoints cannot be removed (INVAL). */
int wifiprov_device_remove_endpoint(struct wifiprov_device *dev, const char *name);
/* Endpoint names in registration order (for BLE characteristics). */
size_t wifiprov_device_endpoint_count(const struct wifiprov_device *dev);
const char *wifiprov_device_endpoint_name(const struct wifiprov_device *dev, size_t i);

/* Adds a string to "prov.cap" of the version reply (e.g. "wifi_scan"). no_sec/no_pop are automatic. */
int wifiprov_device_add_capability(struct wifiprov_device *dev, const char *cap);
/* Adds an application label { "ver": ver, "cap": [caps] } before "prov" in the version reply. */
int wifiprov_device_set_app_info(struct wifiprov_device *dev, const char *label, const char *ver,
                                 const char *const *caps, size_t n_caps);
/* The current version reply (NUL-terminated JSON). */
const char *wifiprov_device_version_json(const struct wifiprov_device *dev);

/**
 * Opens a session for a transport connection. If the id is in use, its session is
 * restarted (keys wiped). @return 0, WIFIPROV_ERR_TOO_MANY_SESSIONS, WIFIPROV_ERR_NOMEM.
 */
int wifiprov_device_session_open(struct wifiprov_device *dev, uint32_t session_id);
/* Closes a session and wipes its keys; unknown ids are ignored. */
void wifiprov_device_session_close(struct wifiprov_device *dev, uint32_t session_id);
bool wifiprov_device_session_exists(const struct wifiprov_device *dev, uint32_t session_id);
/* true once the session's handshake completed. */
bool wifiprov_device_session_established(const struct wifiprov_device *dev, uint32_t session_id);
size_t wifiprov_device_session_count(const struct wifiprov_device *dev);

/**
 * The transport entry point. "proto-ver" works without a session; every other endpoint
 * needs an open session, and encrypted endpoints an established one.
 * Input longer than WIFIPROV_MAX_MSG is refused before it is parsed.
 * @return 0 with the reply in @p out, or
 *   WIFIPROV_ERR_PENDING   the endpoint answers later (wake_fn, then wifiprov_device_resume()),
 *   WIFIPROV_ERR_NOT_FOUND unknown endpoint,
 *   WIFIPROV_ERR_NO_SESSION unknown session id,
 *   WIFIPROV_ERR_STATE     handshake not complete / message out of order / another request pending,
 *   WIFIPROV_ERR_PROTO     malformed message, WIFIPROV_ERR_AUTH wrong PoP/password,
 *   WIFIPROV_ERR_CRYPTO    decryption failed (tag), WIFIPROV_ERR_TOO_BIG, WIFIPROV_ERR_NOSPC,
 *   or the handler's error.
 * On any error no reply is sent and, as in ESP-IDF, the transport drops the exchange
 * (HTTP closes the connection); other sessions are untouched.
 */
int wifiprov_device_handle(struct wifiprov_device *dev, uint32_t session_id, const char *endpoint,
                           const uint8_t *req, size_t req_len, uint8_t *out, size_t out_cap, size_t *out_len);
/* Completes a PENDING request of @p session_id; may return PENDING again. */
int wifiprov_device_resume(struct wifiprov_device *dev, uint32_t session_id, uint8_t *out, size_t out_cap,
                           size_t *out_len);
/* Drops a PENDING request (e.g. the connection went away) without closing the session.
 * With security 1 and 2 the request was already decrypted, so the session's cipher has
 * moved past it; a transport should normally close such a session too. */
void wifiprov_device_cancel_pending(struct wifiprov_device *dev, uint32_t session_id);
/* Called by endpoint owners when pending replies may be ready: calls wake_fn for every pending session. */
void wifiprov_device_wake(struct wifiprov_device *dev);

/*
 * Security 2 credentials (SRP-6a, RFC 5054 3072-bit group, SHA-512), for gen-cred
 * and development mode. The salt is random and never starts with 0x00 (esp_prov
 * would shorten it); the verifier is written as exactly 384 bytes, big-endian.
 * @p salt has room for @p salt_len (1..64) bytes, @p verifier for 384.
 * @return 0, WIFIPROV_ERR_INVAL, WIFIPROV_ERR_BAD_CRED when esp_prov computes a
 *   different verifier for this username/password (see wifiprov_sec2_esp_prov_incompatible()),
 *   WIFIPROV_ERR_NOMEM, WIFIPROV_ERR_CRYPTO.
 */
#define WIFIPROV_SEC2_VERIFIER_LEN 384
int wifiprov_sec2_gen_salt_verifier(const char *username, const char *password, size_t salt_len,
                                    wifiprov_random_fn random, void *random_ctx, uint8_t *salt, uint8_t *verifier);
/* true when esp_prov derives x differently for this pair: SHA-512(username ":" password)
 * starts with a 0x00 byte, which esp_prov drops (about 1 pair in 256). */
bool wifiprov_sec2_esp_prov_incompatible(const char *username, const char *password);

#ifdef __cplusplus
}
#endif
#endif
