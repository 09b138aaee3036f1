/*
 * The simulated Wi-Fi backend: a fixed list of networks (a JSON file, or a
 * built-in demo set) that scans find and that connect to after a delay when the
 * passphrase is right. Runs on the daemon's sd-event loop; nothing touches a
 * real radio. The file format is described in docs/sim-networks.md.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <systemd/sd-event.h>

#include "util.h"
#include "wifi/backend.h"

#define SIM_MAX_NETWORKS 64
#define SIM_MAX_FILE (256 * 1024)
#define SIM_DEFAULT_SCAN_MS 1500u
#define SIM_DEFAULT_CONNECT_MS 1500u

struct sim_net {
    struct wifiprov_ap ap; /* ssid, bssid, channel, rssi, auth */
    char passphrase[WIFIPROV_PASSPHRASE_MAX + 1];
    uint32_t connect_ms;
    char ip[WIFIPROV_IP4_MAX];
    bool hidden; /* scans report it with an empty SSID; connecting by name works */
};

enum sim_phase {
    SIM_PHASE_IDLE = 0,
    SIM_PHASE_START = 1,  /* next: report CONNECTING */
    SIM_PHASE_RESULT = 2, /* next: report the outcome */
};

struct sim {
    struct wifiprov_backend b;
    sd_event *event;
    void (*scan_done_fn)(void *ctx, int err, const struct wifiprov_ap *aps, size_t n);
    void (*wifi_event_fn)(void *ctx, const struct wifiprov_wifi_event *ev);
    void *cb_ctx;
    uint32_t scan_ms;

    struct sim_net *nets;
    struct wifiprov_ap *aps; /* what a scan reports */
    size_t n;

    sd_event_source *scan_src;
    bool scanning;

    sd_event_source *conn_src;
    enum sim_phase phase;
    struct wifiprov_wifi_creds attempt; /* credentials being tried */

    bool has_committed;
    struct wifiprov_wifi_creds committed;
};

/* The demo set of docs/sim-networks.md; keep the two in step. */
struct demo_net {
    const char *ssid, *bssid, *auth, *passphrase, *ip;
    uint32_t channel;
    int32_t rssi;
    uint32_t connect_ms;
};
static const struct demo_net demo_nets[] = {
    {"HomeNetwork", "02:53:49:4d:00:01", "wpa2_psk", "correct-horse", "192.168.1.42", 6, -42, 1500},
    {"CoffeeShop", "02:53:49:4d:00:02", "open", NULL, "10.0.0.23", 1, -67, 1000},
    {"Office-WPA3", "02:53:49:4d:00:03", "wpa3_psk", "battery-staple", "192.168.10.57", 36, -58, 2000},
    {"Neighbour", "02:53:49:4d:00:04", "wpa_wpa2_psk", "not-your-network", "192.168.0.77", 11, -81, 1500},
    {"SlowRouter", "02:53:49:4d:00:05", "wpa2_psk", "patience-please", "192.168.2.8", 3, -73, 8000},
    {"CorpNet", "02:53:49:4d:00:06", "wpa2_enterprise", NULL, "10.10.0.5", 44, -62, 1500},
};

/* ---- networks ---------------------------------------------------------- */

static int parse_mac(const char *s, uint8_t mac[6])
{
    unsigned v[6];
    char tail;
    int i;

    if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &tail) != 6 ||
        strlen(s) != 17)
        return WIFIPROV_ERR_INVAL;
    for (i = 0; i < 6; i++)
        mac[i] = (uint8_t)v[i];
    return 0;
}

static int parse_ip4(const char *s)
{
    unsigned a, b, c, d;
    char tail;

    if (strlen(s) >= WIFIPROV_IP4_MAX || sscanf(s, "%3u.%3u.%3u.%3u%c", &a, &b, &c, &d, &tail) != 4 || a > 255 ||
        b > 255 || c > 255 || d > 255)
        return WIFIPROV_ERR_INVAL;
    return 0;
}

/* True when @p v is a whole number within lo..hi (range first: casting a huge double is undefined). */
static bool whole_in(double v, double lo, double hi)
{
    return v >= lo && v <= hi && v == (double)(long)v;
}

/* Checks and stores one network; @p what names the source for messages ("file X: entry N"). */
static int net_set(struct sim_net *net, size_t index, const char *what, const char *ssid, const char *bssid,
                   double channel, double rssi, const char *auth, const char *pass, double connect_ms,
                   const char *ip)
{
    const char *field = NULL, *problem = NULL;
    size_t len;
    int r = WIFIPROV_ERR_INVAL;

    memset(net, 0, sizeof(*net));
    len = ssid ? strlen(ssid) : 0;
    if (len == 0 || len > WIFIPROV_SSID_MAX) {
        field = "ssid", problem = "must be a string of 1..32 bytes";
        goto out;
    }
    memcpy(net->ap.ssid, ssid, len);
    net->ap.ssid_len = (uint8_t)len;
    if (bssid) {
        if (parse_mac(bssid, net->ap.bssid) < 0) {
            field = "bssid", problem = "must look like \"aa:bb:cc:dd:ee:ff\"";
            goto out;
        }
    } else {
        /* 02:53:49:4d ("SIM", locally administered) + the entry number. */
        const uint8_t def[6] = {0x02, 0x53, 0x49, 0x4d, (uint8_t)((index + 1) >> 8), (uint8_t)(index + 1)};

        memcpy(net->ap.bssid, def, sizeof(def));
    }
    if (!whole_in(channel, 1, 196)) {
        field = "channel", problem = "must be an integer 1..196";
        goto out;
    }
    net->ap.channel = (uint32_t)channel;
    if (!whole_in(rssi, -120, 0)) {
        field = "rssi", problem = "must be an integer -120..0 (dBm)";
        goto out;
    }
    net->ap.rssi = (int32_t)rssi;
    if (wifiprov_auth_mode_from_string(auth, &net->ap.auth) < 0) {
        field = "auth", problem = "must be one of open, wep, wpa_psk, wpa2_psk, wpa_wpa2_psk, wpa3_psk, "
                                  "wpa2_wpa3_psk, wpa2_enterprise";
        goto out;
    }
    len = pass ? strlen(pass) : 0;
    switch ((enum wifiprov_auth_mode)net->ap.auth) {
    case WIFIPROV_AUTH_MODE_OPEN:
    case WIFIPROV_AUTH_MODE_WPA2_ENTERPRISE:
        if (pass) {
            field = "passphrase", problem = "is not used by open and enterprise networks; remove it";
            goto out;
        }
        break;
    case WIFIPROV_AUTH_MODE_WEP:
        if (len < 1 || len > WIFIPROV_PASSPHRASE_MAX) {
            field = "passphrase", problem = "must be 1..63 characters";
            goto out;
        }
        break;
    case WIFIPROV_AUTH_MODE_WPA_PSK:
    case WIFIPROV_AUTH_MODE_WPA2_PSK:
    case WIFIPROV_AUTH_MODE_WPA_WPA2_PSK:
    case WIFIPROV_AUTH_MODE_WPA3_PSK:
    case WIFIPROV_AUTH_MODE_WPA2_WPA3_PSK:
        if (len < 8 || len > WIFIPROV_PASSPHRASE_MAX) {
            field = "passphrase", problem = "must be 8..63 characters for this auth mode";
            goto out;
        }
        break;
    }
    if (len)
        memcpy(net->passphrase, pass, len);
    if (!whole_in(connect_ms, 0, 600000)) {
        field = "connect_ms", problem = "must be an integer 0..600000";
        goto out;
    }
    net->connect_ms = (uint32_t)connect_ms;
    if (ip) {
        if (parse_ip4(ip) < 0) {
            field = "ip", problem = "must be a dotted IPv4 address";
            goto out;
        }
        memcpy(net->ip, ip, strlen(ip) + 1);
    } else {
        snprintf(net->ip, sizeof(net->ip), "192.168.50.%u", (unsigned)(10 + index));
    }
    r = 0;
out:
    if (r < 0)
        wifiprov__err("sim: %s: entry %zu: field \"%s\" %s", what, index, field, problem);
    return r;
}

static const char *const known_fields[] = {"ssid",       "bssid",      "channel", "rssi",  "auth",
                                           "passphrase", "connect_ms", "ip",      "hidden"};

/* A string member: absent = NULL; present but not a string = error. */
static int get_string(const cJSON *o, const char *name, const char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

    *out = NULL;
    if (!v)
        return 0;
    if (!cJSON_IsString(v))
        return WIFIPROV_ERR_INVAL;
    *out = v->valuestring;
    return 0;
}

static int get_number(const cJSON *o, const char *name, double def, double *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

    *out = def;
    if (!v)
        return 0;
    if (!cJSON_IsNumber(v))
        return WIFIPROV_ERR_INVAL;
    *out = v->valuedouble;
    return 0;
}

static int parse_entry(const cJSON *o, size_t index, const char *what, struct sim_net *net)
{
    const char *ssid, *bssid, *auth, *pass, *ip, *bad = NULL;
    double channel, rssi, connect_ms;
    const cJSON *m;
    size_t i;

    if (!cJSON_IsObject(o)) {
        wifiprov__err("sim: %s: entry %zu: expected an object", what, index);
        return WIFIPROV_ERR_INVAL;
    }
    cJSON_ArrayForEach(m, o) {
        for (i = 0; i < WIFIPROV_ARRAY_SIZE(known_fields); i++) {
            if (strcmp(m->string, known_fields[i]) == 0)
                break;
        }
        if (i == WIFIPROV_ARRAY_SIZE(known_fields)) {
            wifiprov__err("sim: %s: entry %zu: unknown field \"%s\"", what, index, m->string);
            return WIFIPROV_ERR_INVAL;
        }
    }
    if (get_string(o, "ssid", &ssid) < 0)
        bad = "ssid";
    else if (get_string(o, "bssid", &bssid) < 0)
        bad = "bssid";
    else if (get_string(o, "auth", &auth) < 0)
        bad = "auth";
    else if (get_string(o, "passphrase", &pass) < 0)
        bad = "passphrase";
    else if (get_string(o, "ip", &ip) < 0)
        bad = "ip";
    if (bad) {
        wifiprov__err("sim: %s: entry %zu: field \"%s\" must be a string", what, index, bad);
        return WIFIPROV_ERR_INVAL;
    }
    if (get_number(o, "channel", 6, &channel) < 0)
        bad = "channel";
    else if (get_number(o, "rssi", -50, &rssi) < 0)
        bad = "rssi";
    else if (get_number(o, "connect_ms", SIM_DEFAULT_CONNECT_MS, &connect_ms) < 0)
        bad = "connect_ms";
    if (bad) {
        wifiprov__err("sim: %s: entry %zu: field \"%s\" must be a number", what, index, bad);
        return WIFIPROV_ERR_INVAL;
    }
    m = cJSON_GetObjectItemCaseSensitive(o, "hidden");
    if (m && !cJSON_IsBool(m)) {
        wifiprov__err("sim: %s: entry %zu: field \"hidden\" must be true or false", what, index);
        return WIFIPROV_ERR_INVAL;
    }
    if (!auth)
        auth = pass ? "wpa2_psk" : "open";
    if (net_set(net, index, what, ssid, bssid, channel, rssi, auth, pass, connect_ms, ip) < 0)
        return WIFIPROV_ERR_INVAL;
    net->hidden = m && cJSON_IsTrue(m);
    return 0;
}

static int read_file(const char *path, char **out)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t n;
    int r = WIFIPROV_ERR_IO;

    *out = NULL;
    if (!f) {
        wifiprov__err("sim: cannot open networks file \"%s\": %s", path, strerror(errno));
        goto out;
    }
    r = WIFIPROV_ERR_NOMEM;
    buf = wifiprov__malloc(SIM_MAX_FILE + 1);
    if (!buf)
        goto out;
    n = fread(buf, 1, SIM_MAX_FILE + 1, f);
    if (ferror(f)) {
        wifiprov__err("sim: cannot read networks file \"%s\"", path);
        r = WIFIPROV_ERR_IO;
        goto out;
    }
    if (n > SIM_MAX_FILE) {
        wifiprov__err("sim: networks file \"%s\" is larger than %u bytes", path, SIM_MAX_FILE);
        r = WIFIPROV_ERR_TOO_BIG;
        goto out;
    }
    buf[n] = '\0';
    *out = buf;
    buf = NULL;
    r = 0;
out:
    wifiprov__free(buf);
    if (f)
        fclose(f);
    return r;
}

static int load_file(struct sim *s, const char *path)
{
    char *text = NULL, what[300];
    cJSON *root = NULL;
    const cJSON *item;
    size_t i = 0;
    int r;

    snprintf(what, sizeof(what), "networks file \"%s\"", path);
    r = read_file(path, &text);
    if (r < 0)
        goto out;
    r = WIFIPROV_ERR_INVAL;
    root = cJSON_Parse(text);
    if (!root) {
        const char *at = cJSON_GetErrorPtr();
        size_t off = at && at >= text && at <= text + strlen(text) ? (size_t)(at - text) : 0;
        size_t line = 1, k;

        for (k = 0; k < off; k++)
            line += text[k] == '\n';
        wifiprov__err("sim: %s: not valid JSON (line %zu)", what, line);
        goto out;
    }
    if (!cJSON_IsArray(root)) {
        wifiprov__err("sim: %s: expected a JSON array of networks", what);
        goto out;
    }
    s->n = (size_t)cJSON_GetArraySize(root);
    if (s->n > SIM_MAX_NETWORKS) {
        wifiprov__err("sim: %s: %zu networks, at most %d are supported", what, s->n, SIM_MAX_NETWORKS);
        goto out;
    }
    r = WIFIPROV_ERR_NOMEM;
    s->nets = wifiprov__calloc(s->n ? s->n : 1, sizeof(*s->nets));
    if (!s->nets)
        goto out;
    cJSON_ArrayForEach(item, root) {
        r = parse_entry(item, i, what, &s->nets[i]);
        if (r < 0)
            goto out;
        i++;
    }
    r = 0;
out:
    cJSON_Delete(root);
    wifiprov__free(text);
    return r;
}

static int load_demo(struct sim *s)
{
    size_t i;
    int r = 0;

    s->n = WIFIPROV_ARRAY_SIZE(demo_nets);
    s->nets = wifiprov__calloc(s->n, sizeof(*s->nets));
    if (!s->nets)
        return WIFIPROV_ERR_NOMEM;
    for (i = 0; i < s->n && r == 0; i++) {
        const struct demo_net *d = &demo_nets[i];

        r = net_set(&s->nets[i], i, "demo set", d->ssid, d->bssid, d->channel, d->rssi, d->auth, d->passphrase,
                    d->connect_ms, d->ip);
    }
    return r;
}

/* ---- connection attempts ----------------------------------------------- */

static void emit(struct sim *s, const struct wifiprov_wifi_event *ev)
{
    if (s->wifi_event_fn)
        s->wifi_event_fn(s->cb_ctx, ev);
}

static const struct sim_net *find_net(const struct sim *s, const struct wifiprov_wifi_creds *c)
{
    const struct sim_net *best = NULL;
    size_t i;

    for (i = 0; i < s->n; i++) {
        const struct sim_net *n = &s->nets[i];

        if (n->ap.ssid_len != c->ssid_len || memcmp(n->ap.ssid, c->ssid, c->ssid_len) != 0)
            continue;
        if (c->has_bssid && memcmp(n->ap.bssid, c->bssid, WIFIPROV_BSSID_LEN) == 0)
            return n;
        if (!best || n->ap.rssi > best->ap.rssi)
            best = n;
    }
    return best;
}

static bool passphrase_ok(const struct sim_net *n, const struct wifiprov_wifi_creds *c)
{
    switch ((enum wifiprov_auth_mode)n->ap.auth) {
    case WIFIPROV_AUTH_MODE_OPEN:
        return true;
    case WIFIPROV_AUTH_MODE_WPA2_ENTERPRISE:
        return false; /* no enterprise support */
    case WIFIPROV_AUTH_MODE_WEP:
    case WIFIPROV_AUTH_MODE_WPA_PSK:
    case WIFIPROV_AUTH_MODE_WPA2_PSK:
    case WIFIPROV_AUTH_MODE_WPA_WPA2_PSK:
    case WIFIPROV_AUTH_MODE_WPA3_PSK:
    case WIFIPROV_AUTH_MODE_WPA2_WPA3_PSK:
        break;
    }
    return c->passphrase_len == strlen(n->passphrase) &&
           memcmp(c->passphrase, n->passphrase, c->passphrase_len) == 0;
}

static int arm(sd_event_source *src, uint64_t ms)
{
    int r = sd_event_source_set_time_relative(src, ms * 1000u);

    if (r >= 0)
        r = sd_event_source_set_enabled(src, SD_EVENT_ONESHOT);
    return r < 0 ? WIFIPROV_ERR_WIFI : 0;
}

static int on_conn_timer(sd_event_source *src, uint64_t usec, void *userdata)
{
    struct sim *s = userdata;
    const struct sim_net *n = find_net(s, &s->attempt);
    struct wifiprov_wifi_event ev;
    char shown[WIFIPROV__ESCAPED_SSID_MAX];

    memset(&ev, 0, sizeof(ev));
    switch (s->phase) {
    case SIM_PHASE_IDLE:
        return 0;
    case SIM_PHASE_START:
        /* Set up the next step first: the callback may start another attempt. */
        s->phase = SIM_PHASE_RESULT;
        if (arm(src, n ? n->connect_ms : s->scan_ms) < 0) {
            s->phase = SIM_PHASE_IDLE;
            ev.type = WIFIPROV_WIFI_EVENT_ATTEMPT_FAILED;
            ev.reason = WIFIPROV_FAIL_REASON_OTHER;
            emit(s, &ev);
            return 0;
        }
        ev.type = WIFIPROV_WIFI_EVENT_CONNECTING;
        emit(s, &ev);
        return 0;
    case SIM_PHASE_RESULT:
        s->phase = SIM_PHASE_IDLE;
        if (!n) {
            ev.type = WIFIPROV_WIFI_EVENT_ATTEMPT_FAILED;
            ev.reason = WIFIPROV_FAIL_REASON_NETWORK_NOT_FOUND;
            wifiprov__info("sim: \"%s\" not found",
                           wifiprov__escape(s->attempt.ssid, s->attempt.ssid_len, shown, sizeof(shown)));
        } else if (!passphrase_ok(n, &s->attempt)) {
            ev.type = WIFIPROV_WIFI_EVENT_ATTEMPT_FAILED;
            ev.reason = WIFIPROV_FAIL_REASON_AUTH_ERROR;
            wifiprov__info("sim: \"%s\" rejected the credentials",
                           wifiprov__escape(n->ap.ssid, n->ap.ssid_len, shown, sizeof(shown)));
        } else {
            ev.type = WIFIPROV_WIFI_EVENT_CONNECTED;
            ev.ip4 = n->ip;
            ev.ssid = n->ap.ssid;
            ev.ssid_len = n->ap.ssid_len;
            ev.bssid = n->ap.bssid;
            ev.channel = (int32_t)n->ap.channel;
            ev.auth = n->ap.auth;
            wifiprov__info("sim: connected to \"%s\", IPv4 %s",
                           wifiprov__escape(n->ap.ssid, n->ap.ssid_len, shown, sizeof(shown)), n->ip);
        }
        wifiprov_memzero(&s->attempt, sizeof(s->attempt));
        emit(s, &ev);
        return 0;
    }
    return 0;
}

static void cancel_attempt(struct sim *s)
{
    if (s->phase != SIM_PHASE_IDLE)
        wifiprov__dbg("sim: connection attempt cancelled");
    s->phase = SIM_PHASE_IDLE;
    sd_event_source_set_enabled(s->conn_src, SD_EVENT_OFF);
    wifiprov_memzero(&s->attempt, sizeof(s->attempt));
}

static int sim_connect(void *ctx, const struct wifiprov_wifi_creds *creds)
{
    struct sim *s = ctx;
    char shown[WIFIPROV__ESCAPED_SSID_MAX];
    int r;

    if (!creds || creds->ssid_len > WIFIPROV_SSID_MAX)
        return WIFIPROV_ERR_INVAL;
    cancel_attempt(s);
    s->attempt = *creds;
    s->phase = SIM_PHASE_START;
    /* Reports come from the loop, never from inside this call. */
    r = arm(s->conn_src, 0);
    if (r < 0)
        cancel_attempt(s);
    else
        wifiprov__info("sim: connecting to \"%s\"",
                       wifiprov__escape(creds->ssid, creds->ssid_len, shown, sizeof(shown)));
    return r;
}

static int sim_disconnect(void *ctx)
{
    cancel_attempt(ctx);
    return 0;
}

static int sim_commit(void *ctx, const struct wifiprov_wifi_creds *creds)
{
    struct sim *s = ctx;
    char shown[WIFIPROV__ESCAPED_SSID_MAX];

    if (!creds)
        return WIFIPROV_ERR_INVAL;
    s->committed = *creds;
    s->has_committed = true;
    wifiprov__info("sim: \"%s\" is now the saved network",
                   wifiprov__escape(creds->ssid, creds->ssid_len, shown, sizeof(shown)));
    return 0;
}

static int sim_forget(void *ctx)
{
    /* Nothing but the attempt was added; the committed network stays. */
    cancel_attempt(ctx);
    return 0;
}

/* ---- scans ------------------------------------------------------------- */

static int on_scan_timer(sd_event_source *src, uint64_t usec, void *userdata)
{
    struct sim *s = userdata;

    s->scanning = false;
    wifiprov__dbg("sim: scan done, %zu networks", s->n);
    if (s->scan_done_fn)
        s->scan_done_fn(s->cb_ctx, 0, s->aps, s->n);
    return 0;
}

static int sim_scan_start(void *ctx, const struct wifiprov_scan_opts *opts)
{
    struct sim *s = ctx;
    int r;

    if (s->scanning)
        return 0;
    r = arm(s->scan_src, s->scan_ms);
    if (r == 0)
        s->scanning = true;
    return r;
}

/* ---- backend ----------------------------------------------------------- */

static const struct wifiprov_wifi_ops sim_ops = {
    .scan_start = sim_scan_start,
    .connect = sim_connect,
    .disconnect = sim_disconnect,
    .commit = sim_commit,
    .forget = sim_forget,
};

static int sim_connect_saved(struct wifiprov_backend *b, const struct wifiprov_wifi_creds *stored)
{
    struct sim *s = b->ctx;

    if (stored && stored->ssid_len)
        return sim_connect(s, stored);
    if (s->has_committed)
        return sim_connect(s, &s->committed);
    return WIFIPROV_ERR_NOT_FOUND;
}

static int sim_get_mac(struct wifiprov_backend *b, uint8_t mac[6])
{
    const struct sim *s = b->ctx;
    uint32_t h = 2166136261u; /* FNV-1a over the network set */
    size_t i, k;

    for (i = 0; i < s->n; i++) {
        const struct wifiprov_ap *ap = &s->nets[i].ap;

        for (k = 0; k < ap->ssid_len; k++)
            h = (h ^ ap->ssid[k]) * 16777619u;
        for (k = 0; k < WIFIPROV_BSSID_LEN; k++)
            h = (h ^ ap->bssid[k]) * 16777619u;
    }
    mac[0] = 0x02; /* locally administered, unicast */
    mac[1] = 0x00;
    mac[2] = 0x00;
    mac[3] = (uint8_t)(h >> 16);
    mac[4] = (uint8_t)(h >> 8);
    mac[5] = (uint8_t)h;
    return 0;
}

static void sim_free(struct wifiprov_backend *b)
{
    struct sim *s;

    if (!b)
        return;
    s = b->ctx;
    sd_event_source_disable_unref(s->scan_src);
    sd_event_source_disable_unref(s->conn_src);
    if (s->nets)
        wifiprov_memzero(s->nets, s->n * sizeof(*s->nets));
    wifiprov__free(s->nets);
    wifiprov__free(s->aps);
    wifiprov__free_secret(s, sizeof(*s));
}

int wifiprov_backend_sim_new(const struct wifiprov_backend_config *cfg, struct wifiprov_backend **out)
{
    struct sim *s = NULL;
    size_t i;
    int r = WIFIPROV_ERR_INVAL;

    if (!out)
        goto out;
    *out = NULL;
    if (!cfg || !cfg->event) {
        wifiprov__err("sim: an sd-event loop is required");
        goto out;
    }
    r = WIFIPROV_ERR_NOMEM;
    s = wifiprov__calloc(1, sizeof(*s));
    if (!s)
        goto out;
    s->b.name = "sim";
    s->b.ops = &sim_ops;
    s->b.ctx = s;
    s->b.connect_saved = sim_connect_saved;
    s->b.get_mac = sim_get_mac;
    s->b.free = sim_free;
    s->event = cfg->event;
    s->scan_done_fn = cfg->scan_done_fn;
    s->wifi_event_fn = cfg->wifi_event_fn;
    s->cb_ctx = cfg->ctx;
    s->scan_ms = cfg->sim_scan_ms ? cfg->sim_scan_ms : SIM_DEFAULT_SCAN_MS;

    r = cfg->sim_config ? load_file(s, cfg->sim_config) : load_demo(s);
    if (r < 0)
        goto out;
    r = WIFIPROV_ERR_NOMEM;
    s->aps = wifiprov__calloc(s->n ? s->n : 1, sizeof(*s->aps));
    if (!s->aps)
        goto out;
    for (i = 0; i < s->n; i++) {
        s->aps[i] = s->nets[i].ap;
        if (s->nets[i].hidden) {
            memset(s->aps[i].ssid, 0, sizeof(s->aps[i].ssid));
            s->aps[i].ssid_len = 0;
        }
    }

    r = WIFIPROV_ERR_WIFI;
    if (sd_event_add_time_relative(s->event, &s->scan_src, CLOCK_MONOTONIC, 0, 0, on_scan_timer, s) < 0 ||
        sd_event_add_time_relative(s->event, &s->conn_src, CLOCK_MONOTONIC, 0, 0, on_conn_timer, s) < 0) {
        wifiprov__err("sim: cannot create timers");
        goto out;
    }
    sd_event_source_set_enabled(s->scan_src, SD_EVENT_OFF);
    sd_event_source_set_enabled(s->conn_src, SD_EVENT_OFF);
    wifiprov__info("sim: %zu simulated networks (%s)", s->n, cfg->sim_config ? cfg->sim_config : "built-in demo set");
    *out = &s->b;
    s = NULL;
    r = 0;
out:
    if (s)
        sim_free(&s->b);
    return r;
}
