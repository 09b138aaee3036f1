/*
 * Client transports of the wifiprov CLI: a small vtable so HTTP, the console relay
 * and (later) BLE look the same to the session code. xfer has the signature of
 * wifiprov_client_xfer_fn and is handed to the library as is.
 */
#ifndef WIFIPROV_CLI_TRANSPORT_H
#define WIFIPROV_CLI_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cli_transport;
struct cli_opts;

struct cli_transport_ops {
    const char *name;
    /* Scan results asked for per prov-scan ScanResult request (BLE: small replies). */
    unsigned scan_page;
    /* Takes what it needs from @p o (HTTP: host and port) into t->priv.
     * @return 0 or a negative WIFIPROV_ERR_*; t->errmsg says why. */
    int (*open)(struct cli_transport *t, const struct cli_opts *o);
    /* One exchange; @return 0, WIFIPROV_ERR_TRANSPORT, WIFIPROV_ERR_TIMEOUT, WIFIPROV_ERR_NOSPC, ... */
    int (*xfer)(void *ctx, const char *endpoint, const uint8_t *req, size_t req_len, uint8_t *resp,
                size_t resp_cap, size_t *resp_len);
    void (*close)(struct cli_transport *t);
};

struct cli_transport {
    const struct cli_transport_ops *ops;
    void *priv; /* the transport's own state, including its target */
    /* Absolute monotonic deadline in ms (0 = none; extended by cli_prompt_ms) and the connect timeout. */
    int64_t deadline_ms;
    long connect_timeout_ms;
    /* --debug: dump the bytes of every exchange to stderr, except requests that carry
     * plaintext credentials (set while the session is security 0). */
    bool debug;
    bool plaintext_session;
    /* -v: the transport may describe its steps (discovery, connect) on stderr. */
    bool verbose;
    /* Why the last call failed (for the user); empty when it did not. */
    char errmsg[768];
    unsigned exchanges;
};

extern const struct cli_transport_ops cli_transport_http;
extern const struct cli_transport_ops cli_transport_console;
extern const struct cli_transport_ops cli_transport_ble;

/* Dumps one exchange direction for --debug (never called for secret-bearing plaintext). */
void cli_transport_debug_dump(const struct cli_transport *t, const char *endpoint, const char *dir,
                              const uint8_t *data, size_t len);
/* true when a request on @p endpoint may carry a plaintext secret (security 0 prov-config / custom data). */
bool cli_transport_request_is_secret(const struct cli_transport *t, const char *endpoint);

#endif
