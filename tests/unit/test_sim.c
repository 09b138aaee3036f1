/*
 * Simulated Wi-Fi backend tests: the networks file parser and its messages,
 * and scans / connection attempts run on a real sd-event loop with short
 * delays (every wait is bounded).
 */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-event.h>

#include "testutil.h"
#include "util.h"
#include "wifi/backend.h"
#include "wifiprov/device.h"
#include "wifiprov/prov.h"

#define MAX_EV 16

struct rec {
    int n_scans;
    int scan_err;
    size_t n_aps;
    struct wifiprov_ap aps[64];
    int n_ev;
    struct wifiprov_wifi_event ev[MAX_EV];
    char ip[MAX_EV][WIFIPROV_IP4_MAX];
    uint8_t ssid[MAX_EV][WIFIPROV_SSID_MAX];
    uint8_t bssid[MAX_EV][6];
    uint64_t t_ev[MAX_EV]; /* ms since the fixture started */
    uint64_t t0;
    char log[8192];
    size_t log_len;
    struct wifiprov_prov *prov; /* sim_with_manager: forward reports */
};

struct fx {
    char dir[64];
    sd_event *e;
    struct wifiprov_backend *b;
    struct rec rec;
};

static uint64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void on_scan_done(void *ctx, int err, const struct wifiprov_ap *aps, size_t n)
{
    struct rec *r = ctx;

    r->n_scans++;
    r->scan_err = err;
    r->n_aps = n;
    assert_true(n <= 64);
    memcpy(r->aps, aps, n * sizeof(*aps));
    if (r->prov)
        wifiprov_prov_scan_done(r->prov, err, aps, n);
}

static void on_wifi_event(void *ctx, const struct wifiprov_wifi_event *ev)
{
    struct rec *r = ctx;
    int i = r->n_ev++;

    assert_true(i < MAX_EV);
    r->ev[i] = *ev;
    r->t_ev[i] = mono_ms() - r->t0;
    if (ev->ip4)
        snprintf(r->ip[i], sizeof(r->ip[i]), "%s", ev->ip4);
    if (ev->ssid)
        memcpy(r->ssid[i], ev->ssid, ev->ssid_len);
    if (ev->bssid)
        memcpy(r->bssid[i], ev->bssid, 6);
    if (r->prov)
        wifiprov_prov_wifi_event(r->prov, ev);
}

static void on_log(void *ctx, enum wifiprov_log_level level, const char *msg)
{
    struct rec *r = ctx;
    size_t n = strlen(msg);

    if (r->log_len + n + 2 < sizeof(r->log)) {
        memcpy(r->log + r->log_len, msg, n);
        r->log_len += n;
        r->log[r->log_len++] = '\n';
        r->log[r->log_len] = '\0';
    }
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    snprintf(f->dir, sizeof(f->dir), "%s/wifiprov-sim-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    assert_non_null(mkdtemp(f->dir));
    assert_true(sd_event_new(&f->e) >= 0);
    f->rec.t0 = mono_ms();
    wifiprov_set_log_handler(on_log, &f->rec, WIFIPROV_LOG_LEVEL_DEBUG);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    char path[128];

    wifiprov_set_log_handler(NULL, NULL, WIFIPROV_LOG_LEVEL_INFO);
    wifiprov_backend_free(f->b);
    sd_event_unref(f->e);
    snprintf(path, sizeof(path), "%s/networks.json", f->dir);
    unlink(path);
    rmdir(f->dir);
    free(f);
    return 0;
}

static const char *write_file(struct fx *f, const char *text)
{
    static char path[128];
    FILE *fp;

    snprintf(path, sizeof(path), "%s/networks.json", f->dir);
    fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
    return path;
}

static int new_sim(struct fx *f, const char *file, uint32_t scan_ms)
{
    struct wifiprov_backend_config cfg;

    memset(&cfg, 0, sizeof(cfg));
    cfg.event = f->e;
    cfg.scan_done_fn = on_scan_done;
    cfg.wifi_event_fn = on_wifi_event;
    cfg.ctx = &f->rec;
    cfg.sim_config = file;
    cfg.sim_scan_ms = scan_ms;
    return wifiprov_backend_sim_new(&cfg, &f->b);
}

/* Runs the loop until @p n_ev events (or @p n_scans scans) were seen, at most @p max_ms. */
static void run_until(struct fx *f, int n_ev, int n_scans, uint64_t max_ms)
{
    uint64_t end = mono_ms() + max_ms;

    while ((f->rec.n_ev < n_ev || f->rec.n_scans < n_scans) && mono_ms() < end)
        assert_true(sd_event_run(f->e, 10 * 1000) >= 0);
}

static void run_for(struct fx *f, uint64_t ms)
{
    uint64_t end = mono_ms() + ms;

    while (mono_ms() < end)
        assert_true(sd_event_run(f->e, 5 * 1000) >= 0);
}

static struct wifiprov_wifi_creds creds(const char *ssid, const char *pass)
{
    struct wifiprov_wifi_creds c;

    memset(&c, 0, sizeof(c));
    c.ssid_len = (uint8_t)strlen(ssid);
    memcpy(c.ssid, ssid, c.ssid_len);
    c.passphrase_len = (uint8_t)strlen(pass);
    memcpy(c.passphrase, pass, c.passphrase_len);
    return c;
}

#define NETS                                                                                                   \
    "[\n"                                                                                                      \
    " {\"ssid\": \"Home\", \"bssid\": \"aa:bb:cc:dd:ee:01\", \"channel\": 6, \"rssi\": -40,\n"                \
    "  \"auth\": \"wpa2_psk\", \"passphrase\": \"correct-horse\", \"connect_ms\": 60, \"ip\": \"10.1.2.3\"},\n" \
    " {\"ssid\": \"Cafe\", \"channel\": 11, \"rssi\": -70, \"auth\": \"open\", \"connect_ms\": 20},\n"         \
    " {\"ssid\": \"Corp\", \"channel\": 36, \"rssi\": -60, \"auth\": \"wpa2_enterprise\", \"connect_ms\": 20},\n" \
    " {\"ssid\": \"New\", \"rssi\": -55, \"auth\": \"WPA3_PSK\", \"passphrase\": \"battery-staple\",\n"       \
    "  \"connect_ms\": 20, \"ip\": \"192.168.7.7\"}\n"                                                         \
    "]\n"

/* ---- the networks file -------------------------------------------------- */

static void expect_file_error(struct fx *f, const char *text, int err, const char *const *needles)
{
    const char *path = write_file(f, text);

    f->rec.log_len = 0;
    f->rec.log[0] = '\0';
    assert_int_equal(new_sim(f, path, 10), err);
    assert_null(f->b);
    assert_non_null(strstr(f->rec.log, path));
    for (; *needles; needles++) {
        if (!strstr(f->rec.log, *needles))
            fail_msg("log \"%s\" lacks \"%s\"", f->rec.log, *needles);
    }
}

static void file_errors(void **state)
{
    struct fx *f = *state;
    char missing[128];

    expect_file_error(f, "[ {\"ssid\": \"a\", }", WIFIPROV_ERR_INVAL, (const char *const[]){"not valid JSON", NULL});
    expect_file_error(f, "{\"ssid\": \"a\"}", WIFIPROV_ERR_INVAL, (const char *const[]){"array", NULL});
    expect_file_error(f, "[{\"ssid\": \"a\"}, {\"ssid\": \"b\", \"channel\": \"six\"}]", WIFIPROV_ERR_INVAL,
                      (const char *const[]){"entry 1", "\"channel\"", NULL});
    expect_file_error(f, "[{\"ssid\": \"a\", \"channel\": 300}]", WIFIPROV_ERR_INVAL,
                      (const char *const[]){"entry 0", "\"channel\"", "1..196", NULL});
    expect_file_error(f, "[{\"ssid\": \"a\"}, {\"ssid\": \"b\"}, {\"ssid\": \"c\", \"pasphrase\": \"x\"}]",
                      WIFIPROV_ERR_INVAL, (const char *const[]){"entry 2", "unknown field", "pasphrase", NULL});
    expect_file_error(f, "[{\"ssid\": \"a\", \"auth\": \"wpa2_psk\", \"passphrase\": \"short\"}]", WIFIPROV_ERR_INVAL,
                      (const char *const[]){"entry 0", "\"passphrase\"", "8..63", NULL});
    expect_file_error(f, "[{\"ssid\": \"a\", \"auth\": \"wpa9\"}]", WIFIPROV_ERR_INVAL,
                      (const char *const[]){"entry 0", "\"auth\"", NULL});
    expect_file_error(f, "[{\"ssid\": \"a\", \"bssid\": \"aa:bb:cc:dd:ee\"}]", WIFIPROV_ERR_INVAL,
                      (const char *const[]){"entry 0", "\"bssid\"", NULL});
    expect_file_error(f, "[{\"ssid\": \"a\", \"ip\": \"10.0.0.256\"}]", WIFIPROV_ERR_INVAL,
                      (const char *const[]){"entry 0", "\"ip\"", NULL});
    expect_file_error(f, "[{\"ssid\": \"a\", \"rssi\": -40.5}]", WIFIPROV_ERR_INVAL,
                      (const char *const[]){"entry 0", "\"rssi\"", NULL});
    expect_file_error(f, "[{\"ssid\": \"123456789012345678901234567890123\"}]", WIFIPROV_ERR_INVAL,
                      (const char *const[]){"entry 0", "\"ssid\"", NULL});
    expect_file_error(f, "[{\"channel\": 1}]", WIFIPROV_ERR_INVAL, (const char *const[]){"entry 0", "\"ssid\"", NULL});
    expect_file_error(f, "[{\"ssid\": \"a\", \"auth\": \"open\", \"passphrase\": \"whatever1\"}]", WIFIPROV_ERR_INVAL,
                      (const char *const[]){"entry 0", "\"passphrase\"", NULL});
    expect_file_error(f, "[{\"ssid\": 5}]", WIFIPROV_ERR_INVAL, (const char *const[]){"entry 0", "\"ssid\"", NULL});
    expect_file_error(f, "[[]]", WIFIPROV_ERR_INVAL, (const char *const[]){"entry 0", "object", NULL});

    snprintf(missing, sizeof(missing), "%s/no-such-file.json", f->dir);
    f->rec.log_len = 0;
    assert_int_equal(new_sim(f, missing, 10), WIFIPROV_ERR_IO);
    assert_non_null(strstr(f->rec.log, missing));
}

static void file_scan(void **state)
{
    struct fx *f = *state;
    uint64_t t;

    assert_int_equal(new_sim(f, write_file(f, NETS), 40), 0);
    assert_string_equal(f->b->name, "sim");
    t = mono_ms();
    assert_int_equal(f->b->ops->scan_start(f->b->ctx, &(struct wifiprov_scan_opts){.blocking = true}), 0);
    /* Nothing from inside the call: results come from the loop after the scan time. */
    assert_int_equal(f->rec.n_scans, 0);
    run_until(f, 0, 1, 2000);
    assert_int_equal(f->rec.n_scans, 1);
    assert_true(mono_ms() - t >= 40);
    assert_int_equal(f->rec.scan_err, 0);
    assert_int_equal(f->rec.n_aps, 4);
    assert_int_equal(f->rec.aps[0].ssid_len, 4);
    assert_memory_equal(f->rec.aps[0].ssid, "Home", 4);
    assert_memory_equal(f->rec.aps[0].bssid, "\xaa\xbb\xcc\xdd\xee\x01", 6);
    assert_int_equal(f->rec.aps[0].channel, 6);
    assert_int_equal(f->rec.aps[0].rssi, -40);
    assert_int_equal(f->rec.aps[0].auth, WIFIPROV_AUTH_MODE_WPA2_PSK);
    assert_int_equal(f->rec.aps[1].auth, WIFIPROV_AUTH_MODE_OPEN);
    assert_int_equal(f->rec.aps[1].channel, 11);
    assert_int_equal(f->rec.aps[2].auth, WIFIPROV_AUTH_MODE_WPA2_ENTERPRISE);
    assert_int_equal(f->rec.aps[3].auth, WIFIPROV_AUTH_MODE_WPA3_PSK);
    assert_int_equal(f->rec.aps[3].channel, 6); /* default */
    /* A default BSSID is made up, locally administered, distinct per entry. */
    assert_int_equal(f->rec.aps[1].bssid[0], 0x02);
    assert_memory_not_equal(f->rec.aps[1].bssid, f->rec.aps[2].bssid, 6);
}

/* A hidden network: scanned with an empty SSID, joined by its name. */
static void hidden_network(void **state)
{
    struct fx *f = *state;
    struct wifiprov_wifi_creds c = creds("Attic", "up-the-ladder");
    static const char nets[] = "[{\"ssid\": \"Home\", \"passphrase\": \"correct-horse\"},"
                               " {\"ssid\": \"Attic\", \"passphrase\": \"up-the-ladder\", \"hidden\": true,"
                               " \"connect_ms\": 20, \"ip\": \"10.9.8.7\"}]";

    expect_file_error(f, "[{\"ssid\": \"A\", \"hidden\": 1}]", WIFIPROV_ERR_INVAL,
                      (const char *const[]){"entry 0", "\"hidden\"", NULL});
    assert_int_equal(new_sim(f, write_file(f, nets), 10), 0);
    assert_int_equal(f->b->ops->scan_start(f->b->ctx, &(struct wifiprov_scan_opts){.blocking = true}), 0);
    run_until(f, 0, 1, 2000);
    assert_int_equal(f->rec.n_aps, 2);
    assert_int_equal(f->rec.aps[0].ssid_len, 4);
    assert_int_equal(f->rec.aps[1].ssid_len, 0);
    assert_int_equal(f->rec.aps[1].auth, WIFIPROV_AUTH_MODE_WPA2_PSK);
    assert_int_equal(f->b->ops->connect(f->b->ctx, &c), 0);
    run_until(f, 2, 0, 2000);
    assert_int_equal(f->rec.ev[1].type, WIFIPROV_WIFI_EVENT_CONNECTED);
    assert_string_equal(f->rec.ip[1], "10.9.8.7");
    assert_memory_equal(f->rec.ssid[1], "Attic", 5);
}

static void connect_right_passphrase(void **state)
{
    struct fx *f = *state;
    struct wifiprov_wifi_creds c = creds("Home", "correct-horse");
    uint64_t t;

    assert_int_equal(new_sim(f, write_file(f, NETS), 10), 0);
    f->rec.t0 = t = mono_ms();
    assert_int_equal(f->b->ops->connect(f->b->ctx, &c), 0);
    assert_int_equal(f->rec.n_ev, 0);
    run_until(f, 2, 0, 2000);
    assert_int_equal(f->rec.n_ev, 2);
    assert_int_equal(f->rec.ev[0].type, WIFIPROV_WIFI_EVENT_CONNECTING);
    assert_int_equal(f->rec.ev[1].type, WIFIPROV_WIFI_EVENT_CONNECTED);
    assert_true(mono_ms() - t >= 60);
    assert_true(f->rec.t_ev[1] >= 60);
    assert_string_equal(f->rec.ip[1], "10.1.2.3");
    assert_int_equal(f->rec.ev[1].ssid_len, 4);
    assert_memory_equal(f->rec.ssid[1], "Home", 4);
    assert_memory_equal(f->rec.bssid[1], "\xaa\xbb\xcc\xdd\xee\x01", 6);
    assert_int_equal(f->rec.ev[1].channel, 6);
    assert_int_equal(f->rec.ev[1].auth, WIFIPROV_AUTH_MODE_WPA2_PSK);
    /* and nothing more */
    run_for(f, 30);
    assert_int_equal(f->rec.n_ev, 2);
}

static void connect_wrong_passphrase(void **state)
{
    struct fx *f = *state;
    struct wifiprov_wifi_creds c = creds("Home", "correct-horsE");

    assert_int_equal(new_sim(f, write_file(f, NETS), 10), 0);
    assert_int_equal(f->b->ops->connect(f->b->ctx, &c), 0);
    run_until(f, 2, 0, 2000);
    assert_int_equal(f->rec.n_ev, 2);
    assert_int_equal(f->rec.ev[1].type, WIFIPROV_WIFI_EVENT_ATTEMPT_FAILED);
    assert_int_equal(f->rec.ev[1].reason, WIFIPROV_FAIL_REASON_AUTH_ERROR);
    assert_true(f->rec.t_ev[1] >= 60);
    /* The passphrase never reaches the log. */
    assert_null(strstr(f->rec.log, "correct-hors"));
}

static void connect_unknown_ssid(void **state)
{
    struct fx *f = *state;
    struct wifiprov_wifi_creds c = creds("Nowhere", "whatever123");

    assert_int_equal(new_sim(f, write_file(f, NETS), 50), 0);
    assert_int_equal(f->b->ops->connect(f->b->ctx, &c), 0);
    run_until(f, 2, 0, 2000);
    assert_int_equal(f->rec.n_ev, 2);
    assert_int_equal(f->rec.ev[1].type, WIFIPROV_WIFI_EVENT_ATTEMPT_FAILED);
    assert_int_equal(f->rec.ev[1].reason, WIFIPROV_FAIL_REASON_NETWORK_NOT_FOUND);
    /* after about a scan's time */
    assert_true(f->rec.t_ev[1] >= 50);
}

static void connect_open_and_enterprise(void **state)
{
    struct fx *f = *state;
    struct wifiprov_wifi_creds c = creds("Cafe", "anything at all");

    assert_int_equal(new_sim(f, write_file(f, NETS), 10), 0);
    assert_int_equal(f->b->ops->connect(f->b->ctx, &c), 0);
    run_until(f, 2, 0, 2000);
    assert_int_equal(f->rec.ev[1].type, WIFIPROV_WIFI_EVENT_CONNECTED);
    assert_string_equal(f->rec.ip[1], "192.168.50.11"); /* default address of entry 1 */
    c = creds("Corp", "");
    assert_int_equal(f->b->ops->connect(f->b->ctx, &c), 0);
    run_until(f, 4, 0, 2000);
    assert_int_equal(f->rec.n_ev, 4);
    assert_int_equal(f->rec.ev[3].type, WIFIPROV_WIFI_EVENT_ATTEMPT_FAILED);
    assert_int_equal(f->rec.ev[3].reason, WIFIPROV_FAIL_REASON_AUTH_ERROR);
}

static void disconnect_cancels(void **state)
{
    struct fx *f = *state;
    struct wifiprov_wifi_creds c = creds("Home", "correct-horse");

    assert_int_equal(new_sim(f, write_file(f, NETS), 10), 0);
    assert_int_equal(f->b->ops->connect(f->b->ctx, &c), 0);
    run_until(f, 1, 0, 2000);
    assert_int_equal(f->rec.n_ev, 1);
    assert_int_equal(f->b->ops->disconnect(f->b->ctx), 0);
    run_for(f, 120);
    assert_int_equal(f->rec.n_ev, 1);
    /* forget cancels too; a new connect replaces a pending one */
    assert_int_equal(f->b->ops->connect(f->b->ctx, &c), 0);
    assert_int_equal(f->b->ops->forget(f->b->ctx), 0);
    c = creds("New", "battery-staple");
    assert_int_equal(f->b->ops->connect(f->b->ctx, &c), 0);
    run_until(f, 3, 0, 2000);
    run_for(f, 80);
    assert_int_equal(f->rec.n_ev, 3);
    assert_int_equal(f->rec.ev[2].type, WIFIPROV_WIFI_EVENT_CONNECTED);
    assert_string_equal(f->rec.ip[2], "192.168.7.7");
}

static void connect_saved(void **state)
{
    struct fx *f = *state;
    struct wifiprov_wifi_creds c = creds("New", "battery-staple");

    assert_int_equal(new_sim(f, write_file(f, NETS), 10), 0);
    assert_int_equal(f->b->connect_saved(f->b, NULL), WIFIPROV_ERR_NOT_FOUND);
    assert_int_equal(f->b->ops->commit(f->b->ctx, &c), 0);
    assert_int_equal(f->b->connect_saved(f->b, NULL), 0);
    run_until(f, 2, 0, 2000);
    assert_int_equal(f->rec.ev[1].type, WIFIPROV_WIFI_EVENT_CONNECTED);
    assert_memory_equal(f->rec.ssid[1], "New", 3);
    /* the daemon's stored credentials win */
    c = creds("Home", "correct-horse");
    assert_int_equal(f->b->connect_saved(f->b, &c), 0);
    run_until(f, 4, 0, 2000);
    assert_int_equal(f->rec.ev[3].type, WIFIPROV_WIFI_EVENT_CONNECTED);
    assert_memory_equal(f->rec.ssid[3], "Home", 4);
}

static void demo_set(void **state)
{
    struct fx *f = *state;
    struct wifiprov_backend *other = NULL;
    struct wifiprov_backend_config cfg;
    struct wifiprov_wifi_creds c = creds("HomeNetwork", "correct-horse");
    uint8_t mac1[6], mac2[6];
    size_t i;
    bool seen = false;

    assert_int_equal(new_sim(f, NULL, 20), 0);
    assert_int_equal(f->b->ops->scan_start(f->b->ctx, &(struct wifiprov_scan_opts){0}), 0);
    /* a second start while scanning does not start another one */
    assert_int_equal(f->b->ops->scan_start(f->b->ctx, &(struct wifiprov_scan_opts){0}), 0);
    run_until(f, 0, 1, 2000);
    run_for(f, 40);
    assert_int_equal(f->rec.n_scans, 1);
    assert_int_equal(f->rec.n_aps, 6);
    for (i = 0; i < f->rec.n_aps; i++)
        seen |= f->rec.aps[i].ssid_len == 11 && memcmp(f->rec.aps[i].ssid, "HomeNetwork", 11) == 0;
    assert_true(seen);
    assert_int_equal(f->b->ops->connect(f->b->ctx, &c), 0);
    run_until(f, 2, 0, 4000);
    assert_int_equal(f->rec.ev[1].type, WIFIPROV_WIFI_EVENT_CONNECTED);
    assert_string_equal(f->rec.ip[1], "192.168.1.42");

    /* The MAC is locally administered and depends only on the network set. */
    assert_int_equal(f->b->get_mac(f->b, mac1), 0);
    assert_int_equal(mac1[0], 0x02);
    memset(&cfg, 0, sizeof(cfg));
    cfg.event = f->e;
    assert_int_equal(wifiprov_backend_sim_new(&cfg, &other), 0);
    assert_int_equal(other->get_mac(other, mac2), 0);
    assert_memory_equal(mac1, mac2, 6);
    wifiprov_backend_free(other);
    cfg.sim_config = write_file(f, NETS);
    assert_int_equal(wifiprov_backend_sim_new(&cfg, &other), 0);
    assert_int_equal(other->get_mac(other, mac2), 0);
    assert_memory_not_equal(mac1, mac2, 6);
    wifiprov_backend_free(other);
}

static void example_file(void **state)
{
    struct fx *f = *state;

    assert_int_equal(new_sim(f, WIFIPROV_SOURCE_DIR "/examples/sim-networks.json", 10), 0);
    assert_int_equal(f->b->ops->scan_start(f->b->ctx, &(struct wifiprov_scan_opts){0}), 0);
    run_until(f, 0, 1, 2000);
    assert_true(f->rec.n_aps >= 3);
}

/* ---- the manager on top of the sim ----------------------------------- */

static uint64_t loop_clock(void *ctx)
{
    return mono_ms();
}

static void on_wake(void *ctx, uint32_t sid)
{
    (*(int *)ctx)++;
}

static void with_manager(void **state)
{
    struct fx *f = *state;
    struct wifiprov_device *dev = NULL;
    struct wifiprov_device_config dc;
    struct wifiprov_prov_config pc;
    uint8_t out[WIFIPROV_REPLY_CAP];
    size_t out_len, n;
    int wakes = 0;
    uint8_t *req;
    /* SetConfig "Home" / "correct-horse", then the wrong one */
    static const char *set_ok = "080262150a04486f6d65120d636f72726563742d686f727365";
    static const char *set_bad = "080262150a04486f6d65120d636f72726563742d686f727345";

    memset(&dc, 0, sizeof(dc));
    dc.security = WIFIPROV_SECURITY_0;
    dc.wake_fn = on_wake;
    dc.wake_ctx = &wakes;
    assert_int_equal(wifiprov_device_new(&dc, &dev), 0);
    assert_int_equal(wifiprov_device_session_open(dev, 7), 0);
    assert_int_equal(new_sim(f, write_file(f, NETS), 20), 0);
    memset(&pc, 0, sizeof(pc));
    pc.device = dev;
    pc.wifi = f->b->ops;
    pc.wifi_ctx = f->b->ctx;
    pc.clock_fn = loop_clock;
    pc.no_auto_stop = true;
    assert_int_equal(wifiprov_prov_new(&pc, &f->rec.prov), 0);
    assert_int_equal(wifiprov_prov_start(f->rec.prov), 0);

    /* blocking scan: pending until the sim finished */
    req = test_hex("520408012078", &n);
    assert_int_equal(wifiprov_device_handle(dev, 7, WIFIPROV_EP_SCAN, req, n, out, sizeof(out), &out_len),
                     WIFIPROV_ERR_PENDING);
    free(req);
    run_until(f, 0, 1, 2000);
    assert_int_equal(wakes, 1);
    assert_int_equal(wifiprov_device_resume(dev, 7, out, sizeof(out), &out_len), 0);
    assert_int_equal(out_len, 4);
    assert_memory_equal(out, "\x08\x01\x5a\x00", 4);
    req = test_hex("0802", &n);
    assert_int_equal(wifiprov_device_handle(dev, 7, WIFIPROV_EP_SCAN, req, n, out, sizeof(out), &out_len), 0);
    free(req);
    assert_memory_equal(out, "\x08\x03\x6a\x04\x08\x01\x10\x04", 8);

    /* wrong passphrase: fails with AuthError, Reset, right one: connected */
    req = test_hex(set_bad, &n);
    assert_int_equal(wifiprov_device_handle(dev, 7, WIFIPROV_EP_CONFIG, req, n, out, sizeof(out), &out_len), 0);
    free(req);
    req = test_hex("0804", &n);
    assert_int_equal(wifiprov_device_handle(dev, 7, WIFIPROV_EP_CONFIG, req, n, out, sizeof(out), &out_len), 0);
    free(req);
    run_until(f, 2, 0, 2000);
    assert_int_equal(wifiprov_prov_get_state(f->rec.prov), WIFIPROV_PROV_STATE_FAIL);
    req = test_hex("0801", &n);
    assert_int_equal(wifiprov_device_handle(dev, 7, WIFIPROV_EP_CTRL, req, n, out, sizeof(out), &out_len), 0);
    free(req);
    assert_memory_equal(out, "\x08\x02\x62\x00", 4);
    req = test_hex(set_ok, &n);
    assert_int_equal(wifiprov_device_handle(dev, 7, WIFIPROV_EP_CONFIG, req, n, out, sizeof(out), &out_len), 0);
    free(req);
    req = test_hex("0804", &n);
    assert_int_equal(wifiprov_device_handle(dev, 7, WIFIPROV_EP_CONFIG, req, n, out, sizeof(out), &out_len), 0);
    free(req);
    run_until(f, 4, 0, 2000);
    assert_int_equal(wifiprov_prov_get_state(f->rec.prov), WIFIPROV_PROV_STATE_SUCCESS);
    req = test_hex("5200", &n);
    assert_int_equal(wifiprov_device_handle(dev, 7, WIFIPROV_EP_CONFIG, req, n, out, sizeof(out), &out_len), 0);
    free(req);
    /* Connected{ip4 "10.1.2.3", auth 3, ssid "Home", bssid, channel 6} */
    {
        size_t want_len;
        uint8_t *want = test_hex("08015a1e5a1c0a0831302e312e322e3310031a04486f6d652206aabbccddee012806", &want_len);

        assert_int_equal(out_len, want_len);
        assert_memory_equal(out, want, want_len);
        free(want);
    }
    wifiprov_prov_free(f->rec.prov);
    f->rec.prov = NULL;
    wifiprov_device_free(dev);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(file_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(file_scan, setup, teardown),
        cmocka_unit_test_setup_teardown(hidden_network, setup, teardown),
        cmocka_unit_test_setup_teardown(connect_right_passphrase, setup, teardown),
        cmocka_unit_test_setup_teardown(connect_wrong_passphrase, setup, teardown),
        cmocka_unit_test_setup_teardown(connect_unknown_ssid, setup, teardown),
        cmocka_unit_test_setup_teardown(connect_open_and_enterprise, setup, teardown),
        cmocka_unit_test_setup_teardown(disconnect_cancels, setup, teardown),
        cmocka_unit_test_setup_teardown(connect_saved, setup, teardown),
        cmocka_unit_test_setup_teardown(demo_set, setup, teardown),
        cmocka_unit_test_setup_teardown(example_file, setup, teardown),
        cmocka_unit_test_setup_teardown(with_manager, setup, teardown),
    };

    return TEST_RUN("sim", tests, argc, argv);
}
