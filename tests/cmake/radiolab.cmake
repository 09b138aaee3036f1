# Real Wi-Fi backends (NetworkManager, wpa_supplicant, auto) and the virtual radio lab.
#
# The backends are also built into wifiprov_linux (src/wifi/*.c) for the daemon; the lab's
# driver and the unit tests link a library of just these files, so they build even while
# other Linux-only parts are in flux.
pkg_check_modules(RADIOLAB_SYSTEMD IMPORTED_TARGET libsystemd)
find_library(RADIOLAB_WPA_CLIENT_LIB wpa_client)
if(NOT RADIOLAB_SYSTEMD_FOUND OR NOT RADIOLAB_WPA_CLIENT_LIB)
  message(STATUS "Wi-Fi backend tests and the lab driver skipped: need libsystemd and libwpa_client "
                 "(scripts/install-deps.sh)")
  return()
endif()
# Every file of src/wifi (the backends are split into several files each).
file(GLOB WIFIPROV_BACKEND_SRCS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/src/wifi/*.c)
add_library(wifiprov_wifi_backends STATIC ${WIFIPROV_BACKEND_SRCS})
target_compile_definitions(wifiprov_wifi_backends PRIVATE _GNU_SOURCE)
target_link_libraries(wifiprov_wifi_backends PUBLIC wifiprov_internal PkgConfig::RADIOLAB_SYSTEMD
                      ${RADIOLAB_WPA_CLIENT_LIB})

# The lab's backend driver (run inside the qemu guest by tests/radiolab/run.sh).
add_executable(wifiprov_lab_driver ${CMAKE_SOURCE_DIR}/tests/radiolab/backend_driver.c)
target_link_libraries(wifiprov_lab_driver PRIVATE wifiprov_wifi_backends)

# Parsing and mapping helpers of the backends (no radio needed).
wifiprov_unit_test(test_wifiutil
  SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_wifiutil.c
  LIBS wifiprov_wifi_backends
  CASES freq_to_channel auth_from_wpa_flags auth_from_nm auth_from_key_mgmt nm_strength
        ssid_unescape parse_mac scan_line scan_results bss add_ap kv)

# The lab itself is not a ctest entry: a plain `ctest` would boot a VM for minutes.
# scripts/test.sh runs tests/radiolab/run.sh <build dir> as its own step.

# The NetworkManager backend against a scripted NetworkManager on a private D-Bus bus
# (python3-dbus + GLib): failure mapping, profile deletion and saving, without a radio.
if(TARGET wifiprovd)
  set(WIFIPROV_NM_FAKE_DAEMON $<TARGET_FILE:wifiprovd>)
endif()
add_test(NAME wifi_nm_fake COMMAND ${CMAKE_SOURCE_DIR}/tests/radiolab/test_nm_fake.sh
                                   $<TARGET_FILE:wifiprov_lab_driver> ${WIFIPROV_NM_FAKE_DAEMON})
set_tests_properties(wifi_nm_fake PROPERTIES LABELS integration TIMEOUT 120 SKIP_RETURN_CODE 77)

# The wpa_supplicant backend against a scripted control socket (python3 only).
add_test(NAME wifi_wpa_fake COMMAND ${CMAKE_SOURCE_DIR}/tests/radiolab/test_wpa_fake.sh
                                    $<TARGET_FILE:wifiprov_lab_driver>)
set_tests_properties(wifi_wpa_fake PROPERTIES LABELS integration TIMEOUT 120)

# The same with the client sockets in $RUNTIME_DIRECTORY, as under the unit's RuntimeDirectory=
# (so the service can use PrivateTmp=yes).
file(MAKE_DIRECTORY ${CMAKE_BINARY_DIR}/wpa-runtime-dir)
add_test(NAME wifi_wpa_fake_runtime_dir COMMAND ${CMAKE_SOURCE_DIR}/tests/radiolab/test_wpa_fake.sh
                                                $<TARGET_FILE:wifiprov_lab_driver>)
set_tests_properties(wifi_wpa_fake_runtime_dir PROPERTIES LABELS integration TIMEOUT 120
                     ENVIRONMENT RUNTIME_DIRECTORY=${CMAKE_BINARY_DIR}/wpa-runtime-dir)

# The real daemon with a supplicant that answers ATTACH late: the event loop goes on (HTTP
# answers), the unanswered ATTACH times out and the reopened socket attaches.
if(TARGET wifiprovd AND TARGET wifiprov_cli)
  add_test(NAME wifi_wpa_fake_attach COMMAND ${CMAKE_SOURCE_DIR}/tests/radiolab/test_wpa_fake_attach.sh
                                             $<TARGET_FILE:wifiprovd> $<TARGET_FILE:wifiprov_cli>)
  set_tests_properties(wifi_wpa_fake_attach PROPERTIES LABELS integration TIMEOUT 120)
endif()

# libFuzzer target for the wpa_supplicant reply parsers; the ctest entry replays the seeds.
if(WIFIPROV_FUZZ)
  wifiprov_fuzz_target(fuzz_wpa SOURCES ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_wpa.c LIBS wifiprov_wifi_backends)
endif()
