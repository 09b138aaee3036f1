/*
 * Picks the Wi-Fi backend for this machine: NetworkManager when it runs on the system
 * bus and manages the Wi-Fi interface (the named one), else wpa_supplicant's control
 * socket, else an error that says what is missing.
 */
#include <stdio.h>
#include <string.h>

#include <systemd/sd-bus.h>

#include "util.h"
#include "wifi/backend.h"
#include "wifi/wifiutil.h"

static bool nm_on_bus(void)
{
    sd_bus *bus = NULL;
    sd_bus_message *reply = NULL;
    int has = 0;

    if (sd_bus_open_system(&bus) < 0)
        return false;
    if (sd_bus_call_method(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                           "NameHasOwner", NULL, &reply, "s", "org.freedesktop.NetworkManager") < 0 ||
        sd_bus_message_read(reply, "b", &has) < 0)
        has = 0;
    sd_bus_message_unref(reply);
    sd_bus_flush_close_unref(bus);
    return has != 0;
}

int wifiprov_backend_auto_new(const struct wifiprov_backend_config *cfg, struct wifiprov_backend **out)
{
    const char *dir;
    bool nm;
    int r;

    if (!cfg || !out)
        return WIFIPROV_ERR_INVAL;
    dir = cfg->wpa_ctrl_dir ? cfg->wpa_ctrl_dir : "/run/wpa_supplicant";
    nm = nm_on_bus();
    if (nm) {
        r = wifiprov__backend_nm_open(cfg, true, out);
        if (r != WIFIPROV_ERR_UNSUPPORTED)
            return r;
        wifiprov__info("wifi: NetworkManager runs but does not manage %s; trying wpa_supplicant",
                       cfg->ifname ? cfg->ifname : "a Wi-Fi device");
    }
    r = wifiprov__backend_wpa_open(cfg, true, out);
    if (r != WIFIPROV_ERR_UNSUPPORTED)
        return r;
    wifiprov__err("wifi: no Wi-Fi backend found: %s, and no wpa_supplicant control socket %s%s%s; "
                  "start one of them, or use --wifi sim to simulate Wi-Fi",
                  nm ? "NetworkManager manages no Wi-Fi device" : "NetworkManager is not on the system bus",
                  dir, cfg->ifname ? "/" : "", cfg->ifname ? cfg->ifname : "");
    return WIFIPROV_ERR_UNSUPPORTED;
}
