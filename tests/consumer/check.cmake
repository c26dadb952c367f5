# cmake -P script, the `package_build` test: installs the pgingest build into a fresh prefix and
# builds tests/consumer against it twice, as users do: with find_package(pgingest CONFIG) and
# with `pkg-config --static --cflags --libs pgingest`. package_test.cpp then runs both binaries.
# -DBUILD_DIR (the pgingest build, fully built), -DWORK_DIR (scratch, emptied first),
# -DCONSUMER_DIR (this folder), -DCXX (the compiler), -DLAUNCHER (e.g. ccache; may be empty),
# -DLIBDIR (CMAKE_INSTALL_LIBDIR).
set(prefix ${WORK_DIR}/prefix)
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})
execute_process(COMMAND ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix}
                OUTPUT_QUIET COMMAND_ERROR_IS_FATAL ANY)

execute_process(
    COMMAND ${CMAKE_COMMAND} -S ${CONSUMER_DIR} -B ${WORK_DIR}/consumer-build
            -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_CXX_COMPILER=${CXX}
            -DCMAKE_CXX_COMPILER_LAUNCHER=${LAUNCHER} -DCMAKE_BUILD_TYPE=Release
    COMMAND_ERROR_IS_FATAL ANY)
execute_process(COMMAND ${CMAKE_COMMAND} --build ${WORK_DIR}/consumer-build
                COMMAND_ERROR_IS_FATAL ANY)

set(ENV{PKG_CONFIG_PATH} ${prefix}/${LIBDIR}/pkgconfig)
execute_process(COMMAND pkg-config --static --cflags --libs pgingest
                OUTPUT_VARIABLE flags OUTPUT_STRIP_TRAILING_WHITESPACE COMMAND_ERROR_IS_FATAL ANY)
message(STATUS "pkg-config --static --cflags --libs pgingest: ${flags}")
separate_arguments(flags UNIX_COMMAND "${flags}")
execute_process(
    COMMAND ${LAUNCHER} ${CXX} -std=c++20 -O1 ${CONSUMER_DIR}/consumer.cpp ${flags}
            -o ${WORK_DIR}/pgingest_consumer_pkg_config
    COMMAND_ERROR_IS_FATAL ANY)
