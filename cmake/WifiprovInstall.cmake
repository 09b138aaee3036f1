# Install helpers: files whose contents name install paths are configured when installing, so
# they follow the prefix actually installed to (`cmake --install build --prefix DIR`), not only
# the one given at configure time.

# The directory a DESTINATION resolves to, as code run at install time (relative ones follow
# the install prefix, absolute ones such as /etc stay).
function(wifiprov_install_dir_code var dest out)
  if(IS_ABSOLUTE "${dest}")
    set(${out} "set(${var} \"${dest}\")\n" PARENT_SCOPE)
  else()
    set(${out} "set(${var} \"\${CMAKE_INSTALL_PREFIX}/${dest}\")\n" PARENT_SCOPE)
  endif()
endfunction()

# Where configuration files go: ${CMAKE_INSTALL_SYSCONFDIR}, except that a relative one with the
# /usr prefix means /etc (as CMAKE_INSTALL_FULL_SYSCONFDIR does), not /usr/etc.
if(IS_ABSOLUTE "${CMAKE_INSTALL_SYSCONFDIR}" OR
   NOT CMAKE_INSTALL_FULL_SYSCONFDIR STREQUAL "${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_SYSCONFDIR}")
  set(WIFIPROV_SYSCONF_DEST "${CMAKE_INSTALL_FULL_SYSCONFDIR}")
else()
  set(WIFIPROV_SYSCONF_DEST "${CMAKE_INSTALL_SYSCONFDIR}")
endif()
# The configuration directory compiled into wifiprovd (its default --config).
set(WIFIPROV_CONFIG_DIR "${CMAKE_INSTALL_FULL_SYSCONFDIR}/wifiprov")

# wifiprov_install_configured(TEMPLATE DESTINATION [NAME name])
# Configures TEMPLATE with @ONLY at install time and installs it into DESTINATION. Besides the
# variables of this build, the template sees WIFIPROV_PREFIX, WIFIPROV_BINDIR, WIFIPROV_LIBDIR,
# WIFIPROV_INCLUDEDIR and WIFIPROV_CONFDIR as absolute install-time paths.
function(wifiprov_install_configured template destination)
  cmake_parse_arguments(A "" "NAME" "" ${ARGN})
  get_filename_component(name "${template}" NAME)
  string(REGEX REPLACE "\\.in$" "" name "${name}")
  if(A_NAME)
    set(name "${A_NAME}")
  endif()
  set(out "${CMAKE_CURRENT_BINARY_DIR}/install-time/${name}")
  set(code "set(WIFIPROV_PREFIX \"\${CMAKE_INSTALL_PREFIX}\")\n")
  foreach(pair "BINDIR:${CMAKE_INSTALL_BINDIR}" "LIBDIR:${CMAKE_INSTALL_LIBDIR}"
               "INCLUDEDIR:${CMAKE_INSTALL_INCLUDEDIR}" "CONFDIR:${WIFIPROV_SYSCONF_DEST}/wifiprov")
    string(REGEX REPLACE ":.*" "" v "${pair}")
    string(REGEX REPLACE "^[A-Z]+:" "" d "${pair}")
    wifiprov_install_dir_code(WIFIPROV_${v} "${d}" c)
    string(APPEND code "${c}")
  endforeach()
  # Variables of this build the templates use.
  foreach(v PROJECT_VERSION WIFIPROV_PC_REQUIRES_PRIVATE WIFIPROV_PC_LIBS_PRIVATE)
    string(APPEND code "set(${v} \"${${v}}\")\n")
  endforeach()
  string(APPEND code "configure_file(\"${template}\" \"${out}\" @ONLY)\n")
  install(CODE "${code}")
  install(FILES "${out}" DESTINATION "${destination}")
endfunction()

# wifiprov_install_config(FILE): installs a sample configuration into the configuration
# directory unless one is there already (a reinstall keeps an edited file; the new sample is
# then put beside it as <name>.new).
function(wifiprov_install_config file)
  get_filename_component(name "${file}" NAME)
  wifiprov_install_dir_code(dir "${WIFIPROV_SYSCONF_DEST}/wifiprov" code)
  string(APPEND code "
set(dest \"\$ENV{DESTDIR}\${dir}/${name}\")
if(EXISTS \"\${dest}\")
  file(READ \"\${dest}\" old)
  file(READ \"${file}\" new)
  if(NOT old STREQUAL new)
    message(STATUS \"Keeping: \${dest} (edited); the shipped one is \${dest}.new\")
    file(INSTALL \"${file}\" DESTINATION \"\${dir}\" RENAME \"${name}.new\")
  endif()
else()
  file(INSTALL \"${file}\" DESTINATION \"\${dir}\")
endif()
")
  install(CODE "${code}")
endfunction()
