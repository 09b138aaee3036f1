/*
 * SoftAP through NetworkManager (the networkmanager backend).
 *
 * The access point is an AP-mode 802-11-wireless connection "wifiprovd-softap", added with
 * AddAndActivateConnection2 and persist=volatile: NM keeps it in memory only and deletes it
 * when it is deactivated, so it never reaches the disk. It is tagged with user-data
 * wifiprov.owner=wifiprovd and wifiprov.role=softap, and the sweep at start deletes any
 * connection with both tags.
 *
 * IPv4 is NM's "shared" method with 192.168.4.1/24: NM runs a dnsmasq of its own on the
 * interface for DHCP (its range in the /24) and DNS. That dnsmasq has no upstream servers
 * and answers only what it knows, so for a captive portal the daemon writes the drop-in
 * WIFIPROVD_AP_NM_DNSMASQ_DIR/WIFIPROVD_AP_NM_DROPIN (address=/#/192.168.4.1), which NM's
 * dnsmasq reads through its --conf-dir when the connection is activated. The file starts
 * with WIFIPROVD_AP_NM_DROPIN_MARK; it is removed when the AP goes down, and the sweep at
 * start removes a file with that first line. NM's shared method also turns on IPv4
 * forwarding (the global net.ipv4.ip_forward) and masquerading for 192.168.4.0/24; NM
 * removes its masquerading when the AP is deactivated but leaves ip_forward at 1, so the
 * daemon records the value from before in the runtime directory ("ip_forward") and puts it
 * back when the AP goes down, or at the next start after a crash.
 *
 * NM is watched by polling the active connection's State (every 200 ms until it is
 * activated, then every second): few calls, and nothing is missed between a reply and a
 * signal match.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-bus.h>

#include "ap.h"
#include "wifi/nm.h"
#include "wifi/nm_dbus.h"
#include "wifiprovd.h"

#define NM_SETTINGS_PATH NM_PATH "/Settings"
#define NM_SETTINGS NM_IFACE ".Settings"
#define NM_ACTIVE NM_IFACE ".Connection.Active"
#define CONN_ID "wifiprovd-softap"

#define NM_DEVICE_STATE_UNMANAGED 10u
#define NM_DEVICE_STATE_DISCONNECTED 30u
#define NM_ACTIVE_ACTIVATED 2u
#define NM_ACTIVE_DEACTIVATING 3u
#define NM_ACTIVE_DEACTIVATED 4u

#define POLL_MS 200u
#define WATCH_MS 1000u
/* A new interface is managed once udev has initialised it: seconds under load. */
#define DEVICE_TIMEOUT_MS 60000u
#define ACTIVATE_TIMEOUT_MS 40000u

enum nm_ap_state {
    NM_AP_IDLE,
    NM_AP_DEVICE,     /* waiting for NM to manage the interface */
    NM_AP_ACTIVATING, /* AddAndActivateConnection2 done, waiting for "activated" */
    NM_AP_ACTIVE,
};

static const char *nm_ap_state_to_string(enum nm_ap_state s)
{
    switch (s) {
    case NM_AP_IDLE:
        return "idle";
    case NM_AP_DEVICE:
        return "device";
    case NM_AP_ACTIVATING:
        return "activating";
    case NM_AP_ACTIVE:
        return "active";
    }
    return "?";
}

struct nm_ap {
    sd_bus *bus;
    sd_event_source *timer;
    enum nm_ap_state state;
    unsigned waited_ms;
    char *dev_path;
    char *conn_path;
    char *active_path;
    bool managed_asked;
};

static void enter_state(struct nm_ap *n, enum nm_ap_state s)
{
    if (n->state != s)
        wd_dbg("SoftAP: networkmanager: %s -> %s", nm_ap_state_to_string(n->state), nm_ap_state_to_string(s));
    n->state = s;
}

static int set_path(char **dst, const char *src)
{
    free(*dst);
    *dst = src ? strdup(src) : NULL;
    return src && !*dst ? -1 : 0;
}

static struct nm_ap *impl(struct wifiprovd_ap *ap)
{
    struct nm_ap *n = ap->impl;
    int r;

    if (n)
        return n;
    n = calloc(1, sizeof(*n));
    if (!n)
        return NULL;
    r = sd_bus_open_system(&n->bus);
    if (r >= 0)
        r = sd_bus_attach_event(n->bus, ap->cfg.event, 0);
    if (r < 0) {
        wd_err("SoftAP: cannot reach NetworkManager on the system bus: %s", strerror(-r));
        sd_bus_unref(n->bus);
        free(n);
        return NULL;
    }
    ap->impl = n;
    return n;
}

/* ---- the dnsmasq drop-in ------------------------------------------------------------ */

static void dropin_path(char *path, size_t cap)
{
    snprintf(path, cap, "%s/%s", WIFIPROVD_AP_NM_DNSMASQ_DIR, WIFIPROVD_AP_NM_DROPIN);
}

/* Is the drop-in there with our first line? (A file of the same name somebody else wrote stays.) */
static bool dropin_is_ours(const char *path)
{
    char buf[sizeof(WIFIPROVD_AP_NM_DROPIN_MARK)];
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    ssize_t n;

    if (fd < 0)
        return false;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n != (ssize_t)sizeof(buf) - 1)
        return false;
    buf[n] = '\0';
    return strcmp(buf, WIFIPROVD_AP_NM_DROPIN_MARK) == 0;
}

static void dropin_remove(bool sweeping)
{
    char path[256];

    dropin_path(path, sizeof(path));
    if (!dropin_is_ours(path))
        return;
    if (sweeping)
        wd_info("SoftAP: removing %s left by an earlier run", path);
    if (unlink(path) < 0 && errno != ENOENT)
        wd_warn("SoftAP: cannot remove %s: %s", path, strerror(errno));
}

/* Written before the connection is activated: NM's dnsmasq reads it when it starts. */
static int dropin_write(void)
{
    static const char text[] = WIFIPROVD_AP_NM_DROPIN_MARK
        " access point is up; removed when it stops.\n"
        "# NetworkManager's dnsmasq for shared connections reads this directory: every name is\n"
        "# answered with the access point's address, as a captive portal.\n"
        "address=/#/" WIFIPROVD_AP_ADDRESS "\n";
    char path[256], tmp[272];
    int fd, ret = -1;

    dropin_path(path, sizeof(path));
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    unlink(tmp);
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0)
        goto out;
    if (write(fd, text, sizeof(text) - 1) == (ssize_t)sizeof(text) - 1 && close(fd) == 0) {
        fd = -1;
        ret = rename(tmp, path);
    }
out:
    if (ret < 0) {
        wd_err("SoftAP: cannot write %s (NetworkManager's dnsmasq would not answer every name with %s): %s", path,
               WIFIPROVD_AP_ADDRESS, strerror(errno));
        if (fd >= 0)
            close(fd);
        unlink(tmp);
    }
    return ret;
}

/* ---- IPv4 forwarding --------------------------------------------------------------- */

#define IP_FORWARD "/proc/sys/net/ipv4/ip_forward"
#define FORWARD_FILE "ip_forward"

/* Before the first activation: the value NM's shared mode is about to change. */
static void forward_record(struct wifiprovd_ap *ap)
{
    char path[320], val[16];

    wifiprovd__ap_path(ap, FORWARD_FILE, path, sizeof(path));
    if (access(path, F_OK) == 0)
        return;
    if (wifiprovd__ap_read_file(IP_FORWARD, val, sizeof(val)) < 0) {
        wd_warn("SoftAP: cannot read %s (%s); it will not be put back after the access point", IP_FORWARD,
                strerror(errno));
        return;
    }
    wifiprovd__ap_write_file(ap, FORWARD_FILE, val, path, sizeof(path));
}

static void forward_restore(struct wifiprovd_ap *ap, bool sweeping)
{
    char path[320], was[16], cur[16];
    int fd;

    wifiprovd__ap_path(ap, FORWARD_FILE, path, sizeof(path));
    if (wifiprovd__ap_read_file(path, was, sizeof(was)) < 0)
        return;
    if ((!strcmp(was, "0") || !strcmp(was, "1")) && wifiprovd__ap_read_file(IP_FORWARD, cur, sizeof(cur)) == 0 &&
        strcmp(cur, was) != 0) {
        fd = open(IP_FORWARD, O_WRONLY | O_CLOEXEC);
        if (fd >= 0 && write(fd, was, 1) == 1)
            wd_info("SoftAP: IPv4 forwarding set back to %s%s", was,
                    sweeping ? " (an earlier run's access point had turned it on)" : "");
        else
            wd_warn("SoftAP: cannot set %s back to %s: %s", IP_FORWARD, was, strerror(errno));
        if (fd >= 0)
            close(fd);
    }
    unlink(path);
}

/* ---- the sweep -------------------------------------------------------------------- */

struct tags {
    bool owner, role;
};

static int user_data(struct tags *t, sd_bus_message *m)
{
    const char *k, *v;
    int r;

    if ((r = sd_bus_message_enter_container(m, 'v', "a{ss}")) < 0 ||
        (r = sd_bus_message_enter_container(m, 'a', "{ss}")) < 0)
        return r;
    while ((r = sd_bus_message_read(m, "{ss}", &k, &v)) > 0) {
        if (!strcmp(k, WIFIPROVD_AP_OWNER_KEY) && !strcmp(v, WIFIPROVD_AP_OWNER_VALUE))
            t->owner = true;
        if (!strcmp(k, WIFIPROVD_AP_ROLE_KEY) && !strcmp(v, WIFIPROVD_AP_ROLE_VALUE))
            t->role = true;
    }
    if (r < 0 || (r = sd_bus_message_exit_container(m)) < 0)
        return r;
    return sd_bus_message_exit_container(m);
}

static int user_prop(void *ud, const char *name, sd_bus_message *m)
{
    return strcmp(name, "data") == 0 ? user_data(ud, m) : 1;
}

/* Does the connection at @p path carry both of our tags? */
static bool is_ours(struct nm_ap *n, const char *path)
{
    sd_bus_error e = SD_BUS_ERROR_NULL;
    sd_bus_message *reply = NULL;
    struct tags t = {false, false};
    const char *setting;
    int r;

    r = sd_bus_call_method(n->bus, NM_BUS, path, NM_CONN, "GetSettings", &e, &reply, "");
    if (r < 0)
        goto out;
    if ((r = sd_bus_message_enter_container(reply, 'a', "{sa{sv}}")) < 0)
        goto out;
    while ((r = sd_bus_message_enter_container(reply, 'e', "sa{sv}")) > 0) {
        if ((r = sd_bus_message_read(reply, "s", &setting)) < 0)
            goto out;
        if (!strcmp(setting, "user"))
            r = wifiprov__nm_props_each(reply, user_prop, &t);
        else
            r = sd_bus_message_skip(reply, "a{sv}");
        if (r < 0 || (r = sd_bus_message_exit_container(reply)) < 0)
            goto out;
    }
out:
    sd_bus_error_free(&e);
    sd_bus_message_unref(reply);
    return t.owner && t.role;
}

static int sweep(struct wifiprovd_ap *ap)
{
    struct nm_ap *n = impl(ap);
    sd_bus_error e = SD_BUS_ERROR_NULL;
    sd_bus_message *reply = NULL;
    char **paths = NULL;
    size_t np = 0;
    const char *p;
    int r;

    if (!n)
        return -1;
    r = sd_bus_call_method(n->bus, NM_BUS, NM_SETTINGS_PATH, NM_SETTINGS, "ListConnections", &e, &reply, "");
    if (r < 0) {
        wd_err("SoftAP: NetworkManager: ListConnections: %s", e.message ? e.message : strerror(-r));
        goto out;
    }
    if ((r = sd_bus_message_enter_container(reply, 'a', "o")) < 0)
        goto out;
    while ((r = sd_bus_message_read(reply, "o", &p)) > 0) {
        char **grown = realloc(paths, (np + 1) * sizeof(*paths));
        if (!grown || !(grown[np] = strdup(p))) {
            paths = grown ? grown : paths;
            r = -ENOMEM;
            goto out;
        }
        paths = grown;
        np++;
    }
    for (size_t i = 0; i < np; i++) {
        if (!is_ours(n, paths[i]))
            continue;
        wd_info("SoftAP: deleting NetworkManager connection %s left by an earlier run", paths[i]);
        sd_bus_error_free(&e);
        if (sd_bus_call_method(n->bus, NM_BUS, paths[i], NM_CONN, "Delete", &e, NULL, "") < 0)
            wd_warn("SoftAP: cannot delete %s: %s", paths[i], e.message ? e.message : "?");
    }
    dropin_remove(true);
    forward_restore(ap, true);
    r = 0;
out:
    for (size_t i = 0; i < np; i++)
        free(paths[i]);
    free(paths);
    sd_bus_error_free(&e);
    sd_bus_message_unref(reply);
    return r < 0 ? -1 : 0;
}

/* ---- bringing it up --------------------------------------------------------------- */

/* The MAC goes in "assigned-mac-address" (a string); "cloned-mac-address" is its older "ay" form, and a
 * value of the wrong type makes NM drop the whole 802-11-wireless setting. */
static int build_settings(struct wifiprovd_ap *ap, sd_bus_message *m)
{
    char mac[18];
    int r;

    wifiprovd__ap_mac_text(ap->mac, mac);
    if ((r = sd_bus_message_open_container(m, 'a', "{sa{sv}}")) < 0)
        return r;
    if ((r = wifiprov__nm_open_setting(m, "connection")) < 0 ||
        (r = wifiprov__nm_append_sv(m, "id", "s", CONN_ID)) < 0 ||
        (r = wifiprov__nm_append_sv(m, "type", "s", "802-11-wireless")) < 0 ||
        (r = wifiprov__nm_append_sv(m, "interface-name", "s", ap->ifname)) < 0 ||
        (r = wifiprov__nm_append_sv(m, "autoconnect", "b", 0)) < 0 || (r = wifiprov__nm_close_setting(m)) < 0)
        return r;
    if ((r = wifiprov__nm_open_setting(m, "802-11-wireless")) < 0 ||
        (r = sd_bus_message_open_container(m, 'e', "sv")) < 0 || (r = sd_bus_message_append(m, "s", "ssid")) < 0 ||
        (r = sd_bus_message_open_container(m, 'v', "ay")) < 0 ||
        (r = sd_bus_message_append_array(m, 'y', ap->cfg.ssid, strlen(ap->cfg.ssid))) < 0 ||
        (r = sd_bus_message_close_container(m)) < 0 || (r = sd_bus_message_close_container(m)) < 0 ||
        (r = wifiprov__nm_append_sv(m, "mode", "s", "ap")) < 0 ||
        (r = wifiprov__nm_append_sv(m, "band", "s", ap->channel > 14 ? "a" : "bg")) < 0 ||
        (r = wifiprov__nm_append_sv(m, "channel", "u", (uint32_t)ap->channel)) < 0 ||
        (r = wifiprov__nm_append_sv(m, "assigned-mac-address", "s", ap->created_if ? mac : "preserve")) < 0 ||
        (r = wifiprov__nm_close_setting(m)) < 0)
        return r;
    if (ap->cfg.passphrase) {
        if ((r = wifiprov__nm_open_setting(m, "802-11-wireless-security")) < 0 ||
            (r = wifiprov__nm_append_sv(m, "key-mgmt", "s", "wpa-psk")) < 0 ||
            (r = wifiprov__nm_append_sv(m, "proto", "as", 1, "rsn")) < 0 ||
            (r = wifiprov__nm_append_sv(m, "pairwise", "as", 1, "ccmp")) < 0 ||
            (r = wifiprov__nm_append_sv(m, "group", "as", 1, "ccmp")) < 0 ||
            (r = wifiprov__nm_append_sv(m, "psk", "s", ap->cfg.passphrase)) < 0 ||
            (r = wifiprov__nm_close_setting(m)) < 0)
            return r;
    }
    if ((r = wifiprov__nm_open_setting(m, "ipv4")) < 0 ||
        (r = wifiprov__nm_append_sv(m, "method", "s", "shared")) < 0 ||
        (r = sd_bus_message_open_container(m, 'e', "sv")) < 0 ||
        (r = sd_bus_message_append(m, "s", "address-data")) < 0 ||
        (r = sd_bus_message_open_container(m, 'v', "aa{sv}")) < 0 ||
        (r = sd_bus_message_append(m, "aa{sv}", 1, 2, "address", "s", WIFIPROVD_AP_ADDRESS, "prefix", "u",
                                   (uint32_t)WIFIPROVD_AP_PREFIX)) < 0 ||
        (r = sd_bus_message_close_container(m)) < 0 || (r = sd_bus_message_close_container(m)) < 0 ||
        (r = wifiprov__nm_close_setting(m)) < 0)
        return r;
    if ((r = wifiprov__nm_open_setting(m, "ipv6")) < 0 ||
        (r = wifiprov__nm_append_sv(m, "method", "s", "ignore")) < 0 || (r = wifiprov__nm_close_setting(m)) < 0)
        return r;
    if ((r = wifiprov__nm_open_setting(m, "user")) < 0 || (r = sd_bus_message_open_container(m, 'e', "sv")) < 0 ||
        (r = sd_bus_message_append(m, "s", "data")) < 0 || (r = sd_bus_message_open_container(m, 'v', "a{ss}")) < 0 ||
        (r = sd_bus_message_append(m, "a{ss}", 2, WIFIPROVD_AP_OWNER_KEY, WIFIPROVD_AP_OWNER_VALUE,
                                   WIFIPROVD_AP_ROLE_KEY, WIFIPROVD_AP_ROLE_VALUE)) < 0 ||
        (r = sd_bus_message_close_container(m)) < 0 || (r = sd_bus_message_close_container(m)) < 0 ||
        (r = wifiprov__nm_close_setting(m)) < 0)
        return r;
    return sd_bus_message_close_container(m);
}

static int add_and_activate(struct wifiprovd_ap *ap, struct nm_ap *n)
{
    sd_bus_error e = SD_BUS_ERROR_NULL;
    sd_bus_message *m = NULL, *reply = NULL;
    const char *conn, *active;
    int r;

    r = sd_bus_message_new_method_call(n->bus, &m, NM_BUS, NM_PATH, NM_IFACE, "AddAndActivateConnection2");
    if (r >= 0)
        r = sd_bus_message_sensitive(m); /* carries the passphrase: wiped when freed */
    if (r >= 0)
        r = build_settings(ap, m);
    if (r >= 0)
        r = sd_bus_message_append(m, "oo", n->dev_path, "/");
    if (r >= 0)
        r = sd_bus_message_append(m, "a{sv}", 1, "persist", "s", "volatile");
    if (r < 0) {
        wd_err("SoftAP: cannot build the NetworkManager connection: %s", strerror(-r));
        goto out;
    }
    r = sd_bus_call(n->bus, m, 0, &e, &reply);
    if (r < 0) {
        wd_err("SoftAP: NetworkManager refused the access point: %s", e.message ? e.message : strerror(-r));
        goto out;
    }
    r = sd_bus_message_read(reply, "oo", &conn, &active);
    if (r >= 0 && (set_path(&n->conn_path, conn) < 0 || set_path(&n->active_path, active) < 0))
        r = -ENOMEM;
out:
    sd_bus_error_free(&e);
    sd_bus_message_unref(m);
    sd_bus_message_unref(reply);
    return r < 0 ? -1 : 0;
}

static uint32_t get_u32(struct nm_ap *n, const char *path, const char *iface, const char *prop, bool *ok)
{
    sd_bus_error e = SD_BUS_ERROR_NULL;
    uint32_t v = 0;

    *ok = sd_bus_get_property_trivial(n->bus, NM_BUS, path, iface, prop, &e, 'u', &v) >= 0;
    sd_bus_error_free(&e);
    return v;
}

/* @return 1 the device is ready for our connection, 0 not yet. */
static int device_ready(struct wifiprovd_ap *ap, struct nm_ap *n)
{
    sd_bus_error e = SD_BUS_ERROR_NULL;
    sd_bus_message *reply = NULL;
    const char *path;
    uint32_t st;
    bool ok;

    if (!n->dev_path) {
        if (sd_bus_call_method(n->bus, NM_BUS, NM_PATH, NM_IFACE, "GetDeviceByIpIface", &e, &reply, "s", ap->ifname) <
                0 ||
            sd_bus_message_read(reply, "o", &path) < 0 || set_path(&n->dev_path, path) < 0) {
            sd_bus_error_free(&e);
            sd_bus_message_unref(reply);
            return 0;
        }
        sd_bus_message_unref(reply);
    }
    st = get_u32(n, n->dev_path, NM_DEV, "State", &ok);
    if (ok && st == NM_DEVICE_STATE_UNMANAGED && !n->managed_asked) {
        /* A new interface may start unmanaged; we made it for NM to run the AP on. */
        n->managed_asked = true;
        if (sd_bus_set_property(n->bus, NM_BUS, n->dev_path, NM_DEV, "Managed", &e, "b", 1) < 0)
            wd_warn("SoftAP: cannot make NetworkManager manage %s: %s", ap->ifname, e.message ? e.message : "?");
        sd_bus_error_free(&e);
    }
    return ok && st >= NM_DEVICE_STATE_DISCONNECTED;
}

static void rearm(struct nm_ap *n, unsigned ms)
{
    sd_event_source_set_time_relative(n->timer, (uint64_t)ms * 1000u);
    sd_event_source_set_enabled(n->timer, SD_EVENT_ONESHOT);
}

static void fail(struct wifiprovd_ap *ap, struct nm_ap *n, const char *what)
{
    sd_event_source_set_enabled(n->timer, SD_EVENT_OFF);
    enter_state(n, NM_AP_IDLE);
    ap->radio = false;
    ap->ready = false;
    wifiprovd__ap_report(ap, WIFIPROVD_AP_EVENT_FAILED, what);
}

static int on_timer(sd_event_source *s, uint64_t usec, void *ud)
{
    struct wifiprovd_ap *ap = ud;
    struct nm_ap *n = ap->impl;
    uint32_t st;
    bool ok;

    (void)s;
    (void)usec;
    switch (n->state) {
    case NM_AP_IDLE:
        return 0;
    case NM_AP_DEVICE:
        if (device_ready(ap, n)) {
            if (dropin_write() < 0) {
                fail(ap, n, "cannot set up DNS for the access point");
                return 0;
            }
            forward_record(ap);
            if (add_and_activate(ap, n) < 0) {
                fail(ap, n, "NetworkManager did not take the access point connection");
                return 0;
            }
            n->waited_ms = 0;
            enter_state(n, NM_AP_ACTIVATING);
        } else if ((n->waited_ms += POLL_MS) >= DEVICE_TIMEOUT_MS) {
            fail(ap, n,
                 "NetworkManager does not manage the access point interface (is it unmanaged in its "
                 "configuration?)");
            return 0;
        }
        rearm(n, POLL_MS);
        return 0;
    case NM_AP_ACTIVATING:
        st = get_u32(n, n->active_path, NM_ACTIVE, "State", &ok);
        if (ok && st == NM_ACTIVE_ACTIVATED) {
            enter_state(n, NM_AP_ACTIVE);
            wifiprovd__ap_report(ap, WIFIPROVD_AP_EVENT_READY, NULL);
            rearm(n, WATCH_MS);
            return 0;
        }
        if (!ok || st >= NM_ACTIVE_DEACTIVATING) {
            fail(ap, n, "NetworkManager could not activate the access point (see its log)");
            return 0;
        }
        if ((n->waited_ms += POLL_MS) >= ACTIVATE_TIMEOUT_MS) {
            fail(ap, n, "NetworkManager did not activate the access point in 40 s");
            return 0;
        }
        rearm(n, POLL_MS);
        return 0;
    case NM_AP_ACTIVE:
        st = get_u32(n, n->active_path, NM_ACTIVE, "State", &ok);
        if (!ok || st != NM_ACTIVE_ACTIVATED) {
            fail(ap, n, "NetworkManager took the access point down");
            return 0;
        }
        rearm(n, WATCH_MS);
        return 0;
    }
    return 0;
}

static int radio_up(struct wifiprovd_ap *ap)
{
    struct nm_ap *n = impl(ap);
    int r;

    if (!n)
        return -1;
    if (!n->timer) {
        r = sd_event_add_time_relative(ap->cfg.event, &n->timer, CLOCK_MONOTONIC, 0, 10000, on_timer, ap);
        if (r < 0) {
            wd_err("SoftAP: sd-event: %s", strerror(-r));
            return -1;
        }
    }
    n->waited_ms = 0;
    n->managed_asked = false;
    enter_state(n, NM_AP_DEVICE);
    rearm(n, 0);
    return 0;
}

static void radio_down(struct wifiprovd_ap *ap)
{
    struct nm_ap *n = ap->impl;
    sd_bus_error e = SD_BUS_ERROR_NULL;

    if (!n)
        return;
    if (n->timer)
        sd_event_source_set_enabled(n->timer, SD_EVENT_OFF);
    enter_state(n, NM_AP_IDLE);
    /* NM's dnsmasq, the address, forwarding and NAT go with the connection. */
    if (n->active_path) {
        if (sd_bus_call_method(n->bus, NM_BUS, NM_PATH, NM_IFACE, "DeactivateConnection", &e, NULL, "o",
                               n->active_path) < 0)
            wd_dbg("SoftAP: DeactivateConnection: %s", e.message ? e.message : "?");
        sd_bus_error_free(&e);
    }
    /* Volatile: NM deletes it on deactivation; this is for the case it was never activated. */
    if (n->conn_path) {
        sd_bus_call_method(n->bus, NM_BUS, n->conn_path, NM_CONN, "Delete", &e, NULL, "");
        sd_bus_error_free(&e);
    }
    set_path(&n->active_path, NULL);
    set_path(&n->conn_path, NULL);
    set_path(&n->dev_path, NULL);
    dropin_remove(false);
    forward_restore(ap, false);
}

static void free_impl(struct wifiprovd_ap *ap)
{
    struct nm_ap *n = ap->impl;

    if (!n)
        return;
    n->timer = sd_event_source_disable_unref(n->timer);
    free(n->dev_path);
    free(n->conn_path);
    free(n->active_path);
    sd_bus_flush_close_unref(n->bus);
    free(n);
    ap->impl = NULL;
}

const struct wifiprovd_ap_ops wifiprovd_ap_nm_ops = {
    .name = "NetworkManager",
    .sweep = sweep,
    .radio_up = radio_up,
    .radio_down = radio_down,
    .free_impl = free_impl,
};
