/*
 * Waiting for the service a Wi-Fi backend needs, when the daemon starts before it (a boot
 * race): NetworkManager appearing on the system bus (NameOwnerChanged), wpa_supplicant's
 * control socket appearing in its directory (checked every second: the directory itself may
 * not exist yet, which rules out a simple inotify watch).
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <systemd/sd-bus.h>

#include "util.h"
#include "wifi/backend.h"
#include "wifi/wifiutil.h"

#define NM_NAME "org.freedesktop.NetworkManager"
#define POLL_MS 1000u

struct wifiprov_backend_wait {
    sd_event *event;
    bool nm, wpa;
    char *ctrl_dir;
    char *ifname;
    void (*ready_fn)(void *ctx);
    void *ctx;
    sd_bus *bus;
    sd_bus_slot *match;
    sd_event_source *timer;
    sd_event_source *defer;
};

bool wifiprov__backend_nm_on_bus(void)
{
    sd_bus *bus = NULL;
    sd_bus_message *reply = NULL;
    int has = 0;

    if (sd_bus_open_system(&bus) < 0)
        return false;
    if (sd_bus_call_method(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "NameHasOwner",
                           NULL, &reply, "s", NM_NAME) < 0 ||
        sd_bus_message_read(reply, "b", &has) < 0)
        has = 0;
    sd_bus_message_unref(reply);
    sd_bus_flush_close_unref(bus);
    return has != 0;
}

bool wifiprov__backend_wpa_socket_present(const char *dir, const char *ifname)
{
    char path[512];
    struct stat st;
    char *found = NULL;
    bool present;

    if (!dir)
        dir = "/run/wpa_supplicant";
    if (ifname) {
        snprintf(path, sizeof(path), "%s/%s", dir, ifname);
        return stat(path, &st) == 0 && S_ISSOCK(st.st_mode);
    }
    /* Without a name: exactly the lookup the backend will make (quietly). */
    present = wifiprov__wpa_find_socket(dir, true, &found) != WIFIPROV_ERR_UNSUPPORTED;
    wifiprov__free(found);
    return present;
}

bool wifiprov_backend_service_present(const struct wifiprov_backend_config *cfg, bool nm, bool wpa)
{
    return (nm && wifiprov__backend_nm_on_bus()) ||
           (wpa && wifiprov__backend_wpa_socket_present(cfg->wpa_ctrl_dir, cfg->ifname));
}

static int fire(sd_event_source *s, void *userdata)
{
    struct wifiprov_backend_wait *w = userdata;

    (void)s;
    w->defer = sd_event_source_disable_unref(w->defer);
    w->timer = sd_event_source_disable_unref(w->timer);
    w->match = sd_bus_slot_unref(w->match);
    /* The handler may free the waiter. */
    w->ready_fn(w->ctx);
    return 0;
}

static void ready(struct wifiprov_backend_wait *w)
{
    if (!w->defer && sd_event_add_defer(w->event, &w->defer, fire, w) < 0)
        wifiprov__err("wifi: cannot schedule the start of the backend");
}

static int on_owner_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
    struct wifiprov_backend_wait *w = userdata;
    const char *name, *old_owner, *new_owner;

    (void)ret_error;
    if (sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) >= 0 && !strcmp(name, NM_NAME) && new_owner[0]) {
        wifiprov__info("wifi: NetworkManager appeared on the system bus");
        ready(w);
    }
    return 0;
}

static int on_poll(sd_event_source *s, uint64_t usec, void *userdata);

static int arm(struct wifiprov_backend_wait *w)
{
    return wifiprov__wifiutil_timer(w->event, &w->timer, POLL_MS, on_poll, w);
}

/* The bus itself may be missing at first (dbus starting too): the signal match is made once it is there. */
static void watch_bus(struct wifiprov_backend_wait *w)
{
    if (w->match || !w->nm)
        return;
    if (!w->bus && sd_bus_open_system(&w->bus) < 0)
        return;
    if (sd_bus_attach_event(w->bus, w->event, 0) < 0 ||
        sd_bus_match_signal(w->bus, &w->match, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                            "NameOwnerChanged", on_owner_changed, w) < 0) {
        w->bus = sd_bus_flush_close_unref(w->bus);
        w->match = NULL;
    }
}

static int on_poll(sd_event_source *s, uint64_t usec, void *userdata)
{
    struct wifiprov_backend_wait *w = userdata;

    (void)s;
    (void)usec;
    watch_bus(w);
    /* Polled too for NetworkManager: a name that appeared between the check and the match. */
    if ((w->nm && wifiprov__backend_nm_on_bus()) ||
        (w->wpa && wifiprov__backend_wpa_socket_present(w->ctrl_dir, w->ifname))) {
        if (w->wpa && !w->nm)
            wifiprov__info("wifi: the wpa_supplicant control socket appeared");
        ready(w);
        return 0;
    }
    if (arm(w))
        wifiprov__err("wifi: cannot arm the timer waiting for the Wi-Fi service");
    return 0;
}

static int dup_opt(char **dst, const char *src)
{
    if (!src)
        return 0;
    *dst = wifiprov__strdup(src);
    return *dst ? 0 : WIFIPROV_ERR_NOMEM;
}

int wifiprov_backend_wait_new(const struct wifiprov_backend_config *cfg, bool nm, bool wpa, void (*ready_fn)(void *ctx),
                              void *ctx, struct wifiprov_backend_wait **out)
{
    struct wifiprov_backend_wait *w;
    int r;

    if (!cfg || !cfg->event || !ready_fn || !out || (!nm && !wpa))
        return WIFIPROV_ERR_INVAL;
    *out = NULL;
    w = wifiprov__calloc(1, sizeof(*w));
    if (!w)
        return WIFIPROV_ERR_NOMEM;
    w->event = sd_event_ref(cfg->event);
    w->nm = nm;
    w->wpa = wpa;
    w->ready_fn = ready_fn;
    w->ctx = ctx;
    r = dup_opt(&w->ctrl_dir, cfg->wpa_ctrl_dir);
    if (r == 0)
        r = dup_opt(&w->ifname, cfg->ifname);
    if (r == 0) {
        watch_bus(w);
        r = arm(w);
    }
    if (r) {
        wifiprov_backend_wait_free(w);
        return r;
    }
    *out = w;
    return 0;
}

void wifiprov_backend_wait_free(struct wifiprov_backend_wait *w)
{
    if (!w)
        return;
    w->defer = sd_event_source_disable_unref(w->defer);
    w->timer = sd_event_source_disable_unref(w->timer);
    w->match = sd_bus_slot_unref(w->match);
    if (w->bus) {
        sd_bus_detach_event(w->bus);
        w->bus = sd_bus_flush_close_unref(w->bus);
    }
    sd_event_unref(w->event);
    wifiprov__free(w->ctrl_dir);
    wifiprov__free(w->ifname);
    wifiprov__free(w);
}
