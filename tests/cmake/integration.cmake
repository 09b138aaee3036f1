# Integration tests: the real wifiprovd on loopback, driven by the library client over libcurl.
if(TARGET wifiprovd)
  pkg_check_modules(CURL REQUIRED IMPORTED_TARGET libcurl)
  set(WIFIPROV_INTEGRATION_CASES
    sec0_success sec1_success sec2_success sec2_verifier_file scan_paging scan_from_background custom_data_command
    custom_data_failure wrong_pop wrong_sec2_password wrong_passphrase_reset network_not_found
    reprov_after_success auto_stop restart_stored corrupt_state two_clients two_clients_staging no_cookie_connection
    bad_input captive_probes web_ui_page qr_outputs usage_errors softap_options ipv6_listen
    session_limits help_version connection_limits ble_unavailable transport_list
    service_wait secrets_hidden log_escape store_leftovers force_insecure)
  wifiprov_unit_test(test_integration
    SOURCES ${CMAKE_SOURCE_DIR}/tests/integration/test_daemon.c ${CMAKE_SOURCE_DIR}/tests/integration/itest.c
    LABEL integration
    LIBS PkgConfig::CURL
    CASES ${WIFIPROV_INTEGRATION_CASES})
  target_include_directories(test_integration PRIVATE ${CMAKE_SOURCE_DIR}/tests/integration)
  target_compile_definitions(test_integration PRIVATE WIFIPROVD_PATH="$<TARGET_FILE:wifiprovd>"
                                                      WIFIPROV_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
  add_dependencies(test_integration wifiprovd)
  foreach(c ${WIFIPROV_INTEGRATION_CASES})
    # Each case bounds its own waits (start 20 s, status 15 s, stop 10 s); this is the backstop.
    set_tests_properties(test_integration.${c} PROPERTIES TIMEOUT 90)
  endforeach()
endif()

# Guessing and flooding against the real daemon, with the real CLI as the honest client.
if(TARGET wifiprovd AND TARGET wifiprov_cli)
  find_package(Threads REQUIRED)
  set(WIFIPROV_HARDENING_CASES
    flood_honest_client wrong_pop_throttled lockout_sigusr1 cookie_replay_other_peer connections_per_peer
    handshake_bound)
  wifiprov_unit_test(test_hardening
    SOURCES ${CMAKE_SOURCE_DIR}/tests/integration/test_hardening.c ${CMAKE_SOURCE_DIR}/tests/integration/itest.c
    LABEL integration
    LIBS PkgConfig::CURL Threads::Threads
    CASES ${WIFIPROV_HARDENING_CASES})
  target_include_directories(test_hardening PRIVATE ${CMAKE_SOURCE_DIR}/tests/integration)
  target_compile_definitions(test_hardening PRIVATE WIFIPROVD_PATH="$<TARGET_FILE:wifiprovd>"
                                                    WIFIPROV_CLI_PATH="$<TARGET_FILE:wifiprov_cli>")
  add_dependencies(test_hardening wifiprovd wifiprov_cli)
  foreach(c ${WIFIPROV_HARDENING_CASES})
    set_tests_properties(test_hardening.${c} PROPERTIES TIMEOUT 90)
  endforeach()
endif()

# The HTTP transport's request path without sockets (cookie rules, body checks, eviction).
if(TARGET wifiprov_linux)
  wifiprov_unit_test(test_http_core
    SOURCES ${CMAKE_SOURCE_DIR}/tests/integration/test_http_core.c
    LIBS wifiprov_linux
    CASES cookie_parse session_binding no_eviction_of_established body_checks methods_and_paths page_answers listen_address)
endif()

# libFuzzer target for the HTTP request path (clang, -DWIFIPROV_FUZZ=ON; scripts/fuzz.sh runs it).
# The ctest entry replays the seed corpus only.
if(WIFIPROV_FUZZ AND TARGET wifiprov_linux)
  wifiprov_fuzz_target(fuzz_http SOURCES ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_http.c ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_util.c
                       LIBS wifiprov_linux wifiprov_internal)
endif()

# libFuzzer target for wifiprovd's configuration file parser.
if(WIFIPROV_FUZZ AND TARGET wifiprov_linux)
  wifiprov_fuzz_target(fuzz_config SOURCES ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_config.c ${CMAKE_SOURCE_DIR}/daemon/config.c
                       ${CMAKE_SOURCE_DIR}/daemon/service.c LIBS wifiprov_linux wifiprov_internal)
  target_include_directories(fuzz_config PRIVATE ${CMAKE_SOURCE_DIR}/daemon)
  target_compile_definitions(fuzz_config PRIVATE _GNU_SOURCE)
endif()

# The session policy shared by the transports, with an injected clock and a real device.
if(TARGET wifiprov_linux)
  wifiprov_unit_test(test_sessions
    SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_sessions.c
    LIBS wifiprov_linux
    CASES begin_rules eviction handshake_timeout peer_binding guard_delays guard_decay token_buckets
          lockout_unlock held_requests)
  target_include_directories(test_sessions PRIVATE ${CMAKE_SOURCE_DIR}/tests/unit)
endif()

# wifiprovd's SoftAP: what it reads from `iw` (interface combinations, the station's channel).
wifiprov_unit_test(test_ap_iw
  SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_ap_iw.c ${CMAKE_SOURCE_DIR}/daemon/ap_iw.c
  CASES combinations iw_channel)
target_include_directories(test_ap_iw PRIVATE ${CMAKE_SOURCE_DIR}/daemon)
target_link_libraries(test_ap_iw PRIVATE PkgConfig::SYSTEMD)

# libFuzzer targets for the files the daemon reads at start: state.json and the security-2
# verifier file (one source, built twice). The ctest entries replay the seed corpora.
if(WIFIPROV_FUZZ AND TARGET wifiprov_linux)
  foreach(t state sec2file)
    wifiprov_fuzz_target(fuzz_${t} SOURCES ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_store.c ${CMAKE_SOURCE_DIR}/daemon/store.c
                         LIBS wifiprov_linux wifiprov_internal)
    target_include_directories(fuzz_${t} PRIVATE ${CMAKE_SOURCE_DIR}/daemon)
    target_compile_definitions(fuzz_${t} PRIVATE _GNU_SOURCE)
  endforeach()
  target_compile_definitions(fuzz_sec2file PRIVATE FUZZ_SEC2_FILE=1)
endif()
