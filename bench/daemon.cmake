# wifiprovd figures (connect latency, RSS after 1,000 security-2 handshakes, handshakes/s).
# Prints figures; not a test. Run: <build>/bench/bench_daemon [handshakes]
if(TARGET wifiprovd AND TARGET wifiprov_testsupport)
  pkg_check_modules(BENCH_CURL REQUIRED IMPORTED_TARGET libcurl)
  add_executable(bench_daemon ${CMAKE_SOURCE_DIR}/bench/daemon_bench.c ${CMAKE_SOURCE_DIR}/tests/integration/itest.c)
  target_include_directories(bench_daemon PRIVATE ${CMAKE_SOURCE_DIR}/tests/integration)
  target_link_libraries(bench_daemon PRIVATE wifiprov_testsupport PkgConfig::BENCH_CURL)
  target_compile_definitions(bench_daemon PRIVATE WIFIPROVD_PATH="$<TARGET_FILE:wifiprovd>")
  add_dependencies(bench_daemon wifiprovd)
endif()
