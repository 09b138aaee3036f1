/*
 * sd-bus helpers that build NetworkManager connection settings (a{sa{sv}}). Used by the NetworkManager Wi-Fi backend and by
 * wifiprovd's NetworkManager access point.
 */
#include <stdarg.h>

#include "wifi/nm_dbus.h"

int wifiprov__nm_append_sv(sd_bus_message *m, const char *key, const char *sig, ...)
{
    va_list ap;
    int r;

    if ((r = sd_bus_message_open_container(m, 'e', "sv")) < 0 || (r = sd_bus_message_append(m, "s", key)) < 0 ||
        (r = sd_bus_message_open_container(m, 'v', sig)) < 0)
        return r;
    va_start(ap, sig);
    r = sd_bus_message_appendv(m, sig, ap);
    va_end(ap);
    if (r < 0)
        return r;
    if ((r = sd_bus_message_close_container(m)) < 0)
        return r;
    return sd_bus_message_close_container(m);
}

int wifiprov__nm_open_setting(sd_bus_message *m, const char *name)
{
    int r;

    if ((r = sd_bus_message_open_container(m, 'e', "sa{sv}")) < 0 || (r = sd_bus_message_append(m, "s", name)) < 0)
        return r;
    return sd_bus_message_open_container(m, 'a', "{sv}");
}

int wifiprov__nm_close_setting(sd_bus_message *m)
{
    int r = sd_bus_message_close_container(m);

    return r < 0 ? r : sd_bus_message_close_container(m);
}
