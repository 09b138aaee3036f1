# bench_sessions: handshakes through the device's session policy (bench/README.md).
if(TARGET wifiprov_linux)
  add_executable(bench_sessions ${CMAKE_CURRENT_SOURCE_DIR}/sessions.c)
  target_link_libraries(bench_sessions PRIVATE wifiprov_linux wifiprov_internal)
  target_compile_definitions(bench_sessions PRIVATE _POSIX_C_SOURCE=200809L)
endif()
