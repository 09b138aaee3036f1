/*
 * Client role: runs the handshake with a device and exchanges provisioning
 * commands over a transport callback (HTTP, BLE, console). No OS headers.
 */
#ifndef WIFIPROV_CLIENT_H
#define WIFIPROV_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wifiprov/common.h"
#include "wifiprov/device.h"
#include "wifiprov/wifi.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * One request/response exchange on an endpoint. Writes the reply into @p resp.
 * @return 0, WIFIPROV_ERR_TRANSPORT (the device dropped the exchange, e.g. closed the
 *         connection), WIFIPROV_ERR_TIMEOUT, WIFIPROV_ERR_NOSPC, or another negative error.
 */
typedef int (*wifiprov_client_xfer_fn)(void *ctx, const char *endpoint, const uint8_t *req, size_t req_len,
                                      uint8_t *resp, size_t resp_cap, size_t *resp_len);

/* What a device's proto-ver reply says. */
#define WIFIPROV_VERSION_MAX_CAPS 16
struct wifiprov_version_info {
    bool is_json;        /* false: a plain-string reply (old firmware); nothing below is known */
    char ver[32];        /* prov.ver, e.g. "v1.1" */
    bool has_sec_ver;    /* false before ESP-IDF v5.0 */
    int sec_ver;         /* prov.sec_ver */
    int sec_patch_ver;   /* prov.sec_patch_ver; 0 when absent */
    size_t n_caps;
    char caps[WIFIPROV_VERSION_MAX_CAPS][32];
};
/* Parses a proto-ver reply. Never fails on non-JSON input (is_json = false). @return 0 or INVAL. */
int wifiprov_version_parse(const uint8_t *reply, size_t len, struct wifiprov_version_info *info);
bool wifiprov_version_has_cap(const struct wifiprov_version_info *info, const char *cap);

struct wifiprov_client_config {
    wifiprov_client_xfer_fn xfer;
    void *xfer_ctx;
    enum wifiprov_security security;
    /* Security 1: proof of possession; NULL or "" = none. */
    const char *pop;
    /* Security 2: SRP username and password. */
    const char *username;
    const char *password;
    /* Security 2: 0 or 1, from the device's proto-ver (0 when absent). */
    int sec_patch_ver;
    /* Random source; NULL = the crypto backend's CSPRNG. */
    wifiprov_random_fn random;
    void *random_ctx;
    /*
     * TEST ONLY, leave 0: security 2 encodings of other clients to reproduce, so a device's
     * tolerance of them can be tested (WIFIPROV_CLIENT_TEST_SEC2_* bits). Each applies only when
     * the value concerned starts with a 0x00 byte (about one handshake in 256). ESP32 devices
     * refuse all three; wifiprovd accepts them.
     */
    unsigned test_sec2_quirks;
};

/* A sent without its leading zero bytes (fewer than 384). */
#define WIFIPROV_CLIENT_TEST_SEC2_SHORT_A 0x1u
/* M1 sent without its leading zero bytes (fewer than 64). */
#define WIFIPROV_CLIENT_TEST_SEC2_SHORT_M1 0x2u
/* When K starts with 0x00: M1 and M2 over K without its leading zero bytes, AES key = the first
 * 32 bytes of that shorter K (what Espressif's Android library does). */
#define WIFIPROV_CLIENT_TEST_SEC2_SHORT_K 0x4u

struct wifiprov_client;

/* @return 0, WIFIPROV_ERR_INVAL (e.g. sec2 without username/password), WIFIPROV_ERR_NOMEM. */
int wifiprov_client_new(const struct wifiprov_client_config *cfg, struct wifiprov_client **out);
/* Wipes keys and secrets. Accepts NULL. */
void wifiprov_client_free(struct wifiprov_client *c);

/* Sends @p probe (>= 1 byte, e.g. "---") to proto-ver and parses the reply. */
int wifiprov_client_get_version(struct wifiprov_client *c, const char *probe, struct wifiprov_version_info *info,
                                char *raw, size_t raw_cap);

/**
 * Runs the security handshake on prov-session.
 * @return 0, WIFIPROV_ERR_AUTH (device proof wrong, or the device dropped Cmd1: wrong PoP,
 *         username or password), WIFIPROV_ERR_TRANSPORT, WIFIPROV_ERR_PROTO (unexpected reply).
 */
int wifiprov_client_handshake(struct wifiprov_client *c);
bool wifiprov_client_established(const struct wifiprov_client *c);

/* Encrypts @p req for the session, exchanges it on @p endpoint and decrypts the reply. */
int wifiprov_client_request(struct wifiprov_client *c, const char *endpoint, const uint8_t *req, size_t req_len,
                            uint8_t *resp, size_t resp_cap, size_t *resp_len);

/*
 * Provisioning commands. When the device answers with a non-Success Status the
 * functions return WIFIPROV_ERR_DEVICE and, if @p status is not NULL, store the wire
 * Status number there (e.g. 4 InvalidArgument, 5 InternalError).
 */
int wifiprov_client_get_status(struct wifiprov_client *c, struct wifiprov_wifi_status *st);
int wifiprov_client_set_config(struct wifiprov_client *c, const struct wifiprov_wifi_creds *creds, int *status);
int wifiprov_client_apply_config(struct wifiprov_client *c, int *status);
int wifiprov_client_scan_start(struct wifiprov_client *c, const struct wifiprov_scan_opts *opts, int *status);
int wifiprov_client_scan_status(struct wifiprov_client *c, bool *finished, uint32_t *count, int *status);
/* Reads up to @p count entries from @p start into @p aps; *n_out = entries returned. */
int wifiprov_client_scan_result(struct wifiprov_client *c, uint32_t start, uint32_t count, struct wifiprov_ap *aps,
                                size_t *n_out, int *status);
int wifiprov_client_ctrl_reset(struct wifiprov_client *c, int *status);
int wifiprov_client_ctrl_reprov(struct wifiprov_client *c, int *status);

#ifdef __cplusplus
}
#endif
#endif
