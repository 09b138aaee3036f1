/*
 * Command-line parsing: wifiprov's own options plus esp_prov's names as aliases, so an
 * esp_prov command line (no subcommand, --transport softap --service_name ... --sec_ver ...)
 * works unchanged. Secret values given as options are copied and wiped from argv.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli.h"
#include "util.h"

enum {
    OPT_TRANSPORT = 256,
    OPT_ADDRESS,
    OPT_SEC,
    OPT_POP,
    OPT_POP_FILE,
    OPT_USERNAME,
    OPT_PASSWORD,
    OPT_PASSWORD_FILE,
    OPT_SSID,
    OPT_PASSPHRASE,
    OPT_PASSPHRASE_FILE,
    OPT_CUSTOM_DATA,
    OPT_ENDPOINT,
    OPT_TIMEOUT,
    OPT_JSON,
    OPT_PROGRESS,
    OPT_DEBUG,
    OPT_QR,
    OPT_PROTO_VER,
    OPT_GEN_CRED,
    OPT_SALT_LEN,
    OPT_RESET,
    OPT_REPROV,
    OPT_OUT,
    OPT_FORCE,
    OPT_NAME,
    OPT_VERSION,
    OPT_ADAPTER,
    OPT_SERVICE_NAME,
};


/* The last usage error, for --json (one JSON object on stdout for every outcome). */
static char usage_msg[512];
static bool usage_json;

static void opt_err(const char *fmt, ...) CLI_PRINTF(1, 2);
static void opt_err(const char *fmt, ...)
{
    va_list ap;
    char *nl;

    va_start(ap, fmt);
    vsnprintf(usage_msg, sizeof(usage_msg), fmt, ap);
    va_end(ap);
    if (!usage_json)
        fprintf(stderr, "wifiprov: %s", usage_msg);
    nl = strchr(usage_msg, '\n');
    if (nl)
        *nl = '\0';
}

const char *cli_opts_error(void)
{
    return usage_msg[0] ? usage_msg : "bad command line";
}

static const struct option long_opts[] = {
    { "transport", required_argument, NULL, OPT_TRANSPORT },
    { "address", required_argument, NULL, OPT_ADDRESS },
    { "service_name", required_argument, NULL, OPT_SERVICE_NAME },
    { "service-name", required_argument, NULL, OPT_SERVICE_NAME },
    { "sec", required_argument, NULL, OPT_SEC },
    { "sec_ver", required_argument, NULL, OPT_SEC },
    { "pop", required_argument, NULL, OPT_POP },
    { "pop-file", required_argument, NULL, OPT_POP_FILE },
    { "username", required_argument, NULL, OPT_USERNAME },
    { "sec2_username", required_argument, NULL, OPT_USERNAME },
    { "password", required_argument, NULL, OPT_PASSWORD },
    { "sec2_pwd", required_argument, NULL, OPT_PASSWORD },
    { "password-file", required_argument, NULL, OPT_PASSWORD_FILE },
    { "ssid", required_argument, NULL, OPT_SSID },
    { "passphrase", required_argument, NULL, OPT_PASSPHRASE },
    { "passphrase-file", required_argument, NULL, OPT_PASSPHRASE_FILE },
    { "custom-data", required_argument, NULL, OPT_CUSTOM_DATA },
    { "custom_data", required_argument, NULL, OPT_CUSTOM_DATA },
    { "endpoint", required_argument, NULL, OPT_ENDPOINT },
    { "timeout", required_argument, NULL, OPT_TIMEOUT },
    { "json", no_argument, NULL, OPT_JSON },
    { "progress", no_argument, NULL, OPT_PROGRESS },
    { "verbose", no_argument, NULL, 'v' },
    { "debug", no_argument, NULL, OPT_DEBUG },
    { "qr", required_argument, NULL, OPT_QR },
    { "proto_ver", required_argument, NULL, OPT_PROTO_VER },
    { "proto-ver", required_argument, NULL, OPT_PROTO_VER },
    { "sec2_gen_cred", no_argument, NULL, OPT_GEN_CRED },
    { "sec2_salt_len", required_argument, NULL, OPT_SALT_LEN },
    { "salt-len", required_argument, NULL, OPT_SALT_LEN },
    { "reset", no_argument, NULL, OPT_RESET },
    { "reprov", no_argument, NULL, OPT_REPROV },
    { "out", required_argument, NULL, OPT_OUT },
    { "force", no_argument, NULL, OPT_FORCE },
    { "name", required_argument, NULL, OPT_NAME },
    { "adapter", required_argument, NULL, OPT_ADAPTER },
    { "ble_adapter", required_argument, NULL, OPT_ADAPTER },
    { "help", no_argument, NULL, 'h' },
    { "version", no_argument, NULL, OPT_VERSION },
    { NULL, 0, NULL, 0 },
};

static const struct {
    const char *name;
    enum cli_command cmd;
} commands[] = {
    { "provision", CLI_COMMAND_PROVISION }, { "scan", CLI_COMMAND_SCAN },       { "status", CLI_COMMAND_STATUS },
    { "reset", CLI_COMMAND_RESET },         { "reprov", CLI_COMMAND_REPROV },   { "custom", CLI_COMMAND_CUSTOM },
    { "version", CLI_COMMAND_VERSION },     { "gen-cred", CLI_COMMAND_GEN_CRED }, { "qr", CLI_COMMAND_QR },
    { "discover", CLI_COMMAND_DISCOVER },   { "help", CLI_COMMAND_HELP },
};

const char *cli_command_name(enum cli_command c)
{
    switch (c) {
    case CLI_COMMAND_NONE:
        return "none";
    case CLI_COMMAND_PROVISION:
        return "provision";
    case CLI_COMMAND_SCAN:
        return "scan";
    case CLI_COMMAND_STATUS:
        return "status";
    case CLI_COMMAND_RESET:
        return "reset";
    case CLI_COMMAND_REPROV:
        return "reprov";
    case CLI_COMMAND_CUSTOM:
        return "custom";
    case CLI_COMMAND_VERSION:
        return "version";
    case CLI_COMMAND_GEN_CRED:
        return "gen-cred";
    case CLI_COMMAND_QR:
        return "qr";
    case CLI_COMMAND_DISCOVER:
        return "discover";
    case CLI_COMMAND_HELP:
        return "help";
    }
    return "unknown";
}

void cli_usage(FILE *f)
{
    fputs("Usage: wifiprov COMMAND [OPTIONS]\n"
          "       wifiprov --transport softap --service_name HOST:PORT [esp_prov options]\n"
          "       wifiprov --transport ble --service_name PROV_XXXXXX [esp_prov options]\n"
          "\n"
          "Provisions Wi-Fi credentials into a device that speaks ESP-IDF's unified\n"
          "provisioning protocol (wifi_provisioning / network_provisioning, wifiprovd).\n"
          "\n"
          "Commands:\n"
          "  provision   send Wi-Fi credentials and wait for the outcome (default)\n"
          "  scan        list the networks the device sees\n"
          "  status      show the device's Wi-Fi state\n"
          "  reset       prov-ctrl Reset (after a failed attempt)\n"
          "  reprov      prov-ctrl Reprov (start over on a provisioned device)\n"
          "  custom      send --custom-data (or stdin) to --endpoint and print the reply\n"
          "  version     show the device's proto-ver reply (no handshake)\n"
          "  gen-cred    make a security-2 salt and verifier (--username, --password)\n"
          "  qr [JSON]   show a provisioning QR code in the terminal\n"
          "  discover    list nearby BLE provisioning devices (name, address, RSSI, service)\n"
          "\n"
          "Options:\n"
          "  --transport http|ble|console   how to reach the device (softap, httpd = http)\n"
          "  --address HOST[:PORT]      device address (default 192.168.4.1:80)\n"
          "  --service-name NAME        BLE: the device's advertised name (PROV_XXXXXX);\n"
          "                             http: the same as --address\n"
          "  --adapter hciN             BLE: the local Bluetooth adapter (default: the first)\n"
          "  --sec 0|1|2                security scheme (default: from the device)\n"
          "  --pop POP                  proof of possession (security 1)\n"
          "  --username NAME            SRP username (security 2)\n"
          "  --password PASSWORD        SRP password (security 2)\n"
          "  --pop-file, --password-file, --passphrase-file FILE   read a secret from a file\n"
          "  --ssid SSID                network to join (default: scan and choose)\n"
          "  --passphrase PASSPHRASE    its passphrase\n"
          "  --custom-data DATA         data for the custom endpoint (sent before the Wi-Fi config)\n"
          "  --endpoint NAME            custom endpoint (default custom-data)\n"
          "  --timeout SECONDS          overall time limit (default 60; discover: how long to look, 5)\n"
          "  --qr PAYLOAD               take name, pop, username, transport, security from a QR payload\n"
          "  --json                     print one JSON object as the result\n"
          "  --progress                 with --json: JSON lines for each step before it\n"
          "  -v, --verbose              describe each protocol step\n"
          "  --debug                    also dump the (encrypted) bytes exchanged\n"
          "  -h, --help                 this text;  --version  wifiprov's version\n"
          "  gen-cred: --salt-len N (default 16), --out FILE (verifier file for wifiprovd; --force to\n"
          "            replace an existing one)\n"
          "  qr: --name NAME, --pop, --username, --transport softap|ble, --sec\n"
          "\n"
          "Secrets missing from the command line come from WIFIPROV_POP, WIFIPROV_PASSWORD,\n"
          "WIFIPROV_PASSPHRASE, or a prompt without echo on a terminal.\n"
          "esp_prov's --sec_ver, --service_name, --sec2_username, --sec2_pwd, --custom_data,\n"
          "--proto_ver, --sec2_gen_cred, --sec2_salt_len, --reset, --reprov, --ble_adapter are\n"
          "accepted too.\n"
          "\n"
          "Exit status:\n"
          "  0  success (connected, or the command succeeded)\n"
          "  1  other error\n"
          "  2  usage error\n"
          "  3  transport error (cannot connect, connection dropped; BLE: adapter missing or off,\n"
          "     device not found, connection failed, services not resolved, link lost)\n"
          "  4  authentication failure (wrong PoP, username or password; or the device claims a\n"
          "     weaker security scheme than the secrets given)\n"
          "  5  Wi-Fi failure (the device could not connect; reason printed)\n"
          "  6  timeout\n"
          "  7  device error (the device refused: busy, already connected, ...; what it does is printed)\n"
          "  8  status: the device is not connected yet\n"
          "With --json every outcome, usage errors included, is one JSON object on stdout.\n",
          f);
}

bool cli_secret_set(struct cli_secret *s, const char *value, const char *source)
{
    char *copy;

    if (s->value)
        return true;
    copy = strdup(value);
    if (!copy)
        return false;
    s->value = copy;
    s->source = source;
    return true;
}

/* Copies a secret option and wipes it from argv (so ps shows nothing). */
static int take_secret(struct cli_secret *s, char *arg)
{
    cli_secret_free(s);
    s->value = wifiprov__argv_secret(arg);
    s->source = "option";
    return s->value ? 0 : -1;
}

static int set_str(char **dst, const char *v)
{
    free(*dst);
    *dst = strdup(v);
    return *dst ? 0 : -1;
}

static int parse_address(struct cli_opts *o, const char *a)
{
    const char *colon, *host, *slash;
    char buf[300];
    size_t hl;
    char *end;
    unsigned long port = 80;

    /* A URL as a browser shows it: http://HOST[:PORT][/]. The transport has no TLS, so no https. */
    if (!strncasecmp(a, "http://", 7))
        a += 7;
    slash = strchr(a, '/');
    if (slash) {
        if (slash[1] || (size_t)(slash - a) >= sizeof(buf))
            return -1;
        memcpy(buf, a, (size_t)(slash - a));
        buf[slash - a] = '\0';
        a = buf;
    }
    host = a;
    if (a[0] == '[') {
        const char *rb = strchr(a, ']');

        if (!rb)
            return -1;
        host = a + 1;
        hl = (size_t)(rb - host);
        colon = rb[1] == ':' ? rb + 1 : NULL;
        if (rb[1] && !colon)
            return -1;
    } else {
        colon = strrchr(a, ':');
        if (colon && strchr(a, ':') != colon)
            colon = NULL; /* a bare IPv6 address */
        hl = colon ? (size_t)(colon - a) : strlen(a);
    }
    if (hl == 0 || hl >= sizeof(o->host))
        return -1;
    if (colon) {
        errno = 0;
        port = strtoul(colon + 1, &end, 10);
        if (errno || *end || port == 0 || port > 65535 || colon[1] == '\0')
            return -1;
    }
    memcpy(o->host, host, hl);
    o->host[hl] = '\0';
    o->port = (unsigned)port;
    return 0;
}

static int parse_transport(struct cli_opts *o, const char *v)
{
    if (!strcasecmp(v, "http") || !strcasecmp(v, "softap") || !strcasecmp(v, "httpd"))
        o->transport = CLI_TRANSPORT_KIND_HTTP;
    else if (!strcasecmp(v, "console"))
        o->transport = CLI_TRANSPORT_KIND_CONSOLE;
    else if (!strcasecmp(v, "ble"))
        o->transport = CLI_TRANSPORT_KIND_BLE;
    else
        return -1;
    o->transport_given = true;
    return 0;
}

/* Fills options not given on the command line from a §10 QR payload. */
static int apply_qr(struct cli_opts *o, const char *payload)
{
    cJSON *j = cJSON_Parse(payload), *v;
    int ret = -1;

    if (!cJSON_IsObject(j)) {
        opt_err("--qr: the payload is not a JSON object\n");
        goto out;
    }
    v = cJSON_GetObjectItemCaseSensitive(j, "name");
    if (cJSON_IsString(v) && !o->name && set_str(&o->name, v->valuestring) < 0)
        goto out;
    v = cJSON_GetObjectItemCaseSensitive(j, "username");
    if (cJSON_IsString(v) && !o->username && set_str(&o->username, v->valuestring) < 0)
        goto out;
    v = cJSON_GetObjectItemCaseSensitive(j, "pop");
    if (cJSON_IsString(v)) {
        /* The QR code carries the security-1 PoP and the security-2 SRP password in "pop". */
        if (!cli_secret_set(&o->pop, v->valuestring, "QR code") ||
            !cli_secret_set(&o->password, v->valuestring, "QR code"))
            goto out;
        wifiprov_memzero(v->valuestring, strlen(v->valuestring));
    }
    v = cJSON_GetObjectItemCaseSensitive(j, "security");
    if (cJSON_IsNumber(v) && o->sec < 0) {
        if (v->valueint < 0 || v->valueint > 2) {
            opt_err("--qr: security %d is not 0, 1 or 2\n", v->valueint);
            goto out;
        }
        o->sec = v->valueint;
        o->sec_from_qr = true;
    }
    v = cJSON_GetObjectItemCaseSensitive(j, "transport");
    if (cJSON_IsString(v) && !o->transport_given) {
        if (parse_transport(o, v->valuestring) < 0) {
            opt_err("--qr: unknown transport '%s'\n", v->valuestring);
            goto out;
        }
    }
    /* "password" (Android library) is the SoftAP's Wi-Fi passphrase: joining the AP is up to the user. */
    ret = 0;
out:
    cJSON_Delete(j);
    return ret;
}

static int fill_secret_from(struct cli_secret *s, const char *file, const char *env)
{
    if (!s->value && file) {
        char *v = cli_read_secret_file(file);

        if (!v) {
            opt_err("cannot read %s: %s\n", file, strerror(errno));
            return -1;
        }
        s->value = v;
        s->source = "file";
    }
    if (!s->value && env) {
        const char *e = getenv(env);

        if (e && !cli_secret_set(s, e, "environment"))
            return -1;
    }
    return 0;
}

struct parse_state {
    const char *pop_file, *password_file, *passphrase_file;
    char *qr; /* in argv: wiped once used, it may hold a PoP */
    char *transport_arg;
    char *address_arg; /* --address / --service-name: HOST[:PORT], or the BLE name */
    bool address_is_http; /* it came from --address */
};

/* @return 0, or an exit code (CLI_EXIT_USAGE / CLI_EXIT_ERROR), or -1 for "done, exit 0". */
static int handle_opt(struct cli_opts *o, struct parse_state *ps, int c, char *arg, const char *bad)
{
    char *end;

    switch (c) {
    case OPT_TRANSPORT:
        free(ps->transport_arg);
        ps->transport_arg = strdup(arg);
        return ps->transport_arg ? 0 : CLI_EXIT_ERROR;
    case OPT_ADDRESS:
    case OPT_SERVICE_NAME:
        /* esp_prov's --service_name depends on --transport, which may come later. */
        ps->address_is_http = c == OPT_ADDRESS;
        free(ps->address_arg);
        ps->address_arg = strdup(arg);
        return ps->address_arg ? 0 : CLI_EXIT_ERROR;
    case OPT_ADAPTER:
        if (strncmp(arg, "hci", 3) != 0 || !arg[3] || strspn(arg + 3, "0123456789") != strlen(arg + 3)) {
            opt_err("--adapter takes an adapter name such as hci0, not '%s'\n", arg);
            return CLI_EXIT_USAGE;
        }
        return set_str(&o->adapter, arg) < 0 ? CLI_EXIT_ERROR : 0;
    case OPT_SEC:
        if (strcmp(arg, "0") && strcmp(arg, "1") && strcmp(arg, "2")) {
            opt_err("--sec must be 0, 1 or 2, not '%s'\n", arg);
            return CLI_EXIT_USAGE;
        }
        o->sec = arg[0] - '0';
        return 0;
    case OPT_POP:
        return take_secret(&o->pop, arg) < 0 ? CLI_EXIT_ERROR : 0;
    case OPT_POP_FILE:
        ps->pop_file = arg;
        return 0;
    case OPT_USERNAME:
        return set_str(&o->username, arg) < 0 ? CLI_EXIT_ERROR : 0;
    case OPT_PASSWORD:
        return take_secret(&o->password, arg) < 0 ? CLI_EXIT_ERROR : 0;
    case OPT_PASSWORD_FILE:
        ps->password_file = arg;
        return 0;
    case OPT_SSID:
        if (strlen(arg) > WIFIPROV_SSID_MAX) {
            opt_err("an SSID has at most %d bytes\n", WIFIPROV_SSID_MAX);
            return CLI_EXIT_USAGE;
        }
        o->ssid_given = true;
        return set_str(&o->ssid, arg) < 0 ? CLI_EXIT_ERROR : 0;
    case OPT_PASSPHRASE:
        return take_secret(&o->passphrase, arg) < 0 ? CLI_EXIT_ERROR : 0;
    case OPT_PASSPHRASE_FILE:
        ps->passphrase_file = arg;
        return 0;
    case OPT_CUSTOM_DATA:
        o->custom_data_given = true;
        return set_str(&o->custom_data, arg) < 0 ? CLI_EXIT_ERROR : 0;
    case OPT_ENDPOINT:
        if (!arg[0] || strlen(arg) > WIFIPROV_EP_NAME_MAX || strpbrk(arg, "/ ?#%")) {
            opt_err("bad endpoint name '%s'\n", arg);
            return CLI_EXIT_USAGE;
        }
        return set_str(&o->endpoint, arg) < 0 ? CLI_EXIT_ERROR : 0;
    case OPT_TIMEOUT:
        errno = 0;
        o->timeout_s = strtod(arg, &end);
        if (errno || *end || end == arg || !(o->timeout_s > 0) || o->timeout_s > 86400) {
            opt_err("--timeout takes seconds, more than 0 and at most 86400\n");
            return CLI_EXIT_USAGE;
        }
        o->timeout_given = true;
        return 0;
    case OPT_JSON:
        o->json = true;
        return 0;
    case OPT_PROGRESS:
        o->progress = true;
        return 0;
    case 'v':
        o->verbose++;
        return 0;
    case OPT_DEBUG:
        o->debug = true;
        if (!o->verbose)
            o->verbose = 1;
        return 0;
    case OPT_QR:
        ps->qr = arg;
        return 0;
    case OPT_PROTO_VER:
        return set_str(&o->proto_ver, arg) < 0 ? CLI_EXIT_ERROR : 0;
    case OPT_GEN_CRED:
        o->flag_gen_cred = true;
        return 0;
    case OPT_SALT_LEN: {
        unsigned long n;

        errno = 0;
        n = strtoul(arg, &end, 10);
        if (errno || *end || end == arg || n < 1 || n > 64) {
            opt_err("the salt length must be 1..64 bytes\n");
            return CLI_EXIT_USAGE;
        }
        o->salt_len = n;
        return 0;
    }
    case OPT_RESET:
        o->flag_reset = true;
        return 0;
    case OPT_REPROV:
        o->flag_reprov = true;
        return 0;
    case OPT_FORCE:
        o->force = true;
        return 0;
    case OPT_OUT:
        return set_str(&o->out_file, arg) < 0 ? CLI_EXIT_ERROR : 0;
    case OPT_NAME:
        return set_str(&o->name, arg) < 0 ? CLI_EXIT_ERROR : 0;
    case 'h':
        o->command = CLI_COMMAND_HELP;
        return 0;
    case OPT_VERSION:
        printf("wifiprov %s\n", WIFIPROV_VERSION_STRING);
        return -1;
    default:
        opt_err("unknown option or missing value: %s\nTry 'wifiprov --help'.\n", bad);
        return CLI_EXIT_USAGE;
    }
}

/* Levenshtein distance of two short words (over 31 characters counts as far). */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), row[32], i, j;

    if (la > 31 || lb > 31)
        return 99;
    for (j = 0; j <= lb; j++)
        row[j] = j;
    for (i = 1; i <= la; i++) {
        size_t diag = row[0];

        row[0] = i;
        for (j = 1; j <= lb; j++) {
            size_t up = row[j], best = diag + (tolower((unsigned char)a[i - 1]) != b[j - 1]);

            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            diag = up;
            row[j] = best;
        }
    }
    return row[lb];
}

/* The command a mistyped word was probably meant to be (within two edits, or a unique prefix), or NULL. */
static const char *closest_command(const char *word)
{
    const char *best = NULL;
    size_t k, d, best_d = 3, prefix_hits = 0;
    const char *prefix = NULL;

    for (k = 0; k < WIFIPROV_ARRAY_SIZE(commands); k++) {
        d = edit_distance(word, commands[k].name);
        if (d < best_d) {
            best_d = d;
            best = commands[k].name;
        }
        if (strlen(word) >= 2 && !strncasecmp(word, commands[k].name, strlen(word))) {
            prefix = commands[k].name;
            prefix_hits++;
        }
    }
    if (!best && prefix_hits == 1)
        best = prefix;
    return best;
}

int cli_opts_parse(struct cli_opts *o, int argc, char **argv)
{
    struct parse_state ps = { 0 };
    int c, ret = CLI_EXIT_USAGE, npos;
    size_t k;

    memset(o, 0, sizeof(*o));
    o->sec = -1;
    snprintf(o->host, sizeof(o->host), "192.168.4.1");
    o->port = 80;
    o->timeout_s = 60;
    o->salt_len = 16;
    o->interactive = isatty(STDIN_FILENO);

    /* Known before parsing, so even a usage error is one JSON object with --json. */
    usage_msg[0] = '\0';
    usage_json = false;
    for (npos = 1; npos < argc && strcmp(argv[npos], "--"); npos++) {
        if (!strcmp(argv[npos], "--json") || !strcmp(argv[npos], "--progress"))
            usage_json = o->json = true;
    }
    opterr = 0;
    optind = 1;
    /* GNU getopt permutes: options may come before or after the command word. */
    while ((c = getopt_long(argc, argv, "vh", long_opts, NULL)) != -1) {
        ret = handle_opt(o, &ps, c, optarg, argv[optind - 1]);
        if (ret != 0)
            goto out;
        ret = CLI_EXIT_USAGE;
    }
    npos = argc - optind;
    if (npos > 0 && o->command != CLI_COMMAND_HELP) {
        for (k = 0; k < WIFIPROV_ARRAY_SIZE(commands); k++) {
            if (!strcmp(argv[optind], commands[k].name))
                o->command = commands[k].cmd;
        }
        if (o->command == CLI_COMMAND_NONE) {
            const char *near = closest_command(argv[optind]);

            if (near)
                opt_err("unknown command '%s'; did you mean '%s'?\nTry 'wifiprov --help'.\n", argv[optind], near);
            else
                opt_err("unknown command '%s'\nTry 'wifiprov --help'.\n", argv[optind]);
            goto out;
        }
        if (o->command == CLI_COMMAND_QR && npos == 2) {
            if (set_str(&o->qr_payload, argv[optind + 1]) < 0)
                goto nomem;
            wifiprov_memzero(argv[optind + 1], strlen(argv[optind + 1]));
        } else if (npos > 1) {
            opt_err("unexpected argument '%s'\n", argv[optind + 1]);
            goto out;
        }
    }
    if (o->command == CLI_COMMAND_NONE) {
        /* esp_prov style: the flags choose the action. */
        if (argc <= 1) {
            cli_usage(stderr);
            goto out;
        }
        o->esp_prov_style = true;
        if (o->flag_gen_cred)
            o->command = CLI_COMMAND_GEN_CRED;
        else if (o->flag_reset)
            o->command = CLI_COMMAND_RESET;
        else if (o->flag_reprov)
            o->command = CLI_COMMAND_REPROV;
        else
            o->command = CLI_COMMAND_PROVISION;
    }
    if (o->progress && !o->json)
        o->json = true;
    if (ps.transport_arg) {
        if (o->command == CLI_COMMAND_QR) {
            if (set_str(&o->qr_transport, ps.transport_arg) < 0)
                goto nomem;
        } else if (parse_transport(o, ps.transport_arg) < 0) {
            opt_err("unknown transport '%s' (http, softap, httpd, ble or console)\n",
                    ps.transport_arg);
            goto out;
        }
    }
    if (fill_secret_from(&o->pop, ps.pop_file, "WIFIPROV_POP") < 0 ||
        fill_secret_from(&o->password, ps.password_file, "WIFIPROV_PASSWORD") < 0 ||
        fill_secret_from(&o->passphrase, ps.passphrase_file, "WIFIPROV_PASSPHRASE") < 0)
        goto out;
    /* An explicit --address means HTTP, whatever a QR code says. */
    if (ps.address_arg && ps.address_is_http && !o->transport_given)
        o->transport_given = true;
    if (ps.qr && o->command != CLI_COMMAND_QR && apply_qr(o, ps.qr) < 0)
        goto out;
    if (ps.qr && o->command == CLI_COMMAND_QR && !o->qr_payload && set_str(&o->qr_payload, ps.qr) < 0)
        goto nomem;
    if (ps.address_arg) {
        if (o->transport == CLI_TRANSPORT_KIND_BLE && ps.address_is_http) {
            opt_err("--address is an HTTP address; over BLE pass --service-name NAME\n");
            goto out;
        }
        if (o->transport == CLI_TRANSPORT_KIND_BLE) {
            if (strlen(ps.address_arg) > 248) {
                opt_err("a BLE device name has at most 248 bytes\n");
                goto out;
            }
            if (set_str(&o->ble_name, ps.address_arg) < 0)
                goto nomem;
        } else if (parse_address(o, ps.address_arg) < 0) {
            opt_err("bad address '%s' (expected HOST[:PORT] or http://HOST[:PORT]%s)\n", ps.address_arg,
                    strncasecmp(ps.address_arg, "https://", 8) ? "" : "; devices serve plain HTTP, not https");
            goto out;
        }
    }
    /* A QR code's "name" is the BLE device to connect to. */
    if (o->transport == CLI_TRANSPORT_KIND_BLE && !o->ble_name && o->name && o->command != CLI_COMMAND_QR &&
        set_str(&o->ble_name, o->name) < 0)
        goto nomem;
    if (o->transport == CLI_TRANSPORT_KIND_BLE && !o->ble_name && o->command != CLI_COMMAND_QR &&
        o->command != CLI_COMMAND_GEN_CRED && o->command != CLI_COMMAND_HELP && o->command != CLI_COMMAND_DISCOVER) {
        opt_err("--transport ble needs --service-name with the device's advertised name "
                        "(PROV_XXXXXX; 'wifiprov discover' lists them)\n");
        goto out;
    }
    if (ps.qr)
        wifiprov_memzero(ps.qr, strlen(ps.qr));
    if (o->passphrase.value && strlen(o->passphrase.value) > WIFIPROV_PASSPHRASE_MAX) {
        opt_err("a passphrase has at most %d characters\n", WIFIPROV_PASSPHRASE_MAX);
        goto out;
    }
    ret = CLI_EXIT_OK;
    goto out;
nomem:
    opt_err("out of memory\n");
    ret = CLI_EXIT_ERROR;
out:
    free(ps.transport_arg);
    free(ps.address_arg);
    return ret;
}

void cli_opts_free(struct cli_opts *o)
{
    cli_secret_free(&o->pop);
    cli_secret_free(&o->password);
    cli_secret_free(&o->passphrase);
    free(o->username);
    free(o->ssid);
    free(o->custom_data);
    free(o->endpoint);
    free(o->proto_ver);
    free(o->out_file);
    free(o->qr_payload);
    free(o->name);
    free(o->qr_transport);
    free(o->ble_name);
    free(o->adapter);
    memset(o, 0, sizeof(*o));
}
