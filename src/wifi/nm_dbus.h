/* sd-bus helpers that build NetworkManager connection settings (nm_dbus.c); the property readers
 * (wifiprov__nm_props_each, _read_variant) are in nm.h. */
#ifndef WIFIPROV_NM_DBUS_H
#define WIFIPROV_NM_DBUS_H

#include <systemd/sd-bus.h>

/* Appends one {sv} entry: @p key and a variant of @p sig with the value(s) that follow. */
int wifiprov__nm_append_sv(sd_bus_message *m, const char *key, const char *sig, ...);
/* Opens / closes one setting ({sa{sv}}) of a connection's settings (a{sa{sv}}). */
int wifiprov__nm_open_setting(sd_bus_message *m, const char *name);
int wifiprov__nm_close_setting(sd_bus_message *m);

#endif
