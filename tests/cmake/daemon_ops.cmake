# wifiprovd as an operator meets it (tests/daemon/ops_test.py): configuration file beside the
# command line, --no-config, --help width, sd_notify, journald priorities, SIGHUP. Label integration.
if(TARGET wifiprovd)
  find_package(Python3 COMPONENTS Interpreter)
  if(Python3_Interpreter_FOUND)
    foreach(c sample_config_readme_sec1 sample_config_demo_sec2 sample_config_alone sample_secrets_commented
              config_errors_name_line no_config help_wrapped sd_notify journal_priorities sighup_keeps_running
              bash_completion secret_file_modes docs_agree_on_paths docs_options_in_sync demo_log_once
              debian_maintainer)
      add_test(NAME daemon_ops.${c} COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tests/daemon/ops_test.py
               --wifiprovd $<TARGET_FILE:wifiprovd> --source ${CMAKE_SOURCE_DIR} ${c})
      set_tests_properties(daemon_ops.${c} PROPERTIES LABELS integration TIMEOUT 60)
    endforeach()
  endif()
endif()
