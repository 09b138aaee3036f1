/*
 * Device core internals shared by device.c and version.c. No OS headers.
 */
#ifndef WIFIPROV_CORE_PRIV_H
#define WIFIPROV_CORE_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wifiprov/device.h"

struct wifiprov_sec_session;
struct wifiprov_sec2_precomp;

enum wifiprov_ep_kind {
    WIFIPROV_EP_KIND_VERSION = 0, /* proto-ver: plain version JSON, no session needed */
    WIFIPROV_EP_KIND_SESSION = 1, /* prov-session: the handshake */
    WIFIPROV_EP_KIND_APP = 2,     /* everything else: encrypted by the session */
};

struct wifiprov_endpoint {
    char name[WIFIPROV_EP_NAME_MAX + 1];
    enum wifiprov_ep_kind kind;
    wifiprov_endpoint_fn fn;
    void *ctx;
};

struct wifiprov_dev_session {
    bool used;
    uint32_t id;
    uint64_t serial; /* new at every open, also when an id is reopened */
    struct wifiprov_sec_session *sec;
    /*
     * A request whose handler answered PENDING: one buffer holding the decrypted
     * request (pend_req_len bytes at offset 0) and room for the plaintext reply
     * (pend_reply_cap bytes at offset pend_off). Wiped when dropped.
     */
    uint8_t *pend_buf;
    size_t pend_req_len;
    size_t pend_off;
    size_t pend_reply_cap;
    char pend_ep[WIFIPROV_EP_NAME_MAX + 1];
};

struct wifiprov_app_info {
    char *label;
    char *ver;
    char **caps;
    size_t n_caps;
};

struct wifiprov_device {
    enum wifiprov_security security;
    /* sec1 */
    uint8_t *pop;
    size_t pop_len;
    bool no_pop; /* cfg.pop was NULL */
    /* sec2 */
    uint8_t *salt;
    size_t salt_len;
    uint8_t *verifier;
    size_t verifier_len;
    bool sec2_patch0;
    struct wifiprov_sec2_precomp *sec2_precomp; /* shared by the sessions; may be NULL */

    char *prov_ver;
    bool version_compact;
    wifiprov_random_fn random;
    void *random_ctx;
    void (*wake_fn)(void *ctx, uint32_t session_id);
    void *wake_ctx;
    void (*event_fn)(void *ctx, enum wifiprov_device_event ev, uint32_t session_id);
    void *event_ctx;

    struct wifiprov_endpoint *eps;
    size_t n_eps;
    size_t cap_eps;

    char **caps;
    size_t n_caps;
    struct wifiprov_app_info *apps;
    size_t n_apps;
    char *version_json; /* allocated by cJSON (cJSON_free) */

    struct wifiprov_dev_session *sessions;
    size_t max_sessions;
    uint64_t next_serial;
};

/* Rebuilds dev->version_json from the current settings. On failure the old one stays.
 * @return 0 or WIFIPROV_ERR_NOMEM. */
int wifiprov__version_rebuild(struct wifiprov_device *dev);

/* For endpoint owners that keep per-session state (the provisioning manager's staged credentials). */
size_t wifiprov__device_max_sessions(const struct wifiprov_device *dev);
/* A number that identifies this opening of the session (never reused), or 0 when @p session_id is not open. */
uint64_t wifiprov__device_session_serial(const struct wifiprov_device *dev, uint32_t session_id);

#endif
