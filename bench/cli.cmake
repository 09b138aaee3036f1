# bench_cli: wall time of a complete security-2 provisioning (wifiprov against wifiprovd,
# sim backend, connect_ms 1000). Prints figures; run with `cmake --build <dir> --target bench_cli`.
if(TARGET wifiprov_cli AND TARGET wifiprovd)
  find_package(Python3 COMPONENTS Interpreter)
  if(Python3_Interpreter_FOUND)
    add_custom_target(bench_cli
      COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/bench/provision_bench.py
              --wifiprov $<TARGET_FILE:wifiprov_cli> --wifiprovd $<TARGET_FILE:wifiprovd>
      DEPENDS wifiprov_cli wifiprovd
      USES_TERMINAL
      COMMENT "wifiprov: timing a security-2 provisioning")
  endif()
endif()
