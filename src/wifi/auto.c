/*
 * Picks the Wi-Fi backend for this machine: NetworkManager when it runs on the system
 * bus and manages the Wi-Fi interface (the named one), else wpa_supplicant's control
 * socket, else an error that says what is missing.
 */
#include <stdio.h>
#include <string.h>

#include "util.h"
#include "wifi/backend.h"
#include "wifi/wifiutil.h"

int wifiprov_backend_auto_new(const struct wifiprov_backend_config *cfg, struct wifiprov_backend **out)
{
    const char *dir;
    bool nm;
    int r;

    if (!cfg || !out)
        return WIFIPROV_ERR_INVAL;
    dir = cfg->wpa_ctrl_dir ? cfg->wpa_ctrl_dir : "/run/wpa_supplicant";
    nm = wifiprov__backend_nm_on_bus();
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
                  nm ? "NetworkManager manages no Wi-Fi device" : "NetworkManager is not on the system bus", dir,
                  cfg->ifname ? "/" : "", cfg->ifname ? cfg->ifname : "");
    return WIFIPROV_ERR_UNSUPPORTED;
}
