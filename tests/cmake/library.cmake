# libwifiprov as others use it: examples/loopback built out of tree against `cmake --install`
# of this build tree (into build/consumer-prefix), with find_package and with pkg-config, shared
# and static; and the shared library's exported symbols. Label integration.
if(TARGET wifiprov_shared)
  set(_prefix ${CMAKE_BINARY_DIR}/consumer-prefix)
  set(_script ${CMAKE_SOURCE_DIR}/tests/consumer/consumer_test.sh --build-dir ${CMAKE_BINARY_DIR} --prefix ${_prefix})
  add_test(NAME library.install COMMAND ${_script} install)
  set_tests_properties(library.install PROPERTIES LABELS integration TIMEOUT 120 FIXTURES_SETUP wifiprov_installed
                     RESOURCE_LOCK wifiprov_install)
  add_test(NAME library.install_layout COMMAND ${_script} layout)
  # cmake --install configures files in the build tree: one install at a time.
  set_tests_properties(library.install_layout PROPERTIES LABELS integration TIMEOUT 120 RESOURCE_LOCK wifiprov_install)
  foreach(c exports cmake_shared cmake_static pkgconfig_shared pkgconfig_static)
    add_test(NAME library.consumer_${c} COMMAND ${_script} ${c})
    set_tests_properties(library.consumer_${c} PROPERTIES LABELS integration TIMEOUT 120
                         FIXTURES_REQUIRED wifiprov_installed)
  endforeach()
endif()
