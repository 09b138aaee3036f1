# The provisioning page (web/): its JavaScript protocol code against the known-answer
# vectors under Node.js, the committed page against a fresh build of its sources, and
# the page in headless Chromium against the real wifiprovd. Label web. Each case is
# skipped (with the reason) when Node.js, the npm packages or Chromium are missing.
set(_web ${CMAKE_SOURCE_DIR}/web)
foreach(c sec0 sec1 sec2 sec2p0 errors)
  add_test(NAME web.vectors.${c} COMMAND ${_web}/test/run.sh test/vectors.test.mjs)
  set_tests_properties(web.vectors.${c} PROPERTIES LABELS web TIMEOUT 60 SKIP_RETURN_CODE 77
                       ENVIRONMENT "WIFIPROV_VECTOR=${c};WIFIPROV_VECTORS=${WIFIPROV_VECTORS_DIR}")
endforeach()

add_test(NAME web.page_is_built COMMAND ${_web}/test/run.sh test/build.test.mjs)
set_tests_properties(web.page_is_built PROPERTIES LABELS web TIMEOUT 60 SKIP_RETURN_CODE 77)

if(TARGET wifiprovd)
  set(WIFIPROV_WEB_BROWSER_CASES sec1_phone sec2_desktop_qr wrong_pop wrong_password wrong_passphrase hidden_ssid
      sec0_open_network sec1_no_pop lost_exchange captive_probe)
  foreach(c ${WIFIPROV_WEB_BROWSER_CASES})
    add_test(NAME web.browser.${c}
             COMMAND ${_web}/test/run.sh --browser test/browser.test.mjs --test-name-pattern=^${c}:)
    set_tests_properties(web.browser.${c} PROPERTIES LABELS web TIMEOUT 90 SKIP_RETURN_CODE 77
                         ENVIRONMENT "WIFIPROVD=$<TARGET_FILE:wifiprovd>;WIFIPROV_WEB_UI_DIR=${_web}/dist")
  endforeach()
endif()
