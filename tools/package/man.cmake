# Man pages made by help2man from the built pgingest's --help (Debian package help2man): one
# page for the command list and one per command, as git does (pgingest-load.1), installed to
# share/man/man1. Included by package.cmake.
find_program(PGINGEST_HELP2MAN help2man REQUIRED
             DOC "help2man (Debian package help2man) for the man pages")

# Each command's page: the NAME line, then what its --help prints.
set(pgingest_man_commands
    "load|load JSON records into a PostgreSQL table through binary COPY"
    "generate|write deterministic sample NDJSON records, or a CREATE TABLE for them"
    "local|manage pgingest's own local PostgreSQL server"
    "ledger|list, show or forget the loads the ledger of a database records"
    "demo|load generated trace spans into a throwaway server (the engine alone)")
set(pgingest_man_pages "")
set(pgingest_see_also "")
foreach(entry IN LISTS pgingest_man_commands)
    string(REPLACE "|" ";" entry "${entry}")
    list(GET entry 0 command)
    list(APPEND pgingest_see_also "pgingest-${command}(1)")
endforeach()
list(JOIN pgingest_see_also ", " pgingest_see_also)
list(PREPEND pgingest_man_commands
     "|write data into PostgreSQL through binary COPY, and never lose a row")

foreach(entry IN LISTS pgingest_man_commands)
    string(REPLACE "|" ";" entry "${entry}")
    list(GET entry 0 command)
    list(GET entry 1 summary)
    if(command STREQUAL "")
        set(page ${PROJECT_BINARY_DIR}/man/pgingest.1)
        set(see_also "${pgingest_see_also}")
    else()
        set(page ${PROJECT_BINARY_DIR}/man/pgingest-${command}.1)
        set(see_also "pgingest(1)")
    endif()
    add_custom_command(OUTPUT ${page}
        COMMAND ${CMAKE_COMMAND} -DHELP2MAN=${PGINGEST_HELP2MAN} -DPGINGEST=$<TARGET_FILE:pgingest>
                "-DSUBCOMMAND=${command}" "-DSUMMARY=${summary}" -DVERSION=${PROJECT_VERSION}
                "-DSEE_ALSO=${see_also}" -DOUTPUT=${page}
                -P ${CMAKE_CURRENT_LIST_DIR}/help2man.cmake
        DEPENDS pgingest ${CMAKE_CURRENT_LIST_DIR}/help2man.cmake
        COMMENT "help2man: ${page}" VERBATIM)
    list(APPEND pgingest_man_pages ${page})
endforeach()
add_custom_target(pgingest_man ALL DEPENDS ${pgingest_man_pages})
install(FILES ${pgingest_man_pages} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
