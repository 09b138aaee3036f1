/*
 * Integration-test helpers: run the real wifiprovd on loopback and talk to it with
 * the library's client over libcurl (keep-alive connection, cookie replayed by hand),
 * or with raw sockets for malformed requests.
 */
#ifndef WIFIPROV_ITEST_H
#define WIFIPROV_ITEST_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "wifiprov/wifiprov.h"

/* Everything is bounded by these (ASan builds are slower). */
#define ITEST_START_TIMEOUT_MS 20000
#define ITEST_STOP_TIMEOUT_MS 10000
#define ITEST_STATUS_TIMEOUT_MS 15000

struct itest_daemon {
    pid_t pid;
    char dir[PATH_MAX - 64]; /* temporary directory: state, logs, networks */
    char state[PATH_MAX]; /* state directory (dir/state) */
    char log[PATH_MAX];   /* stderr of the daemon */
    char out[PATH_MAX];   /* stdout (QR code) */
    char url[96];         /* http://127.0.0.1:PORT */
    unsigned port;
    int exit_status; /* after itest_daemon_wait(): exit code, or 128+signal */
};

/* Creates the temp dir, writes networks.json (see itest.c) and an INI config. */
void itest_daemon_init(struct itest_daemon *d);
/* Starts wifiprovd with the common options plus @p args (NULL-terminated) and waits for
 * "Provisioning started" (or @p ready_line when not NULL). Fails the test on timeout. */
void itest_daemon_start(struct itest_daemon *d, const char *const *args, const char *ready_line);
/* Waits for the daemon to exit by itself; returns false on timeout. */
bool itest_daemon_wait(struct itest_daemon *d, int timeout_ms);
/* SIGTERM, then wait; fails the test when it does not exit 0 in time. */
void itest_daemon_stop(struct itest_daemon *d);
/* Always safe (teardown): kills a daemon still running and removes the temp dir. */
void itest_daemon_cleanup(struct itest_daemon *d);
/* true when the daemon log contains @p needle. */
bool itest_log_contains(const struct itest_daemon *d, const char *needle);
/* How many times the daemon log contains @p needle. */
unsigned itest_log_count(const struct itest_daemon *d, const char *needle);
/* Waits until the log contains @p needle. */
bool itest_log_wait(const struct itest_daemon *d, const char *needle, int timeout_ms);

/* A client on one libcurl easy handle (one keep-alive connection). */
struct itest_client {
    void *curl;
    struct itest_daemon *d;
    char cookie[64]; /* "session=N" from the last Set-Cookie, or "" */
    bool no_cookie;  /* never send the cookie (rely on the connection) */
    long last_http_status;
    int xfers;
    /* Called after each successful exchange (for interleaving two clients). */
    void (*after_xfer)(struct itest_client *c, const char *endpoint, void *ctx);
    void *after_ctx;
    struct wifiprov_client *wc;
};

void itest_client_open(struct itest_client *c, struct itest_daemon *d);
/* Creates the library client: security and credentials as for wifiprov_client_config. */
void itest_client_session(struct itest_client *c, enum wifiprov_security sec, const char *pop, const char *user,
                          const char *password);
void itest_client_close(struct itest_client *c);
/* The transport callback (also usable on its own). */
int itest_xfer(void *ctx, const char *endpoint, const uint8_t *req, size_t req_len, uint8_t *resp, size_t resp_cap,
               size_t *resp_len);

/* SetConfig with status 0. */
void itest_set_config(struct itest_client *c, const char *ssid, const char *passphrase);
/* SetConfig + ApplyConfig, both with status 0. */
void itest_provision(struct itest_client *c, const char *ssid, const char *passphrase);
/* Polls GetStatus until it leaves CONNECTING (bounded). */
void itest_wait_status(struct itest_client *c, struct wifiprov_wifi_status *st);

/* Raw HTTP over a fresh TCP connection: sends @p req (len bytes), then reads until the
 * server closes or @p timeout_ms. Returns the bytes read (0 = closed without a response). */
size_t itest_raw(const struct itest_daemon *d, const void *req, size_t len, bool shutdown_write, char *resp,
                 size_t cap, int timeout_ms);

/* A TCP connection to the daemon from the local address @p src (e.g. "127.0.0.2": another peer). -1 on failure. */
int itest_connect_from(const char *src, unsigned port);
/* Reads one HTTP response (headers and Content-Length body) from @p fd into @p buf (NUL-terminated).
 * @return its length; 0 when the connection closed first or nothing came within @p timeout_ms. */
size_t itest_read_response(int fd, char *buf, size_t cap, int timeout_ms);

/* The secrets of the test devices' security 1 and 2. */
#define SEC1_POP "abcd1234"
#define SEC2_USER "wifiprov"
#define SEC2_PASS "abcd1234"

/* The cmocka fixture of the integration tests: a daemon (its directory made, not started) and two
 * clients (opened by the case); the teardown kills what still runs and removes the directory. */
struct itest_fixture {
    struct itest_daemon d;
    struct itest_client a, b;
};

int itest_setup(void **state);
int itest_teardown(void **state);

uint64_t itest_now_ms(void);

#endif
