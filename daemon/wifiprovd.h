/* wifiprovd: the pieces of the daemon and how they talk to each other. */
#ifndef WIFIPROVD_H
#define WIFIPROVD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <systemd/sd-event.h>

#include "wifiprov/device.h"
#include "wifiprov/wifi.h"

/* Exit codes (documented in wifiprovd(8)). */
#define WIFIPROVD_EXIT_OK 0
#define WIFIPROVD_EXIT_FAILURE 1
#define WIFIPROVD_EXIT_USAGE 2

/* The configuration directory: CMake's SYSCONFDIR/wifiprov (/etc/wifiprov for the package). */
#ifndef WIFIPROVD_CONFIG_DIR
#define WIFIPROVD_CONFIG_DIR "/etc/wifiprov"
#endif
#define WIFIPROVD_DEFAULT_CONFIG WIFIPROVD_CONFIG_DIR "/wifiprovd.conf"
#define WIFIPROVD_DEFAULT_STATE_DIR "/var/lib/wifiprov"
/* Where the provisioning page is installed (set by the build). */
#ifndef WIFIPROVD_WEB_UI_DIR
#define WIFIPROVD_WEB_UI_DIR "/usr/share/wifiprov/web"
#endif

/* Transports a device can serve at once (--transport http,ble). */
#define WIFIPROVD_TRANSPORTS_MAX 2

enum wifiprovd_wifi {
    WIFIPROVD_WIFI_AUTO = 0,
    WIFIPROVD_WIFI_SIM = 1,
    WIFIPROVD_WIFI_NM = 2,
    WIFIPROVD_WIFI_WPA = 3,
};
const char *wifiprovd_wifi_to_string(enum wifiprovd_wifi w);

struct wifiprovd_config {
    char *config_file; /* the INI file that was read, or NULL */
    char *transport;   /* "http", "ble" or "http,ble", as given */
    /* The transport names of --transport, each once ("http", "ble"; static strings). */
    const char *transports[WIFIPROVD_TRANSPORTS_MAX];
    size_t n_transports;
    char *listen; /* "ADDR:PORT" */
    int security; /* 0, 1, 2 */
    char *pop;    /* security 1 */
    char *pop_file; /* security 1: the PoP read from this file instead */
    char *sec2_username;
    char *sec2_password; /* development mode */
    char *sec2_verifier_file;
    char *service_name; /* NULL = PROV_ + MAC */
    enum wifiprovd_wifi wifi;
    char *interface;
    char *sim_config;
    unsigned sim_scan_ms;
    char *wpa_ctrl_dir; /* wpa_supplicant backend; NULL = /run/wpa_supplicant */
    char *dhcp_hook;    /* wpa_supplicant backend; NULL = none */
    char *state_dir;
    unsigned auto_stop_s; /* 0 = never */
    unsigned connect_attempts;
    bool reset_on_failure; /* accept new credentials after a failure without prov-ctrl Reset */
    unsigned scan_interval_s; /* background scans while waiting for credentials; 0 = none */
    unsigned scan_cache_s;    /* answer blocking scans from a result this fresh; 0 = never */
    char *custom_data_command;
    unsigned custom_data_timeout_s;
    bool reprovision;
    char *qr_png;
    char *qr_svg;
    bool no_qr;
    char *qr_url;     /* page URL the QR code carries instead of the JSON payload; NULL = JSON */
    bool web_ui;      /* serve the provisioning page on the HTTP transport */
    char *web_ui_dir; /* NULL = WIFIPROVD_WEB_UI_DIR */
    bool qr_stdout;      /* print the QR code also when stdout is not a terminal */
    bool force_insecure; /* allow security 0 with --auto-stop 0 */
    unsigned max_sessions;
    unsigned max_connections;
    unsigned max_connections_per_peer;
    unsigned session_timeout_s;
    unsigned handshake_timeout_s;
    unsigned max_auth_failures; /* 0 = no lock-out */
    unsigned connection_timeout_s;
    char *ble_service_uuid; /* NULL = the ESP-IDF example's 021a9004-... */
    char *ble_mfg_data;     /* hex: 2-byte company id (as on air, LE) + data; NULL = none */
    char *ble_adapter;      /* "hciN"; NULL = the first adapter */
    bool ble_require_encryption;
    bool softap;              /* the device's own access point while provisioning */
    char *softap_ssid;        /* NULL = the service name */
    char *softap_passphrase;  /* NULL = open */
    char *softap_passphrase_file;
    char *softap_interface;   /* NULL = a virtual interface on the Wi-Fi interface's radio */
    unsigned softap_channel;  /* 0 = automatic */
    bool softap_no_apsta;     /* AP down during every connection attempt */
    bool verbose;
};

/*
 * Reads the command line and the configuration file (--config, else the default
 * file when it exists; the command line wins). Prints --help / --version itself.
 * @return 0 to run, 1 to exit 0 (help/version printed), -1 on a usage or config
 *         error (message printed to stderr).
 */
int wifiprovd_config_load(int argc, char **argv, struct wifiprovd_config *cfg);
void wifiprovd_config_free(struct wifiprovd_config *cfg);
/* The INI parser on its own (for the fuzzer): @return 0 or -1. */
int wifiprovd_config_parse_text(struct wifiprovd_config *cfg, const char *text, size_t len, const char *name);
/* Silences the parser's messages on stderr. */
void wifiprovd_config_quiet(bool quiet);

/* Logging of the daemon (stderr, ESP-IDF style "I (ms) tag: text"). */
void wifiprovd_log_init(bool verbose);
void wifiprovd_log(char level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define wd_err(...) wifiprovd_log('E', __VA_ARGS__)
#define wd_warn(...) wifiprovd_log('W', __VA_ARGS__)
#define wd_info(...) wifiprovd_log('I', __VA_ARGS__)
#define wd_dbg(...) wifiprovd_log('D', __VA_ARGS__)

/* systemd (service.c): sd_notify readiness/status, journald priorities on log lines. */
void wifiprovd_service_init(void);
/* "<3>", "<4>", "<6>" or "<7>" for levels E W I D when stderr is the journal, else "". */
const char *wifiprovd_service_log_prefix(char level);
void wifiprovd_service_ready(void);
void wifiprovd_service_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void wifiprovd_service_stopping(void);
struct stat;
/* true when a file holding a secret is readable by others than the daemon (its user and own group). */
bool wifiprovd_file_too_open(const struct stat *sb);

/* The provisioned network, as the store keeps it. */
struct wifiprovd_state {
    char backend[32];
    struct wifiprov_wifi_creds creds; /* passphrase only for the sim backend */
    int64_t timestamp;                /* seconds since the epoch */
};
/* @return 1 provisioned (state filled), 0 not provisioned (missing or corrupt: moved aside), -1 error. */
int wifiprovd_store_load(const char *dir, struct wifiprovd_state *st);
/* Atomically replaces state.json (mode 0600). @return 0 or -1 (logged). */
int wifiprovd_store_save(const char *dir, const struct wifiprovd_state *st);
/* The parser of state.json's text on its own (for the fuzzer). @return 0, or -1 with a reason in *why. */
int wifiprovd_store_parse(const char *text, struct wifiprovd_state *st, const char **why);
/*
 * The security-2 verifier file's text (docs/sec2-verifier-file.md): username (malloc()ed),
 * salt (at most @p salt_cap bytes) and verifier. @p name names it in the error messages.
 * @return 0 or -1 (logged).
 */
int wifiprovd_sec2_file_parse(const char *text, const char *name, char **username, uint8_t *salt, size_t salt_cap,
                              size_t *salt_len, uint8_t *verifier, size_t *verifier_len);
/* Makes sure the directory exists (mode 0700 when created). @return 0 or -1 (logged). */
int wifiprovd_store_prepare(const char *dir);

/* The QR payload of PROTOCOL.md §10 (compact JSON); @p password is the SoftAP passphrase, which
 * Espressif's Android app uses to join the network named by "name". NULL members are left out.
 * Caller frees. */
char *wifiprovd_qr_payload(const char *name, const char *username, const char *pop, const char *transport,
                           const char *password);
/* @p base (the page's URL) with the PoP, or the user name and password, in its fragment. Caller frees. */
char *wifiprovd_qr_url(const char *base, const char *username, const char *pop);
/* Prints the code with half blocks, the payload and the helper URL. @return 0 or -1. */
int wifiprovd_qr_print(FILE *f, const char *payload);
int wifiprovd_qr_write_png(const char *path, const char *payload);
int wifiprovd_qr_write_svg(const char *path, const char *payload);

/* The "custom-data" endpoint (registered on @p dev). @p command NULL = answer "SUCCESS\0". */
struct wifiprovd_custom;
int wifiprovd_custom_new(sd_event *event, struct wifiprov_device *dev, const char *command, unsigned timeout_s,
                         struct wifiprovd_custom **out);
void wifiprovd_custom_free(struct wifiprovd_custom *c);

/* Printable form of SSID bytes for logs (non-printable bytes as \xNN). */
void wifiprovd_escape(const uint8_t *in, size_t len, char *out, size_t cap);

#endif
