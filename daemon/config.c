/*
 * wifiprovd options: the command line (getopt_long) and the same keys in an INI
 * file. The file is read first, then the command line overrides it key by key.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "transport/ble_gatt.h"
#include "transport/http.h"
#include "util.h"
#include "wifiprov/common.h"
#include "wifiprovd.h"

enum opt_type {
    OPT_TYPE_STR = 0,
    OPT_TYPE_UINT = 1,
    OPT_TYPE_BOOL = 2,
    OPT_TYPE_SECURITY = 3,
    OPT_TYPE_WIFI = 4,
};

struct opt {
    const char *name;
    int short_opt;
    enum opt_type type;
    size_t offset;
    unsigned max;
    bool secret; /* warn when it sits in a file others can read */
    const char *arg;
    const char *help;
};

#define OFF(m) offsetof(struct wifiprovd_config, m)

static const struct opt opts[] = {
    {"transport", 't', OPT_TYPE_STR, OFF(transport), 0, false, "LIST",
     "Transports to serve provisioning on, comma-separated: 'http' (SoftAP-style HTTP, PROTOCOL §7.1), "
     "'ble' (Bluetooth LE GATT, §7.2) or 'http,ble' (both at once, sessions from either). Default: http."},
    {"listen", 'l', OPT_TYPE_STR, OFF(listen), 0, false, "ADDR:PORT",
     "HTTP address, IPv4 'A.B.C.D:PORT' or IPv6 '[ADDR]:PORT'; port 0 picks a free port (logged). "
     "Default: 0.0.0.0:80."},
    {"security", 's', OPT_TYPE_SECURITY, OFF(security), 0, false, "0|1|2",
     "Security scheme: 0 plaintext, 1 X25519 + proof of possession + AES-CTR, 2 SRP-6a + AES-GCM. Default: 2."},
    {"pop", 'p', OPT_TYPE_STR, OFF(pop), 0, true, "STRING",
     "Security 1: proof of possession. Without it the device advertises 'no_pop'. Wiped from the command "
     "line at start; --pop-file keeps it out of the command line altogether."},
    {"pop-file", 0, OPT_TYPE_STR, OFF(pop_file), 0, false, "FILE",
     "Security 1: read the proof of possession from the first line of FILE (mode 0600) instead of --pop."},
    {"sec2-username", 0, OPT_TYPE_STR, OFF(sec2_username), 0, false, "NAME",
     "Security 2: SRP username (development mode, with --sec2-password)."},
    {"sec2-password", 0, OPT_TYPE_STR, OFF(sec2_password), 0, true, "PASSWORD",
     "Security 2 development mode: the salt and verifier are derived from this password at start "
     "and the password is put in the QR code. Use --sec2-verifier-file in production."},
    {"sec2-verifier-file", 0, OPT_TYPE_STR, OFF(sec2_verifier_file), 0, false, "FILE",
     "Security 2: JSON file with username, salt and verifier (see docs/sec2-verifier-file.md; "
     "'wifiprov gen-cred' writes it)."},
    {"service-name", 'n', OPT_TYPE_STR, OFF(service_name), 0, false, "NAME",
     "Service name shown in the QR code. Default: PROV_ + the last 3 bytes of the Wi-Fi MAC in hex."},
    {"wifi", 'w', OPT_TYPE_WIFI, OFF(wifi), 0, false, "BACKEND",
     "Wi-Fi backend: auto (NetworkManager, else wpa_supplicant), networkmanager, wpa_supplicant, or sim "
     "(simulated networks, for tests and demos). Default: auto."},
    {"interface", 'i', OPT_TYPE_STR, OFF(interface), 0, false, "IFNAME",
     "Wi-Fi interface. Default: the first one the backend finds."},
    {"sim-config", 0, OPT_TYPE_STR, OFF(sim_config), 0, false, "FILE",
     "sim backend: JSON file describing the simulated networks. Default: a built-in demo set."},
    {"sim-scan-ms", 0, OPT_TYPE_UINT, OFF(sim_scan_ms), 600000, false, "MS",
     "sim backend: how long a scan takes. Default: the backend's (1500 ms)."},
    {"wpa-ctrl-dir", 0, OPT_TYPE_STR, OFF(wpa_ctrl_dir), 0, false, "DIR",
     "wpa_supplicant backend: directory of its control sockets. Default: /run/wpa_supplicant."},
    {"dhcp-hook", 0, OPT_TYPE_STR, OFF(dhcp_hook), 0, false, "CMD",
     "wpa_supplicant backend: command run with the interface name as its argument once associated, to get "
     "an IPv4 address when nothing else on the system runs DHCP (e.g. 'udhcpc -q -n -i'). Default: none."},
    {"state-dir", 'd', OPT_TYPE_STR, OFF(state_dir), 0, false, "DIR",
     "Where state.json (the provisioned network) is kept. Default: " WIFIPROVD_DEFAULT_STATE_DIR "."},
    {"auto-stop", 'a', OPT_TYPE_UINT, OFF(auto_stop_s), 86400, false, "SECONDS",
     "After success, stop provisioning this many seconds after the IP was got (or 1 s after the client "
     "saw 'connected') and exit 0. 0 = never stop, which also allows prov-ctrl Reprov. Default: 30."},
    {"connect-attempts", 0, OPT_TYPE_UINT, OFF(connect_attempts), 1000, false, "N",
     "Connection attempts before reporting failure; 0 = ESP-IDF's legacy behaviour. Default: 5."},
    {"reset-on-failure", 0, OPT_TYPE_BOOL, OFF(reset_on_failure), 0, false, NULL,
     "After a failed attempt, accept new credentials at once (the phone apps send them without a "
     "prov-ctrl Reset); the failure stays readable until they are applied. On by default; "
     "--no-reset-on-failure (or 'reset-on-failure = no') makes ApplyConfig wait for a Reset, as ESP-IDF's "
     "manager does by default."},
    {"scan-interval", 0, OPT_TYPE_UINT, OFF(scan_interval_s), 3600, false, "SECONDS",
     "While waiting for credentials, scan in the background this often (the first scan at start), so a "
     "client's scan is answered at once from the list. 0 = only scan when a client asks. Default: 20."},
    {"scan-cache", 0, OPT_TYPE_UINT, OFF(scan_cache_s), 3600, false, "SECONDS",
     "A scan result younger than this answers a client's blocking scan at once. 0 = always scan anew. "
     "Default: 30."},
    {"custom-data-command", 0, OPT_TYPE_STR, OFF(custom_data_command), 0, false, "CMD",
     "Answer the 'custom-data' endpoint by running CMD with /bin/sh -c, the request on its standard "
     "input; its standard output (at most 4000 bytes) is the reply. Without it the reply is \"SUCCESS\\0\"."},
    {"custom-data-timeout", 0, OPT_TYPE_UINT, OFF(custom_data_timeout_s), 3600, false, "SECONDS",
     "Kill the custom-data command after this long (the exchange then fails). Default: 10."},
    {"reprovision", 'r', OPT_TYPE_BOOL, OFF(reprovision), 0, false, NULL,
     "Start provisioning even if a network is stored."},
    {"qr-png", 0, OPT_TYPE_STR, OFF(qr_png), 0, false, "FILE", "Also write the QR code as a PNG image."},
    {"qr-svg", 0, OPT_TYPE_STR, OFF(qr_svg), 0, false, "FILE", "Also write the QR code as an SVG image."},
    {"no-qr", 0, OPT_TYPE_BOOL, OFF(no_qr), 0, false, NULL, "Do not print the QR code on standard output."},
    {"qr-url", 0, OPT_TYPE_STR, OFF(qr_url), 0, false, "URL",
     "Put the provisioning page's address in the QR code instead of the JSON payload, with the PoP (or the "
     "security-2 user name and password) in its fragment, e.g. 'http://192.168.4.1/': a phone's camera then "
     "opens the page ready to go. Phone apps that expect the JSON payload cannot read such a code."},
    {"web-ui", 0, OPT_TYPE_BOOL, OFF(web_ui), 0, false, NULL,
     "Serve the provisioning page (GET /) on the HTTP transport and lead the captive-portal probes of "
     "phones to it. On by default; --no-web-ui (or 'web-ui = no') serves no page: GET / is 404 and the "
     "probes get their 'success' answers."},
    {"web-ui-dir", 0, OPT_TYPE_STR, OFF(web_ui_dir), 0, false, "DIR",
     "Directory of the page (index.html). Default: " WIFIPROVD_WEB_UI_DIR "."},
    {"qr-stdout", 0, OPT_TYPE_BOOL, OFF(qr_stdout), 0, false, NULL,
     "Print the QR code and its payload (which holds the PoP) even when standard output is not a terminal "
     "(under systemd it goes to the journal). Without it the code is printed to a terminal only."},
    {"force-insecure", 0, OPT_TYPE_BOOL, OFF(force_insecure), 0, false, NULL,
     "Allow security 0 together with --auto-stop 0: an unauthenticated provisioning service that never "
     "stops, so anyone in range can change the Wi-Fi. For tests and demos only."},
    {"max-sessions", 0, OPT_TYPE_UINT, OFF(max_sessions), 1024, false, "N",
     "Client sessions held at once over all transports; when full the least recently used session that "
     "has not completed its handshake is closed, an established one never (the newcomer is refused). "
     "Default: 8."},
    {"handshake-timeout", 0, OPT_TYPE_UINT, OFF(handshake_timeout_s), 3600, false, "SECONDS",
     "Close a session whose security handshake is not complete this long after it began. Default: 30."},
    {"max-auth-failures", 0, OPT_TYPE_UINT, OFF(max_auth_failures), 1000000, false, "N",
     "After N failed handshakes (wrong PoP, username or password) in total, refuse every handshake until "
     "SIGUSR1. 0 = never lock (failures still slow down: after 5 from a peer or on the device, each "
     "further handshake waits 2, 4, 8, ... up to 60 s). Default: 0."},
    {"max-connections", 0, OPT_TYPE_UINT, OFF(max_connections), 1024, false, "N",
     "Concurrent HTTP connections. Default: 16."},
    {"max-connections-per-peer", 0, OPT_TYPE_UINT, OFF(max_connections_per_peer), 1024, false, "N",
     "Concurrent HTTP connections from one client address. Default: 4."},
    {"connection-timeout", 0, OPT_TYPE_UINT, OFF(connection_timeout_s), 86400, false, "SECONDS",
     "Close an HTTP connection idle this long (clients reconnect and keep their session by cookie). "
     "Default: 120."},
    {"session-timeout", 0, OPT_TYPE_UINT, OFF(session_timeout_s), 86400, false, "SECONDS",
     "Close a session unused for this long. Default: 300."},
    {"ble-service-uuid", 0, OPT_TYPE_STR, OFF(ble_service_uuid), 0, false, "UUID",
     "BLE: 128-bit UUID of the provisioning service; each endpoint's characteristic UUID is derived from it "
     "(PROTOCOL §7.2). Default: " WIFIPROV_BLE_DEFAULT_SERVICE_UUID " (ESP-IDF's example, esp_prov's fallback)."},
    {"ble-mfg-data", 0, OPT_TYPE_STR, OFF(ble_mfg_data), 0, false, "HEX",
     "BLE: manufacturer-specific data for the advertisement, as on air: 2-byte company id (little-endian, e.g. "
     "e502 for 0x02E5) then up to 6 bytes. Default: none."},
    {"ble-adapter", 0, OPT_TYPE_STR, OFF(ble_adapter), 0, false, "hciN",
     "BLE: Bluetooth adapter to serve on; it is powered on if it is off. Default: the first one "
     "(`bluetoothctl list`)."},
    {"ble-require-encryption", 0, OPT_TYPE_BOOL, OFF(ble_require_encryption), 0, false, NULL,
     "BLE: characteristic values can only be read and written over an encrypted (paired) link; the "
     "endpoint-name descriptors stay readable, and a pairing agent lets phones pair (Just Works; the pairings "
     "are removed when the phone disconnects). Default: off, as in ESP-IDF."},
    {"softap", 0, OPT_TYPE_BOOL, OFF(softap), 0, false, NULL,
     "Bring up the device's own access point while provisioning (SoftAP mode, as an ESP32): SSID = the "
     "service name, address 192.168.4.1/24, DHCP from 192.168.4.2, every DNS name answered with 192.168.4.1, "
     "and HTTP on 192.168.4.1:80 only (unless --listen is given). hostapd + dnsmasq, or NetworkManager with "
     "the networkmanager backend. Everything is removed when provisioning ends. See wifiprovd(8)."},
    {"softap-ssid", 0, OPT_TYPE_STR, OFF(softap_ssid), 0, false, "SSID",
     "SoftAP: the network name (1..32 bytes). Default: the service name (PROV_XXXXXX)."},
    {"softap-passphrase", 0, OPT_TYPE_STR, OFF(softap_passphrase), 0, true, "PASSPHRASE",
     "SoftAP: WPA2-PSK passphrase, 8..63 printable ASCII characters; it is put in the QR code as "
     "\"password\". Without it (and without --softap-passphrase-file) the access point is open."},
    {"softap-passphrase-file", 0, OPT_TYPE_STR, OFF(softap_passphrase_file), 0, false, "FILE",
     "SoftAP: read the passphrase from the first line of FILE (keep it mode 0600)."},
    {"softap-interface", 0, OPT_TYPE_STR, OFF(softap_interface), 0, false, "IFNAME",
     "SoftAP: interface for the access point. Default: a virtual interface (" "wpap0" ") made on the Wi-Fi "
     "interface's radio. Naming the Wi-Fi interface itself puts the AP on it (no AP+STA)."},
    {"softap-channel", 0, OPT_TYPE_UINT, OFF(softap_channel), 196, false, "N",
     "SoftAP: channel. 0 = automatic: the station's current channel, else 1. Default: 0."},
    {"softap-no-apsta", 0, OPT_TYPE_BOOL, OFF(softap_no_apsta), 0, false, NULL,
     "SoftAP: take the access point down during every connection attempt (and bring it back after a "
     "failure), even where the radio could keep it up beside the station."},
    {"verbose", 'v', OPT_TYPE_BOOL, OFF(verbose), 0, false, NULL, "Debug logging."},
};

#define N_OPTS (sizeof(opts) / sizeof(opts[0]))
#define OPT_CONFIG 1000
#define OPT_VERSION 1001
#define OPT_BASE 2000
#define OPT_NEG_BASE 3000
#define OPT_NO_CONFIG 1002

const char *wifiprovd_wifi_to_string(enum wifiprovd_wifi w)
{
    switch (w) {
    case WIFIPROVD_WIFI_AUTO:
        return "auto";
    case WIFIPROVD_WIFI_SIM:
        return "sim";
    case WIFIPROVD_WIFI_NM:
        return "networkmanager";
    case WIFIPROVD_WIFI_WPA:
        return "wpa_supplicant";
    }
    return "?";
}

static bool bool_default_on(const struct opt *o);

/* Prints @p text indented by 6 columns, wrapped at spaces to lines of at most 79. */
static void print_wrapped(FILE *f, const char *text)
{
    const size_t width = 79 - 6;

    while (*text) {
        size_t n = strlen(text), cut = n;
        if (n > width) {
            cut = width;
            while (cut > 0 && text[cut] != ' ')
                cut--;
            if (cut == 0) /* one word longer than the line */
                cut = strcspn(text, " ");
        }
        fprintf(f, "      %.*s\n", (int)cut, text);
        text += cut;
        while (*text == ' ')
            text++;
    }
}

static void usage(FILE *f, const char *prog)
{
    fprintf(f,
            "Usage: %s [OPTION]...\n"
            "Wi-Fi provisioning daemon: serves ESP-IDF's unified provisioning protocol\n"
            "(protocomm security 0/1/2) so a phone app or 'wifiprov' can give this device\n"
            "Wi-Fi credentials.\n\n"
            "Options (each also works as 'key = value' in the configuration file, without\n"
            "the dashes):\n",
            prog);
    fprintf(f, "  -c, --config FILE\n      Read options from FILE (INI). Default, when it exists:\n      %s\n"
               "      An option on the command line wins over the file's, and over the file's\n"
               "      related ones: --security N drops the file's settings of the other\n"
               "      schemes, --sec2-password/--sec2-username drop its sec2-verifier-file\n"
               "      and the reverse, --pop drops its pop-file and the reverse.\n"
               "      --no-config\n      Read no configuration file (the same as -c /dev/null).\n",
            WIFIPROVD_DEFAULT_CONFIG);
    for (size_t i = 0; i < N_OPTS; i++) {
        char head[80];
        if (opts[i].short_opt)
            snprintf(head, sizeof(head), "  -%c, --%s%s%s", opts[i].short_opt, opts[i].name, opts[i].arg ? " " : "",
                     opts[i].arg ? opts[i].arg : "");
        else
            snprintf(head, sizeof(head), "      --%s%s%s", opts[i].name, opts[i].arg ? " " : "",
                     opts[i].arg ? opts[i].arg : "");
        if (opts[i].type == OPT_TYPE_BOOL && bool_default_on(&opts[i]))
            snprintf(head, sizeof(head), "      --[no-]%s", opts[i].name);
        fprintf(f, "%s\n", head);
        print_wrapped(f, opts[i].help);
    }
    fprintf(f, "      --version\n      Print the version and exit.\n"
               "  -h, --help\n      Print this help and exit.\n\n"
               "Signals: SIGTERM/SIGINT stop cleanly; SIGUSR1 starts provisioning again;\n"
               "SIGHUP is logged and ignored (the configuration is read at start only).\n"
               "Exit status: 0 stopped (provisioning finished or signal), 1 runtime failure,\n"
               "2 usage or configuration error. See wifiprovd(8) and wifiprovd.conf(5).\n");
}

static bool quiet;
/* Where each option's value came from, for messages: the command line, a line of the file, or the default. */
static bool from_cmdline[N_OPTS];
static unsigned from_line[N_OPTS];
static const char *from_file;

static size_t opt_index(const char *name)
{
    for (size_t i = 0; i < N_OPTS; i++) {
        if (!strcmp(opts[i].name, name))
            return i;
    }
    return N_OPTS;
}

/* "the command line", "FILE:LINE" or "the default" for option @p name. */
static const char *origin(const char *name, char *buf, size_t cap)
{
    size_t i = opt_index(name);

    if (i == N_OPTS || (!from_cmdline[i] && !from_line[i]))
        return "the default";
    if (from_cmdline[i])
        return "the command line";
    snprintf(buf, cap, "%s:%u", from_file ? from_file : "?", from_line[i]);
    return buf;
}

void wifiprovd_config_quiet(bool q)
{
    quiet = q;
}

static void cfg_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void cfg_err(const char *fmt, ...)
{
    va_list ap;

    if (quiet)
        return;
    va_start(ap, fmt);
    fputs("wifiprovd: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static bool parse_bool(const char *v, bool *out)
{
    if (!strcasecmp(v, "1") || !strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcasecmp(v, "on")) {
        *out = true;
        return true;
    }
    if (!strcasecmp(v, "0") || !strcasecmp(v, "no") || !strcasecmp(v, "false") || !strcasecmp(v, "off")) {
        *out = false;
        return true;
    }
    return false;
}

/* Stores @p val (NULL for a flag given on the command line) into cfg. @return 0 or -1 (printed). */
static int set_opt(struct wifiprovd_config *cfg, const struct opt *o, const char *val, const char *where)
{
    char *base = (char *)cfg + o->offset;

    switch (o->type) {
    case OPT_TYPE_STR: {
        char **slot = (char **)(void *)base;
        char *dup = strdup(val);
        if (!dup)
            return -1;
        /* A secret given twice (file, then command line): the replaced copy is wiped too. */
        if (o->secret && *slot)
            wifiprov_memzero(*slot, strlen(*slot));
        free(*slot);
        *slot = dup;
        return 0;
    }
    case OPT_TYPE_UINT: {
        char *end = NULL;
        unsigned long v;
        errno = 0;
        v = strtoul(val, &end, 10);
        if (!*val || *end || errno || val[0] == '-' || v > o->max) {
            cfg_err("%s: --%s wants a number from 0 to %u, not '%s'", where, o->name, o->max,
                    val);
            return -1;
        }
        *(unsigned *)(void *)base = (unsigned)v;
        return 0;
    }
    case OPT_TYPE_BOOL: {
        bool b = true;
        if (val && !parse_bool(val, &b)) {
            cfg_err("%s: '%s' wants true or false, not '%s'", where, o->name, val);
            return -1;
        }
        *(bool *)(void *)base = b;
        return 0;
    }
    case OPT_TYPE_SECURITY:
        if (strcmp(val, "0") && strcmp(val, "1") && strcmp(val, "2")) {
            cfg_err("%s: --security wants 0, 1 or 2, not '%s'", where, val);
            return -1;
        }
        *(int *)(void *)base = val[0] - '0';
        return 0;
    case OPT_TYPE_WIFI: {
        enum wifiprovd_wifi w;
        if (!strcmp(val, "auto"))
            w = WIFIPROVD_WIFI_AUTO;
        else if (!strcmp(val, "sim"))
            w = WIFIPROVD_WIFI_SIM;
        else if (!strcmp(val, "networkmanager") || !strcmp(val, "nm"))
            w = WIFIPROVD_WIFI_NM;
        else if (!strcmp(val, "wpa_supplicant") || !strcmp(val, "wpa"))
            w = WIFIPROVD_WIFI_WPA;
        else {
            cfg_err("%s: --wifi wants auto, sim, networkmanager or wpa_supplicant, not '%s'",
                    where, val);
            return -1;
        }
        *(enum wifiprovd_wifi *)(void *)base = w;
        return 0;
    }
    }
    return -1;
}

static char *trim(char *s)
{
    char *e;

    while (*s == ' ' || *s == '\t')
        s++;
    e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
        *--e = '\0';
    return s;
}

#define CONFIG_FILE_MAX 65536
#define LINE_MAX_LEN 1023

/*
 * Parses INI text of @p len bytes; keys set on the command line (@p given, may be NULL)
 * are skipped. *has_secret tells whether a secret key has a value. @return 0 or -1.
 */
static int parse_lines(struct wifiprovd_config *cfg, const char *text, size_t len, const char *name, const bool *given,
                       bool *has_secret, char line[LINE_MAX_LEN + 1])
{
    unsigned lineno = 0;
    size_t pos = 0;

    *has_secret = false;
    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
        char *s, *eq, *key, *val, where[300];
        size_t i;

        lineno++;
        snprintf(where, sizeof(where), "%s:%u", name, lineno);
        if (n > LINE_MAX_LEN) {
            cfg_err("%s: line too long", where);
            return -1;
        }
        if (memchr(text + pos, '\0', n)) {
            cfg_err("%s: NUL byte", where);
            return -1;
        }
        memcpy(line, text + pos, n);
        line[n] = '\0';
        pos += n + (nl ? 1 : 0);
        s = trim(line);
        if (!*s || *s == '#' || *s == ';')
            continue;
        if (*s == '[') {
            /* Sections are accepted for readability; every key belongs to wifiprovd. */
            if (s[strlen(s) - 1] != ']') {
                cfg_err("%s: bad section header", where);
                return -1;
            }
            continue;
        }
        eq = strchr(s, '=');
        if (!eq) {
            cfg_err("%s: expected 'key = value'", where);
            return -1;
        }
        *eq = '\0';
        key = trim(s);
        val = trim(eq + 1);
        if (val[0] == '"' && strlen(val) >= 2 && val[strlen(val) - 1] == '"') {
            val[strlen(val) - 1] = '\0';
            val++;
        }
        for (i = 0; i < N_OPTS; i++) {
            if (!strcmp(opts[i].name, key))
                break;
        }
        if (i == N_OPTS) {
            cfg_err("%s: unknown key '%s'", where, key);
            return -1;
        }
        if (opts[i].secret && *val)
            *has_secret = true;
        if (given && given[i]) {
            if (!from_cmdline[i] && *val)
                cfg_err("note: %s: '%s' not used: the command line sets it or a related option", where, key);
            continue;
        }
        if (set_opt(cfg, &opts[i], val, where) < 0)
            return -1;
        from_line[i] = lineno;
    }
    return 0;
}

static int parse_text(struct wifiprovd_config *cfg, const char *text, size_t len, const char *name, const bool *given,
                      bool *has_secret)
{
    char line[LINE_MAX_LEN + 1];
    int r = parse_lines(cfg, text, len, name, given, has_secret, line);

    /* The line buffer held "pop = ..." or "sec2-password = ...". */
    wifiprov_memzero(line, sizeof(line));
    return r;
}

int wifiprovd_config_parse_text(struct wifiprovd_config *cfg, const char *text, size_t len, const char *name)
{
    bool has_secret;

    return parse_text(cfg, text, len, name, NULL, &has_secret);
}

/* Reads the INI file; keys set on the command line (@p given) are skipped. */
static int read_file(struct wifiprovd_config *cfg, const char *path, const bool *given)
{
    FILE *f = fopen(path, "r");
    char *buf = NULL;
    bool has_secret = false;
    struct stat sb;
    size_t n;
    int ret = -1;

    if (!f) {
        cfg_err("cannot read configuration file %s: %s", path, strerror(errno));
        return -1;
    }
    buf = malloc(CONFIG_FILE_MAX + 1);
    if (!buf)
        goto out;
    n = fread(buf, 1, CONFIG_FILE_MAX + 1, f);
    if (ferror(f)) {
        cfg_err("error reading %s", path);
        goto out;
    }
    if (n > CONFIG_FILE_MAX) {
        cfg_err("%s is larger than %d bytes", path, CONFIG_FILE_MAX);
        goto out;
    }
    ret = parse_text(cfg, buf, n, path, given, &has_secret);
    if (ret == 0 && has_secret && fstat(fileno(f), &sb) == 0 && wifiprovd_file_too_open(&sb))
        cfg_err("warning: %s holds a secret (pop, sec2-password or softap-passphrase) but is readable by others; chmod 600 it "
                "(or 640 with the daemon's group)",
                path);
    wifiprov_memzero(buf, n);
out:
    free(buf);
    fclose(f);
    return ret;
}

/* The --ble-* options. @return 0 or -1 (printed). */
static int check_ble(const struct wifiprovd_config *cfg)
{
    uint8_t uuid[WIFIPROV_BLE_UUID_LEN], mfg[WIFIPROV_BLE_MFG_MAX];
    size_t mfg_len = 0;
    int ret = 0;

    if (cfg->ble_service_uuid && wifiprov__ble_uuid_parse(cfg->ble_service_uuid, uuid) != 0) {
        fprintf(stderr, "wifiprovd: --ble-service-uuid wants a 128-bit UUID like %s, not '%s'\n",
                WIFIPROV_BLE_DEFAULT_SERVICE_UUID, cfg->ble_service_uuid);
        ret = -1;
    }
    if (cfg->ble_mfg_data &&
        (wifiprov__hex_decode(cfg->ble_mfg_data, mfg, sizeof(mfg), &mfg_len) != 0 || mfg_len < 2)) {
        fprintf(stderr,
                "wifiprovd: --ble-mfg-data wants 2 to %d bytes in hex (a 2-byte company id, then data): more does "
                "not fit in the advertisement beside the service UUID\n",
                WIFIPROV_BLE_MFG_MAX);
        ret = -1;
    }
    if (cfg->ble_adapter) {
        const char *a = cfg->ble_adapter;
        bool ok = strncmp(a, "hci", 3) == 0 && a[3] && strlen(a) <= 8;
        for (const char *q = a + 3; ok && *q; q++)
            ok = *q >= '0' && *q <= '9';
        if (!ok) {
            fprintf(stderr, "wifiprovd: --ble-adapter wants an adapter name like hci0, not '%s'\n", a);
            ret = -1;
        }
    }
    return ret;
}

/* Splits --transport into cfg->transports: known names, each once, order as given. @return 0 or -1. */
static int parse_transports(struct wifiprovd_config *cfg)
{
    static const char *const known[] = {"http", "ble"};
    const char *p = cfg->transport;

    cfg->n_transports = 0;
    for (;;) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        const char *name = NULL;

        while (n > 0 && (*p == ' ' || *p == '\t')) {
            p++;
            n--;
        }
        while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
        for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
            if (strlen(known[i]) == n && strncmp(known[i], p, n) == 0)
                name = known[i];
        }
        if (!name) {
            fprintf(stderr, "wifiprovd: unknown transport '%.*s' in --transport '%s' (valid: http, ble, http,ble)\n",
                    (int)n, p, cfg->transport);
            return -1;
        }
        for (size_t i = 0; i < cfg->n_transports; i++) {
            if (cfg->transports[i] == name) {
                fprintf(stderr, "wifiprovd: transport '%s' is given twice in --transport '%s'\n", name, cfg->transport);
                return -1;
            }
        }
        cfg->transports[cfg->n_transports++] = name;
        if (!end)
            return 0;
        p = end + 1;
    }
}

#define SECRET_FILE_MAX 256

/*
 * --pop-file, --softap-passphrase-file: the secret is the file's first line, without its line end.
 * The file must be a regular one; a warning says when others can read it. The secret is 1 to
 * SECRET_FILE_MAX bytes; the buffer that held it is wiped. @return 0 or -1 (printed).
 */
static int read_secret_file(const char *path, const char *option, const char *what, char **out)
{
    char buf[SECRET_FILE_MAX + 2];
    FILE *f = fopen(path, "r");
    struct stat sb;
    size_t n = 0;
    int ret = -1;

    if (!f) {
        cfg_err("cannot read --%s %s: %s", option, path, strerror(errno));
        return -1;
    }
    if (fstat(fileno(f), &sb) < 0 || !S_ISREG(sb.st_mode)) {
        cfg_err("--%s: %s is not a regular file", option, path);
        goto out;
    }
    if (wifiprovd_file_too_open(&sb))
        cfg_err("warning: the %s file %s is readable by others; chmod 600 it (or 640 with the daemon's group)", what,
                path);
    n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    buf[strcspn(buf, "\r\n")] = '\0';
    if (!buf[0]) {
        cfg_err("--%s: %s is empty (want the %s on its first line)", option, path, what);
        goto out;
    }
    if (strlen(buf) > SECRET_FILE_MAX) {
        cfg_err("--%s: the first line of %s must hold the %s (1..%d bytes)", option, path, what, SECRET_FILE_MAX);
        goto out;
    }
    *out = strdup(buf);
    ret = *out ? 0 : -1;
out:
    wifiprov_memzero(buf, sizeof(buf));
    fclose(f);
    return ret;
}

static int check_softap(struct wifiprovd_config *cfg)
{
    if (!cfg->softap) {
        if (cfg->softap_ssid || cfg->softap_passphrase || cfg->softap_passphrase_file || cfg->softap_interface ||
            cfg->softap_channel || cfg->softap_no_apsta) {
            fprintf(stderr, "wifiprovd: --softap-* options need --softap (softap = yes)\n");
            return -1;
        }
        return 0;
    }
    if (cfg->softap_passphrase && cfg->softap_passphrase_file) {
        fprintf(stderr, "wifiprovd: give either --softap-passphrase or --softap-passphrase-file, not both\n");
        return -1;
    }
    if (cfg->softap_passphrase_file && read_secret_file(cfg->softap_passphrase_file, "softap-passphrase-file",
                                                        "SoftAP passphrase", &cfg->softap_passphrase) < 0)
        return -1;
    if (cfg->softap_passphrase) {
        size_t n = strlen(cfg->softap_passphrase);
        bool printable = true;
        for (size_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)cfg->softap_passphrase[i];
            if (c < 32 || c > 126)
                printable = false;
        }
        if (n < 8 || n > 63 || !printable) {
            fprintf(stderr, "wifiprovd: the SoftAP passphrase must be 8..63 printable ASCII characters (WPA2-PSK); "
                            "leave it out for an open access point\n");
            return -1;
        }
    }
    if (cfg->softap_ssid && (strlen(cfg->softap_ssid) == 0 || strlen(cfg->softap_ssid) > 32)) {
        fprintf(stderr, "wifiprovd: --softap-ssid must be 1..32 bytes\n");
        return -1;
    }
    if (cfg->softap_interface && (!*cfg->softap_interface || strlen(cfg->softap_interface) > 15 ||
                                  strchr(cfg->softap_interface, '/'))) {
        fprintf(stderr, "wifiprovd: --softap-interface wants an interface name of 1..15 characters\n");
        return -1;
    }
    if (cfg->softap_channel > 14 && cfg->softap_channel < 32) {
        fprintf(stderr, "wifiprovd: --softap-channel %u is not a Wi-Fi channel (1..14, or 32..196 for 5 GHz)\n",
                cfg->softap_channel);
        return -1;
    }
    return 0;
}

static void set_defaults(struct wifiprovd_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->reset_on_failure = true;
    cfg->security = 2;
    cfg->wifi = WIFIPROVD_WIFI_AUTO;
    cfg->auto_stop_s = 30;
    cfg->connect_attempts = 5;
    cfg->scan_interval_s = 20;
    cfg->scan_cache_s = 30;
    cfg->custom_data_timeout_s = 10;
    cfg->max_sessions = 8;
    cfg->max_connections = 16;
    cfg->max_connections_per_peer = 4;
    cfg->handshake_timeout_s = 30;
    cfg->session_timeout_s = 300;
    cfg->connection_timeout_s = 120;
    cfg->web_ui = true;
}

static int fill_string_defaults(struct wifiprovd_config *cfg)
{
    if (!cfg->transport && !(cfg->transport = strdup("http")))
        return -1;
    /* In SoftAP mode HTTP is served on the access point only, where the phone apps look for it. */
    if (!cfg->listen && !(cfg->listen = strdup(cfg->softap ? "192.168.4.1:80" : "0.0.0.0:80")))
        return -1;
    if (!cfg->state_dir && !(cfg->state_dir = strdup(WIFIPROVD_DEFAULT_STATE_DIR)))
        return -1;
    return 0;
}

/* true for a boolean option whose default is on: it gets a --no-NAME form. */
static bool bool_default_on(const struct opt *o)
{
    struct wifiprovd_config d;

    set_defaults(&d);
    return *(const bool *)(const void *)((const char *)&d + o->offset);
}

static void skip_opt(bool *skip, const char *name)
{
    size_t i = opt_index(name);

    if (i < N_OPTS)
        skip[i] = true;
}

/*
 * Marks the file keys the command line overrides besides its own: security options of the
 * other schemes when it sets --security, and the other kind of security-2 credentials when it
 * gives one kind (so the README's command lines work beside the sample configuration).
 */
static void skip_related(const struct wifiprovd_config *cfg, bool *skip)
{
    bool sec = skip[opt_index("security")];
    bool dev = skip[opt_index("sec2-password")] || skip[opt_index("sec2-username")];
    bool file = skip[opt_index("sec2-verifier-file")];

    bool pop = skip[opt_index("pop")], pop_file = skip[opt_index("pop-file")];

    if (sec && cfg->security != 1) {
        skip_opt(skip, "pop");
        skip_opt(skip, "pop-file");
    }
    /* The PoP comes from one place: the command line's --pop or --pop-file wins over both in the file. */
    if (pop)
        skip_opt(skip, "pop-file");
    if (pop_file)
        skip_opt(skip, "pop");
    if (sec && cfg->security != 2) {
        skip_opt(skip, "sec2-username");
        skip_opt(skip, "sec2-password");
        skip_opt(skip, "sec2-verifier-file");
    }
    if (dev)
        skip_opt(skip, "sec2-verifier-file");
    if (file) {
        skip_opt(skip, "sec2-username");
        skip_opt(skip, "sec2-password");
    }
}

int wifiprovd_config_load(int argc, char **argv, struct wifiprovd_config *cfg)
{
    /* Each option, --no-NAME for the boolean ones that are on by default, and three more. */
    struct option lopts[2 * N_OPTS + 5];
    char neg_names[N_OPTS][64];
    size_t nl = N_OPTS;
    char shorts[3 * N_OPTS + 8];
    bool given[N_OPTS], no_config = false;
    const char *config = NULL;
    char o1[320], o2[320];
    size_t ns = 0;
    int c, ret = 0;

    set_defaults(cfg);
    memset(given, 0, sizeof(given));
    memset(from_cmdline, 0, sizeof(from_cmdline));
    memset(from_line, 0, sizeof(from_line));
    from_file = NULL;
    memset(lopts, 0, sizeof(lopts));
    shorts[ns++] = 'h';
    shorts[ns++] = 'c';
    shorts[ns++] = ':';
    for (size_t i = 0; i < N_OPTS; i++) {
        lopts[i].name = opts[i].name;
        lopts[i].has_arg = opts[i].type == OPT_TYPE_BOOL ? no_argument : required_argument;
        lopts[i].val = (int)(OPT_BASE + i);
        if (opts[i].short_opt) {
            shorts[ns++] = (char)opts[i].short_opt;
            if (opts[i].type != OPT_TYPE_BOOL)
                shorts[ns++] = ':';
        }
    }
    shorts[ns] = '\0';
    for (size_t i = 0; i < N_OPTS; i++) {
        if (opts[i].type != OPT_TYPE_BOOL || !bool_default_on(&opts[i]))
            continue;
        snprintf(neg_names[i], sizeof(neg_names[i]), "no-%s", opts[i].name);
        lopts[nl++] = (struct option){neg_names[i], no_argument, NULL, (int)(OPT_NEG_BASE + i)};
    }
    lopts[nl++] = (struct option){"config", required_argument, NULL, 'c'};
    lopts[nl++] = (struct option){"no-config", no_argument, NULL, OPT_NO_CONFIG};
    lopts[nl++] = (struct option){"version", no_argument, NULL, OPT_VERSION};
    lopts[nl++] = (struct option){"help", no_argument, NULL, 'h'};

    opterr = 1;
    optind = 1;
    while ((c = getopt_long(argc, argv, shorts, lopts, NULL)) != -1) {
        size_t i = N_OPTS;
        if (c == 'h') {
            usage(stdout, argv[0]);
            return 1;
        }
        if (c == OPT_VERSION) {
            printf("wifiprovd %s\n", WIFIPROV_VERSION_STRING);
            return 1;
        }
        if (c == 'c') {
            config = optarg;
            continue;
        }
        if (c == OPT_NO_CONFIG) {
            no_config = true;
            continue;
        }
        if (c >= OPT_NEG_BASE && c < (int)(OPT_NEG_BASE + N_OPTS)) {
            i = (size_t)(c - OPT_NEG_BASE);
            if (set_opt(cfg, &opts[i], "no", "command line") < 0)
                return -1;
            given[i] = true;
            continue;
        }
        if (c >= OPT_BASE && c < (int)(OPT_BASE + N_OPTS)) {
            i = (size_t)(c - OPT_BASE);
        } else {
            for (size_t k = 0; k < N_OPTS; k++) {
                if (opts[k].short_opt == c)
                    i = k;
            }
        }
        if (i == N_OPTS) {
            fprintf(stderr, "Try '%s --help'.\n", argv[0]);
            return -1;
        }
        if (opts[i].secret && opts[i].type == OPT_TYPE_STR) {
            /* Copied and wiped from argv, so ps and /proc/PID/cmdline do not show it. */
            char **slot = (char **)(void *)((char *)cfg + opts[i].offset);

            if (*slot)
                wifiprov_memzero(*slot, strlen(*slot));
            free(*slot);
            *slot = wifiprov__argv_secret(optarg);
            if (!*slot)
                return -1;
        } else if (set_opt(cfg, &opts[i], opts[i].type == OPT_TYPE_BOOL ? NULL : optarg, "command line") < 0) {
            return -1;
        }
        given[i] = true;
    }
    if (optind < argc) {
        fprintf(stderr, "wifiprovd: unexpected argument '%s'. Try '%s --help'.\n", argv[optind], argv[0]);
        return -1;
    }
    if (no_config && config) {
        fprintf(stderr, "wifiprovd: give either --config FILE or --no-config, not both\n");
        return -1;
    }
    memcpy(from_cmdline, given, sizeof(given));
    if (!config && !no_config && access(WIFIPROVD_DEFAULT_CONFIG, F_OK) == 0)
        config = WIFIPROVD_DEFAULT_CONFIG;
    if (config) {
        skip_related(cfg, given);
        from_file = config;
        if (read_file(cfg, config, given) < 0)
            return -1;
        cfg->config_file = strdup(config);
    }
    if (fill_string_defaults(cfg) < 0) {
        fprintf(stderr, "wifiprovd: out of memory\n");
        return -1;
    }
    if (cfg->pop_file) {
        if (cfg->pop) {
            fprintf(stderr, "wifiprovd: give either --pop or --pop-file, not both\n");
            return -1;
        }
        if (read_secret_file(cfg->pop_file, "pop-file", "PoP", &cfg->pop) < 0)
            return -1;
    }

    /* Consistency checks that need no I/O. */
    if (parse_transports(cfg) < 0)
        ret = -1;
    if (check_ble(cfg) < 0)
        ret = -1;
    {
        struct sockaddr_storage ss;
        size_t sl = 0;
        if (wifiprov_httpd_parse_address(cfg->listen, &ss, &sl) != 0) {
            fprintf(stderr, "wifiprovd: bad --listen address '%s' (want A.B.C.D:PORT or [IPV6]:PORT)\n",
                    cfg->listen);
            ret = -1;
        }
    }
    if (cfg->security == 2) {
        bool dev = cfg->sec2_password != NULL;
        if (dev && cfg->sec2_verifier_file) {
            fprintf(stderr,
                    "wifiprovd: give either --sec2-verifier-file or --sec2-password, not both "
                    "(sec2-verifier-file from %s, sec2-password from %s)\n",
                    origin("sec2-verifier-file", o1, sizeof(o1)), origin("sec2-password", o2, sizeof(o2)));
            ret = -1;
        } else if (!dev && !cfg->sec2_verifier_file) {
            fprintf(stderr,
                    "wifiprovd: security 2 (from %s) needs --sec2-verifier-file FILE (production) or "
                    "--sec2-username and --sec2-password (development)\n",
                    origin("security", o1, sizeof(o1)));
            ret = -1;
        } else if (dev && (!cfg->sec2_username || !*cfg->sec2_username)) {
            fprintf(stderr, "wifiprovd: --sec2-password needs --sec2-username (sec2-password from %s)\n",
                    origin("sec2-password", o1, sizeof(o1)));
            ret = -1;
        }
    } else if (cfg->sec2_password || cfg->sec2_verifier_file) {
        fprintf(stderr, "wifiprovd: --sec2-* options need --security 2 (security %d from %s, %s from %s)\n",
                cfg->security, origin("security", o1, sizeof(o1)),
                cfg->sec2_password ? "sec2-password" : "sec2-verifier-file",
                origin(cfg->sec2_password ? "sec2-password" : "sec2-verifier-file", o2, sizeof(o2)));
        ret = -1;
    }
    if (cfg->security == 1 && cfg->pop && !cfg->pop[0]) {
        fprintf(stderr, "wifiprovd: the proof of possession (pop) is empty: give one, or leave the option out for "
                        "a device without a PoP (advertised as 'no_pop', which clients can see)\n");
        ret = -1;
    }
    if (cfg->security != 1 && cfg->pop) {
        fprintf(stderr,
                "wifiprovd: --pop%s is for security 1, but security is %d (from %s; pop from %s); security 2 "
                "uses --sec2-*\n",
                cfg->pop_file ? "-file" : "", cfg->security, origin("security", o1, sizeof(o1)),
                origin(cfg->pop_file ? "pop-file" : "pop", o2, sizeof(o2)));
        ret = -1;
    }
    if (cfg->security == 0 && cfg->auto_stop_s == 0 && !cfg->force_insecure) {
        fprintf(stderr, "wifiprovd: security 0 with --auto-stop 0 would leave an unauthenticated provisioning "
                        "service running for good (anyone in range could change the Wi-Fi); use security 1 or 2, "
                        "or give --force-insecure if that is really wanted\n");
        ret = -1;
    }
    if (cfg->max_sessions == 0 || cfg->max_connections == 0 || cfg->session_timeout_s == 0 ||
        cfg->connection_timeout_s == 0 || cfg->max_connections_per_peer == 0 || cfg->handshake_timeout_s == 0) {
        fprintf(stderr, "wifiprovd: --max-sessions, --max-connections, --max-connections-per-peer, "
                        "--connection-timeout, --session-timeout and --handshake-timeout must be at least 1\n");
        ret = -1;
    }
    if (cfg->qr_url && ((strncmp(cfg->qr_url, "http://", 7) != 0 && strncmp(cfg->qr_url, "https://", 8) != 0) ||
                        strchr(cfg->qr_url, '#') || strchr(cfg->qr_url, ' '))) {
        fprintf(stderr, "wifiprovd: --qr-url wants the page's address, e.g. http://192.168.4.1/ (no '#' or spaces)\n");
        ret = -1;
    }
    if (check_softap(cfg) < 0)
        ret = -1;
    if (cfg->service_name && (strlen(cfg->service_name) == 0 || strlen(cfg->service_name) > 32)) {
        fprintf(stderr, "wifiprovd: --service-name must be 1..32 characters\n");
        ret = -1;
    }
    return ret;
}

void wifiprovd_config_free(struct wifiprovd_config *cfg)
{
    if (cfg->pop)
        wifiprov_memzero(cfg->pop, strlen(cfg->pop));
    if (cfg->sec2_password)
        wifiprov_memzero(cfg->sec2_password, strlen(cfg->sec2_password));
    if (cfg->softap_passphrase)
        wifiprov_memzero(cfg->softap_passphrase, strlen(cfg->softap_passphrase));
    for (size_t i = 0; i < N_OPTS; i++) {
        if (opts[i].type == OPT_TYPE_STR) {
            char **slot = (char **)(void *)((char *)cfg + opts[i].offset);
            free(*slot);
            *slot = NULL;
        }
    }
    free(cfg->config_file);
    cfg->config_file = NULL;
}
