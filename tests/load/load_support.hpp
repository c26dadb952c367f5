#pragma once

// Helpers of the `pgingest load` tests: temporary files, running the built binary, reading its
// JSON summary and rejects file, and comparing stored jsonb with the server's own parse.

#include <libpq-fe.h>
#include <simdjson.h>
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "engine/connection.hpp"
#include "tests/support/process.hpp"

namespace pgingest::test {

/// A directory under /tmp, removed with its files at the end of the scope.
class TempDir {
  public:
    TempDir() {
        char name[] = "/tmp/pgingest-load-XXXXXX";
        REQUIRE(::mkdtemp(name) != nullptr);
        _path = name;
    }
    ~TempDir() {
        std::error_code ignored;
        std::filesystem::remove_all(_path, ignored);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    [[nodiscard]] std::string path(const std::string& name) const { return _path + "/" + name; }
    /// Writes `content` to the file `name` and returns its path.
    std::string write(const std::string& name, const std::string& content) const {
        std::ofstream out(path(name), std::ios::binary);
        out << content;
        REQUIRE(out.good());
        return path(name);
    }

  private:
    std::string _path;
};

/// `text` quoted for a POSIX shell.
inline std::string shell_quote(const std::string& text) {
    std::string quoted = "'";
    for (char c : text) {
        quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
    }
    return quoted + "'";
}

/// Exit status of a shell command line (its stdout and stderr are left alone).
inline int run_shell(const std::string& command) {
    int status = std::system(command.c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

struct CliResult {
    int exit_code = -1;
    std::string output;  ///< stdout and stderr, interleaved
};

/// Runs the built `pgingest` with `args` (no shell interpretation of the arguments).
inline CliResult run_pgingest(const std::vector<std::string>& args) {
    std::string command = shell_quote(PGINGEST_BINARY);
    for (const std::string& arg : args) {
        command += " " + shell_quote(arg);
    }
    CliResult result;
    result.exit_code = run_capturing(command + " 2>&1", result.output);
    return result;
}

struct Summary {
    std::uint64_t rows_read = 0;
    std::uint64_t rows_loaded = 0;
    std::uint64_t rows_rejected = 0;
    std::uint64_t bytes_read = 0;
};

/// The `--summary json` object in `output` (the line starting with {"rows_read").
inline Summary parse_summary(const std::string& output) {
    std::size_t at = output.find("{\"rows_read\"");
    REQUIRE(at != std::string::npos);
    std::string line = output.substr(at, output.find('\n', at) - at);
    simdjson::dom::parser parser;
    simdjson::dom::element json = parser.parse(line);
    return Summary{.rows_read = json["rows_read"].get_uint64().value(),
                   .rows_loaded = json["rows_loaded"].get_uint64().value(),
                   .rows_rejected = json["rows_rejected"].get_uint64().value(),
                   .bytes_read = json["bytes_read"].get_uint64().value()};
}

struct Reject {
    std::string source;
    std::uint64_t line = 0;  ///< 0 when absent
    std::uint64_t offset = 0;
    std::string reason;
    std::string sqlstate;
    std::string record;
};

/// Every line of a rejects file; each must be a JSON object with source, byte_offset, reason.
inline std::vector<Reject> read_rejects(const std::string& path) {
    std::ifstream in(path);
    std::vector<Reject> rejects;
    std::string line;
    simdjson::dom::parser parser;
    while (std::getline(in, line)) {
        simdjson::dom::element json = parser.parse(line);
        Reject reject;
        reject.source = std::string(json["source"].get_string().value());
        reject.offset = json["byte_offset"].get_uint64().value();
        reject.reason = std::string(json["reason"].get_string().value());
        std::uint64_t number = 0;
        if (json["line"].get(number) == simdjson::SUCCESS) {
            reject.line = number;
        }
        std::string_view text;
        if (json["sqlstate"].get(text) == simdjson::SUCCESS) {
            reject.sqlstate = std::string(text);
        }
        if (json["record"].get(text) == simdjson::SUCCESS) {
            reject.record = std::string(text);
        }
        rejects.push_back(std::move(reject));
    }
    return rejects;
}

/// The whole file.
inline std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    REQUIRE(in.good());
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

/// `text` as an SQL string literal (libpq PQescapeLiteral).
inline std::string sql_literal(Connection& conn, const std::string& text) {
    char* escaped = PQescapeLiteral(conn.native(), text.data(), text.size());
    REQUIRE(escaped != nullptr);
    std::string literal(escaped);
    PQfreemem(escaped);
    return literal;
}

}  // namespace pgingest::test
