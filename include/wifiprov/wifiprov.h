/* libwifiprov: everything. */
#ifndef WIFIPROV_H
#define WIFIPROV_H

#include "wifiprov/client.h"
#include "wifiprov/common.h"
#include "wifiprov/device.h"
#include "wifiprov/error.h"
#include "wifiprov/prov.h"
#include "wifiprov/wifi.h"

#endif
