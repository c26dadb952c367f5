# Version header, install rules, CMake package and pkg-config file, man pages (issue 13 point 3).
# Included by the top-level CMakeLists.txt after the targets are defined.
#
# Installed tree (prefix = CMAKE_INSTALL_PREFIX or `cmake --install build --prefix P`):
#   bin/pgingest
#   include/pgingest/{codecs,engine}/**.hpp, include/pgingest/version.hpp
#   lib/libpgingest_codecs.a, lib/libpgingest_engine.a (position-independent)
#   lib/cmake/pgingest/pgingest{Config,ConfigVersion,Targets}.cmake: pgingest::codecs, ::engine
#   lib/pkgconfig/pgingest.pc
#   share/man/man1/pgingest.1, pgingest-{load,generate,local,ledger,demo}.1
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# The version: project(VERSION) is its one source; code reads it from "pgingest/version.hpp".
set(PGINGEST_GENERATED_INCLUDE_DIR ${PROJECT_BINARY_DIR}/generated)
configure_file(${CMAKE_CURRENT_LIST_DIR}/version.hpp.in
               ${PGINGEST_GENERATED_INCLUDE_DIR}/pgingest/version.hpp @ONLY)
target_include_directories(pgingest_codecs PUBLIC
    $<BUILD_INTERFACE:${PGINGEST_GENERATED_INCLUDE_DIR}>)

# Aliases with the installed names, so a project that adds this tree with add_subdirectory links
# the same names as one that uses find_package.
add_library(pgingest::codecs ALIAS pgingest_codecs)
add_library(pgingest::engine ALIAS pgingest_engine)
set_target_properties(pgingest_codecs PROPERTIES EXPORT_NAME codecs)
set_target_properties(pgingest_engine PROPERTIES EXPORT_NAME engine)

# The static libraries carry their PRIVATE link items into their link interface ($<LINK_ONLY:>),
# so the export set must hold pgingest_warnings; its flags stay in this build (BUILD_INTERFACE)
# and the installed pgingest::warnings is empty.
get_target_property(pgingest_warning_flags pgingest_warnings INTERFACE_COMPILE_OPTIONS)
set_target_properties(pgingest_warnings PROPERTIES
    INTERFACE_COMPILE_OPTIONS "$<BUILD_INTERFACE:${pgingest_warning_flags}>"
    EXPORT_NAME warnings)

# Headers include each other rooted at the repository ("engine/engine.hpp"), so both
# include/pgingest (for those) and include (for <pgingest/engine/engine.hpp>) are on the path.
install(TARGETS pgingest_codecs pgingest_engine EXPORT pgingestTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
                             ${CMAKE_INSTALL_INCLUDEDIR}/pgingest)
install(TARGETS pgingest_warnings EXPORT pgingestTargets)
foreach(layer codecs engine)
    install(DIRECTORY ${PROJECT_SOURCE_DIR}/${layer}/
            DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/pgingest/${layer}
            FILES_MATCHING PATTERN "*.hpp")
endforeach()
install(FILES ${PGINGEST_GENERATED_INCLUDE_DIR}/pgingest/version.hpp
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/pgingest)
install(TARGETS pgingest RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

set(PGINGEST_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/pgingest)
install(EXPORT pgingestTargets NAMESPACE pgingest:: DESTINATION ${PGINGEST_CMAKE_DIR})

# The pkg-config modules the libraries link (PkgConfig::<MODULE> targets of the top-level file):
# the Config finds them all; the .pc requires them privately (static libraries: `pkg-config
# --static`), but libpq, whose header the public headers include, goes in by its flags: Debian's
# libpq.pc lists the server's static helpers (libpgcommon, libpgport) in its Libs.private,
# which libpq-dev does not ship, so `--static` through `Requires: libpq` cannot link.
get_target_property(pgingest_engine_links pgingest_engine LINK_LIBRARIES)
set(PGINGEST_PKG_MODULES "")
set(PGINGEST_PC_REQUIRES_PRIVATE "")
foreach(module libpq liburing zlib libzstd libxxhash)
    string(TOUPPER ${module} prefix)
    if(NOT "PkgConfig::${prefix}" IN_LIST pgingest_engine_links)
        continue()
    endif()
    list(APPEND PGINGEST_PKG_MODULES ${module})
    if(NOT module STREQUAL "libpq")
        list(APPEND PGINGEST_PC_REQUIRES_PRIVATE ${module})
    endif()
endforeach()
list(JOIN PGINGEST_PKG_MODULES " " PGINGEST_PKG_MODULES)
list(JOIN PGINGEST_PC_REQUIRES_PRIVATE " " PGINGEST_PC_REQUIRES_PRIVATE)
list(JOIN LIBPQ_CFLAGS " " PGINGEST_PC_LIBPQ_CFLAGS)
list(JOIN LIBPQ_LDFLAGS " " PGINGEST_PC_LIBPQ_LIBS)

configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/pgingestConfig.cmake.in
    ${PROJECT_BINARY_DIR}/package/pgingestConfig.cmake INSTALL_DESTINATION ${PGINGEST_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/package/pgingestConfigVersion.cmake
    COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/package/pgingestConfig.cmake
              ${PROJECT_BINARY_DIR}/package/pgingestConfigVersion.cmake
        DESTINATION ${PGINGEST_CMAKE_DIR})

# The .pc file finds its prefix from its own place, so `cmake --install --prefix P` works.
file(RELATIVE_PATH pc_to_prefix /root/${CMAKE_INSTALL_LIBDIR}/pkgconfig /root)
string(REGEX REPLACE "/$" "" PGINGEST_PC_PREFIX_FROM_PCFILEDIR "${pc_to_prefix}")
configure_file(${CMAKE_CURRENT_LIST_DIR}/pgingest.pc.in ${PROJECT_BINARY_DIR}/package/pgingest.pc
               @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/package/pgingest.pc
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

include(${CMAKE_CURRENT_LIST_DIR}/man.cmake)
