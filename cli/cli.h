/*
 * wifiprov, the command-line client: what the command files share.
 * Every command returns a process exit code (enum cli_exit); errors are reported
 * through cli_fail() so text and JSON output stay consistent.
 */
#ifndef WIFIPROV_CLI_H
#define WIFIPROV_CLI_H

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "wifiprov/wifiprov.h"
#include "util.h"

#if defined(__GNUC__)
#define CLI_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define CLI_PRINTF(a, b)
#endif

/* Exit codes: documented in --help, the man page and docs/migrating-from-esp_prov.md. */
enum cli_exit {
    CLI_EXIT_OK = 0,
    CLI_EXIT_ERROR = 1,
    CLI_EXIT_USAGE = 2,
    CLI_EXIT_TRANSPORT = 3,
    CLI_EXIT_AUTH = 4,
    CLI_EXIT_WIFI = 5,
    CLI_EXIT_TIMEOUT = 6,
    CLI_EXIT_DEVICE = 7,
    CLI_EXIT_NOT_CONNECTED = 8, /* status: the device is not connected (yet) */
};

enum cli_command {
    CLI_COMMAND_NONE = 0,
    CLI_COMMAND_PROVISION,
    CLI_COMMAND_SCAN,
    CLI_COMMAND_STATUS,
    CLI_COMMAND_RESET,
    CLI_COMMAND_REPROV,
    CLI_COMMAND_CUSTOM,
    CLI_COMMAND_VERSION,
    CLI_COMMAND_GEN_CRED,
    CLI_COMMAND_QR,
    CLI_COMMAND_DISCOVER,
    CLI_COMMAND_HELP,
};
const char *cli_command_name(enum cli_command c);

enum cli_transport_kind {
    CLI_TRANSPORT_KIND_HTTP = 0,
    CLI_TRANSPORT_KIND_CONSOLE = 1,
    CLI_TRANSPORT_KIND_BLE = 2,
};

/* A secret option: owned copy, wiped and freed by cli_opts_free(). */
struct cli_secret {
    char *value;  /* NULL = not given */
    const char *source; /* "option", "file", "environment", "prompt", "QR code" */
};

struct cli_opts {
    enum cli_command command;
    bool esp_prov_style; /* no subcommand: esp_prov invocation */
    enum cli_transport_kind transport;
    bool transport_given;
    char host[256];
    unsigned port;
    char *ble_name; /* BLE: the device's advertised name (--service-name) */
    char *adapter;  /* BLE: "hciN" (--adapter); NULL = the first one */
    int sec; /* -1 = detect */
    bool sec_from_qr; /* sec came from the --qr payload's "security" */
    struct cli_secret pop;
    struct cli_secret password;
    struct cli_secret passphrase;
    char *username;
    char *ssid;
    bool ssid_given;
    char *custom_data;
    bool custom_data_given;
    char *endpoint;
    char *proto_ver;
    double timeout_s;
    bool timeout_given;
    bool json;
    bool progress;
    int verbose;
    bool debug;
    /* gen-cred */
    size_t salt_len;
    char *out_file;
    bool force; /* --force: gen-cred --out may replace a file */
    /* qr */
    char *qr_payload; /* positional of "qr" */
    char *name;
    char *qr_transport;
    /* esp_prov flags */
    bool flag_reset;
    bool flag_reprov;
    bool flag_gen_cred;
    /* true when stdin is a terminal: prompts and menus are allowed */
    bool interactive;
};

/* Parses argv (and wipes secret option values in it). @return CLI_EXIT_OK, or an exit code after reporting. */
int cli_opts_parse(struct cli_opts *o, int argc, char **argv);
void cli_opts_free(struct cli_opts *o);
/* The message of the last usage error cli_opts_parse() reported (printed on stderr unless --json). */
const char *cli_opts_error(void);
void cli_usage(FILE *f);
/* Fills a missing secret from its file option / environment variable; does not prompt. */
bool cli_secret_set(struct cli_secret *s, const char *value, const char *source);

/* --- secret.c: terminal prompts --- */
/* Milliseconds spent waiting for the user at prompts: not counted against --timeout. */
extern int64_t cli_prompt_ms;
/* Prompts on the terminal; echo off when @p secret. @return a malloc'd string (wipe it) or NULL on EOF/no tty. */
char *cli_prompt(const char *prompt, bool secret);
/* Reads a secret file: first line, without the newline. @return malloc'd string or NULL (errno set). */
char *cli_read_secret_file(const char *path);
void cli_secret_free(struct cli_secret *s);
/* Installs handlers that restore the terminal on SIGINT/SIGTERM. */
void cli_secret_install_signal_handlers(void);
/*
 * While cli_defer_interrupt is set (a BLE link is up), SIGINT/SIGTERM/SIGHUP only set
 * cli_interrupted: the waits in progress end, the link is closed, and main() then dies
 * of the signal as usual. A second signal is not deferred.
 */
extern volatile sig_atomic_t cli_defer_interrupt;
extern volatile sig_atomic_t cli_interrupted;

/* --- output.c --- */
struct cli_ctx {
    struct cli_opts *opts;
    int64_t start_ms;
    int64_t deadline_ms; /* monotonic; 0 = none */
    cJSON *result;       /* the --json result object */
    bool progress_line;  /* a \r progress line is on the terminal */
};
int64_t cli_now_ms(void);
/* Milliseconds left before --timeout, at least 1; INT64_MAX without a deadline. */
int64_t cli_remaining_ms(const struct cli_ctx *ctx);
bool cli_expired(const struct cli_ctx *ctx);
/* Sleeps @p ms, cut short by the --timeout deadline. */
void cli_sleep_ms(const struct cli_ctx *ctx, int64_t ms);

void cli_ctx_init(struct cli_ctx *ctx, struct cli_opts *o);
void cli_ctx_free(struct cli_ctx *ctx);
/* Human output on stdout (suppressed with --json). */
void cli_print(struct cli_ctx *ctx, const char *fmt, ...) CLI_PRINTF(2, 3);
/* Notes on stderr (suppressed with --json unless verbose). */
void cli_note(struct cli_ctx *ctx, const char *fmt, ...) CLI_PRINTF(2, 3);
/* A warning on stderr, also with --json (security warnings must not be lost in scripts). */
void cli_warn(struct cli_ctx *ctx, const char *fmt, ...) CLI_PRINTF(2, 3);
/* Verbose (-v) notes on stderr; esp_prov-style command lines get them on stdout. */
void cli_verbose(struct cli_ctx *ctx, const char *fmt, ...) CLI_PRINTF(2, 3);
/* A transient progress line on a terminal ("\r...\033[K"); cleared by the next print. */
void cli_progress_line(struct cli_ctx *ctx, const char *fmt, ...) CLI_PRINTF(2, 3);
void cli_progress_clear(struct cli_ctx *ctx);
/* --progress: one JSON line on stdout for @p event; takes ownership of @p fields (may be NULL). */
void cli_progress_event(struct cli_ctx *ctx, const char *event, cJSON *fields);
/*
 * Reports a failure: "wifiprov: <message>" on stderr, or the JSON error object
 * {"ok":false,"command":..,"error":kind,"reason":..,"message":..,"exit_code":..}.
 * @return @p exit_code.
 */
int cli_fail(struct cli_ctx *ctx, int exit_code, const char *reason, const char *fmt, ...) CLI_PRINTF(4, 5);
/* Maps a library error to an exit code and reports it with @p what as context. */
int cli_fail_err(struct cli_ctx *ctx, int err, const char *what);
int cli_exit_for_err(int err);
/* Prints the --json result ({"ok":true,"command":..} + fields added to ctx->result). @return 0. */
int cli_succeed(struct cli_ctx *ctx);
/* "aa:bb:cc:dd:ee:ff" */
/* The lower-case state name used in JSON output ("connected", "failed", ...). */
const char *cli_state_key(enum wifiprov_sta_state st);
void cli_format_bssid(const uint8_t *b, char out[18]);
/* The SSID as text for a terminal or JSON (non-printable bytes as \xNN). */
void cli_format_ssid(const uint8_t *ssid, size_t len, char *out, size_t cap);
/* "WPA2_PSK" or "Unknown(13)" */
void cli_format_auth(uint32_t auth, char *out, size_t cap);

/* --- transport.h: see there; session.c --- */
struct cli_transport;
struct cli_session {
    struct cli_transport *tp;
    struct wifiprov_client *client;
    struct wifiprov_version_info ver;
    char ver_raw[1024];
    enum wifiprov_security sec;
};
/*
 * Opens the transport, reads proto-ver, picks the security scheme, asks for missing
 * secrets and (with @p handshake) runs the handshake. @return an exit code.
 */
int cli_session_open(struct cli_ctx *ctx, struct cli_session *s, bool handshake);
void cli_session_close(struct cli_session *s);
/* Reports a failed exchange, with the transport's explanation when it has one. @return an exit code. */
int cli_session_fail(struct cli_ctx *ctx, struct cli_session *s, int err, const char *what);

/* What the device refused with a non-Success status. */
enum cli_refused {
    CLI_REFUSED_APPLY = 0,
    CLI_REFUSED_RESET = 1,
    CLI_REFUSED_REPROV = 2,
};
/* Reports a refusal with what the device is doing (read with GetStatus) and what to do. @return CLI_EXIT_DEVICE. */
int cli_session_refused(struct cli_ctx *ctx, struct cli_session *s, enum cli_refused what, int status);
/* Sends @p data to @p endpoint in the session; reply into a malloc'd buffer. */
int cli_session_request(struct cli_ctx *ctx, struct cli_session *s, const char *endpoint, const uint8_t *data,
                        size_t len, uint8_t **reply, size_t *reply_len);
/* Scans through the session; *aps sorted by RSSI (strongest first). @return an exit code. */
int cli_scan_run(struct cli_ctx *ctx, struct cli_session *s, struct wifiprov_ap **aps, size_t *n);
void cli_scan_print_table(struct cli_ctx *ctx, const struct wifiprov_ap *aps, size_t n);
cJSON *cli_scan_to_json(const struct wifiprov_ap *aps, size_t n);
/* Sends custom data (provision --custom-data and the custom command). @return an exit code. */
int cli_custom_send(struct cli_ctx *ctx, struct cli_session *s, const char *endpoint, const uint8_t *data,
                    size_t len, bool print_reply);

/* --- commands --- */
int cli_cmd_provision(struct cli_ctx *ctx);
int cli_cmd_scan(struct cli_ctx *ctx);
int cli_cmd_status(struct cli_ctx *ctx);
int cli_cmd_reset(struct cli_ctx *ctx);
int cli_cmd_reprov(struct cli_ctx *ctx);
int cli_cmd_custom(struct cli_ctx *ctx);
int cli_cmd_version(struct cli_ctx *ctx);
int cli_cmd_gen_cred(struct cli_ctx *ctx);
int cli_cmd_qr(struct cli_ctx *ctx);
int cli_cmd_discover(struct cli_ctx *ctx);

#endif
