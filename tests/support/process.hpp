#pragma once

// Running a program from a test and capturing what it writes (the CLI, an installed consumer).

#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <string>

namespace pgingest::test {

/// Runs the shell command `command` and returns its exit status (128 when it did not exit)
/// and, in `output`, what it wrote to stdout (redirect stderr in `command` to have it too).
/// Fails the current test case when the shell cannot be started.
inline int run_capturing(const std::string& command, std::string& output) {
    std::FILE* pipe = ::popen(command.c_str(), "r");
    REQUIRE(pipe != nullptr);
    char buffer[4096];
    std::size_t got = 0;
    while ((got = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) {
        output.append(buffer, got);
    }
    int status = ::pclose(pipe);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

}  // namespace pgingest::test
