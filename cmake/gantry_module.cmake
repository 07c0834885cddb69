# gantry_module(NAME SOURCES ... DEPS ... [LIBS ...])
# One static library per module. DEPS lists the Gantry modules it may include (checked by
# scripts/check-deps); LIBS lists outside libraries.
function(gantry_module name)
  cmake_parse_arguments(M "" "" "SOURCES;DEPS;LIBS" ${ARGN})
  add_library(gantry_${name} STATIC ${M_SOURCES})
  target_include_directories(gantry_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  set(deps)
  foreach(d ${M_DEPS})
    list(APPEND deps gantry_${d})
  endforeach()
  target_link_libraries(gantry_${name} PUBLIC ${deps} ${M_LIBS})
  set_property(GLOBAL APPEND PROPERTY GANTRY_MODULES ${name})
endfunction()

# gantry_test(NAME SOURCES ... DEPS ... [LABEL unit|integration|e2e|browser] [BOTH_BACKENDS])
# BOTH_BACKENDS registers the executable twice: NAME_sqlite (label unit) and NAME_postgres
# (label integration, starts a real PostgreSQL), chosen by GANTRY_TEST_BACKENDS.
function(gantry_test name)
  cmake_parse_arguments(T "BOTH_BACKENDS" "LABEL" "SOURCES;DEPS" ${ARGN})
  if(NOT T_LABEL)
    set(T_LABEL unit)
  endif()
  add_executable(${name} ${T_SOURCES})
  set(deps)
  foreach(d ${T_DEPS})
    list(APPEND deps gantry_${d})
  endforeach()
  target_link_libraries(${name} PRIVATE ${deps} gantry_testsupport GTest::gtest GTest::gmock GTest::gtest_main)
  if(T_BOTH_BACKENDS)
    add_test(NAME ${name}_sqlite COMMAND ${name})
    set_tests_properties(${name}_sqlite PROPERTIES LABELS unit TIMEOUT 600
      ENVIRONMENT "GANTRY_TEST_BACKENDS=sqlite;GANTRY_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
    add_test(NAME ${name}_postgres COMMAND ${name})
    set_tests_properties(${name}_postgres PROPERTIES LABELS integration TIMEOUT 600
      ENVIRONMENT "GANTRY_TEST_BACKENDS=postgres;GANTRY_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
  else()
    add_test(NAME ${name} COMMAND ${name})
    set_tests_properties(${name} PROPERTIES LABELS ${T_LABEL} TIMEOUT 600
      ENVIRONMENT "GANTRY_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
  endif()
endfunction()

# gantry_embed(OUT_SOURCE NAMESPACE ns FILES f1 f2 ...): files compiled into the binary.
function(gantry_embed out_var)
  cmake_parse_arguments(E "" "NAMESPACE;NAME" "FILES" ${ARGN})
  set(out ${CMAKE_CURRENT_BINARY_DIR}/${E_NAME}_embedded.cc)
  add_custom_command(OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DOUT=${out} -DNAMESPACE=${E_NAMESPACE} "-DFILES=${E_FILES}"
            -P ${PROJECT_SOURCE_DIR}/cmake/embed.cmake
    DEPENDS ${E_FILES} ${PROJECT_SOURCE_DIR}/cmake/embed.cmake VERBATIM)
  set(${out_var} ${out} PARENT_SCOPE)
endfunction()
