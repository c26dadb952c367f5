// Proves the input layer of `pgingest load` on the real corpora in ../shared/data: every format
// yields exactly the records an independent simdjson DOM walk finds, byte for byte (minified),
// also gzip- and zstd-compressed and through stdin; line numbers and byte offsets are exact on a
// hand-made NDJSON with blank lines, CRLF and a malformed line; bad input (malformed JSON,
// pointer misses, a truncated gzip, a missing file) is reported with source, line, byte offset
// and reason, and never ends the reading of the other records.

#include "tools/input.hpp"

#include <fcntl.h>
#include <simdjson.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine/errors.hpp"

using namespace pgingest;
using namespace pgingest::tools;

namespace {

const std::string data_dir = PGINGEST_SHARED_DATA;

struct Record {
    std::string source;
    std::string text;
    std::uint64_t line;
    std::uint64_t byte_offset;
};

struct Result {
    std::vector<Record> records;
    std::vector<InputError> errors;
};

/// Reads everything with three consumer threads; records sorted by source order and offset.
Result read_all(const std::vector<std::string>& sources, InputOptions options) {
    InputReader reader(sources, options);
    Result result;
    std::mutex mutex;
    auto consume = [&] {
        RecordChunk chunk;
        while (reader.next(chunk)) {
            std::lock_guard lock(mutex);
            for (const RecordRef& ref : chunk.records) {
                // Every record must be followed by readable padding, as promised.
                REQUIRE(ref.offset + ref.length + simdjson::SIMDJSON_PADDING <=
                        chunk.data->capacity());
                result.records.push_back({std::string(chunk.source), std::string(chunk.text(ref)),
                                          ref.line, ref.byte_offset});
            }
            for (const InputError& error : chunk.errors) {
                result.errors.push_back(error);
            }
        }
    };
    std::vector<std::thread> threads;
    for (int i = 0; i < 3; ++i) {
        threads.emplace_back(consume);
    }
    for (auto& thread : threads) {
        thread.join();
    }
    auto rank = [&](const std::string& source) {
        return std::find(sources.begin(), sources.end(), source) - sources.begin();
    };
    std::sort(result.records.begin(), result.records.end(), [&](const auto& a, const auto& b) {
        return std::pair(rank(a.source), a.byte_offset) < std::pair(rank(b.source), b.byte_offset);
    });
    std::sort(result.errors.begin(), result.errors.end(), [&](const auto& a, const auto& b) {
        return std::pair(rank(a.source), a.byte_offset) < std::pair(rank(b.source), b.byte_offset);
    });
    InputProgress progress = reader.progress();
    CHECK(progress.records == result.records.size());
    CHECK(progress.errors == result.errors.size());
    return result;
}

std::string minify(simdjson::dom::element element) {
    return simdjson::minify(element);
}

std::string minify_text(const std::string& text) {
    simdjson::dom::parser parser;
    simdjson::dom::element element;
    auto error = parser.parse(text).get(element);
    INFO(text.substr(0, 200));
    REQUIRE(error == simdjson::SUCCESS);
    return minify(element);
}

/// The DOM's answer for a pointer with `*`: records (minified) and the count of misses.
void dom_walk(simdjson::dom::element element, const std::vector<PointerSegment>& pointer,
              std::size_t index, std::vector<std::string>& records, std::size_t& misses) {
    if (index == pointer.size()) {
        if (element.is_array()) {
            for (auto child : element.get_array()) {
                records.push_back(minify(child));
            }
        } else {
            records.push_back(minify(element));
        }
        return;
    }
    if (pointer[index].wildcard && element.is_array()) {
        for (auto child : element.get_array()) {
            dom_walk(child, pointer, index + 1, records, misses);
        }
    } else if (pointer[index].wildcard && element.is_object()) {
        for (auto field : element.get_object()) {
            dom_walk(field.value, pointer, index + 1, records, misses);
        }
    } else if (!pointer[index].wildcard && element.is_object() &&
               element[pointer[index].key].error() == simdjson::SUCCESS) {
        dom_walk(element[pointer[index].key].value(), pointer, index + 1, records, misses);
    } else {
        ++misses;
    }
}

struct Expected {
    std::vector<std::string> records;
    std::size_t misses = 0;
};

Expected dom_expected(const std::string& path, const std::string& pointer) {
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    REQUIRE(parser.load(path).get(root) == simdjson::SUCCESS);
    Expected expected;
    dom_walk(root, parse_json_pointer(pointer), 0, expected.records, expected.misses);
    return expected;
}

void check_same(const Result& result, const Expected& expected) {
    REQUIRE(result.records.size() == expected.records.size());
    for (std::size_t i = 0; i < expected.records.size(); ++i) {
        INFO("record " << i << " of " << result.records[i].source);
        CHECK(minify_text(result.records[i].text) == expected.records[i]);
    }
    CHECK(result.errors.size() == expected.misses);
}

std::filesystem::path temp_dir() {
    auto dir = std::filesystem::temp_directory_path() /
               ("pgingest_input_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    return dir;
}

/// Removes the temporary directory when the test process ends.
struct TempCleanup {
    ~TempCleanup() {
        std::error_code ignored;
        std::filesystem::remove_all(temp_dir(), ignored);
    }
} temp_cleanup;

std::string write_file(const std::string& name, const std::string& bytes) {
    auto path = (temp_dir() / name).string();
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
}

std::string compress(const std::string& path, const std::string& tool, const std::string& ext) {
    auto out = (temp_dir() / (std::filesystem::path(path).filename().string() + ext)).string();
    std::string command = tool + " -c '" + path + "' > '" + out + "'";
    REQUIRE(std::system(command.c_str()) == 0);
    return out;
}

/// A zstd copy of `path` made with libzstd (the zstd command line tool may be absent).
std::string compress_zstd(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::string out(ZSTD_compressBound(text.size()), '\0');
    std::size_t size = ZSTD_compress(out.data(), out.size(), text.data(), text.size(), 3);
    REQUIRE(ZSTD_isError(size) == 0);
    out.resize(size);
    return write_file(std::filesystem::path(path).filename().string() + ".zst", out);
}

std::vector<std::string> ndjson_lines(const std::string& path) {
    std::ifstream in(path);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) {
        if (line.find_first_not_of(" \t\r") != std::string::npos) {
            lines.push_back(minify_text(line));
        }
    }
    return lines;
}

}  // namespace

TEST_CASE("input: a JSON array file yields each element, byte for byte", "[input]") {
    std::string path = data_dir + "/json/github_events.json";
    Expected expected = dom_expected(path, "");
    REQUIRE(expected.records.size() == 30);  // a miscount in the DOM walk would hide here
    Result result = read_all({path}, {.records_per_chunk = 7});
    check_same(result, expected);
    CHECK(result.records[0].line == 2);
    CHECK(result.records[0].byte_offset == 4);
    Result automatic = read_all({path}, {});
    CHECK(automatic.records.size() == 30);
}

TEST_CASE("input: twitter.json with --pointer /statuses, plain, gzip and zstd", "[input]") {
    std::string path = data_dir + "/json/twitter.json";
    Expected expected = dom_expected(path, "/statuses");
    REQUIRE(expected.records.size() == 100);
    check_same(read_all({path}, {.pointer = "/statuses"}), expected);
    check_same(read_all({compress(path, "gzip", ".gz")}, {.pointer = "/statuses"}), expected);
    check_same(read_all({compress_zstd(path)}, {.pointer = "/statuses"}), expected);
}

TEST_CASE("input: NDJSON lines in small chunks, plain, gzip, zstd and stdin", "[input]") {
    std::string path = data_dir + "/json/amazon_cellphones.ndjson";
    std::vector<std::string> lines = ndjson_lines(path);
    REQUIRE(lines.size() == 793);
    InputOptions options{.chunk_bytes = 4096, .buffers_in_flight_max = 2};
    auto check = [&](const Result& result) {
        REQUIRE(result.records.size() == lines.size());
        for (std::size_t i = 0; i < lines.size(); ++i) {
            CHECK(result.records[i].line == i + 1);
            CHECK(minify_text(result.records[i].text) == lines[i]);
        }
        CHECK(result.errors.empty());
    };
    check(read_all({path}, options));
    check(read_all({path}, {}));
    check(read_all({compress(path, "gzip", ".gz")}, options));
    check(read_all({compress_zstd(path)}, options));

    // Two gzip members in a row (as `cat a.gz a.gz`) are one stream of both.
    std::string gz = compress(path, "gzip", ".gz");
    std::string twice = (temp_dir() / "twice.ndjson.gz").string();
    REQUIRE(std::system(("cat '" + gz + "' '" + gz + "' > '" + twice + "'").c_str()) == 0);
    Result both = read_all({twice}, options);
    REQUIRE(both.records.size() == 2 * lines.size());
    CHECK(both.records[lines.size()].line == lines.size() + 1);
    CHECK(minify_text(both.records.back().text) == lines.back());

    int saved = ::dup(0);
    int fd = ::open(compress(path, "gzip", ".stdin.gz").c_str(), O_RDONLY);
    REQUIRE(::dup2(fd, 0) == 0);
    ::close(fd);
    Result from_stdin = read_all({"-"}, options);
    ::dup2(saved, 0);
    ::close(saved);
    check(from_stdin);
    CHECK(from_stdin.records[0].source == "-");
}

TEST_CASE("input: OTLP spans flattened with /resourceSpans/*/scopeSpans/*/spans", "[input]") {
    std::string pointer = "/resourceSpans/*/scopeSpans/*/spans";
    std::size_t spans = 0;
    for (const auto& entry : std::filesystem::directory_iterator(data_dir + "/traces/otlp")) {
        std::string path = entry.path().string();
        INFO(path);
        Expected expected = dom_expected(path, pointer);
        Result result = read_all({path}, {.pointer = pointer});
        check_same(result, expected);
        spans += expected.records.size();
        for (const InputError& error : result.errors) {
            CHECK(error.source == path);
            CHECK(error.reason.find("not found") != std::string::npos);
        }
    }
    CHECK(spans >= 10);
}

TEST_CASE("input: Google Benchmark reports with /benchmarks, several files at once", "[input]") {
    std::vector<std::string> paths;
    Expected expected;
    for (const auto& entry :
         std::filesystem::directory_iterator(data_dir + "/benchmarks/google-benchmark")) {
        paths.push_back(entry.path().string());
        Expected one = dom_expected(paths.back(), "/benchmarks");
        expected.records.insert(expected.records.end(), one.records.begin(), one.records.end());
    }
    REQUIRE(paths.size() == 4);
    InputReader probe(paths, {});
    InputProgress before = probe.progress();
    CHECK(before.total_known);
    std::uint64_t total = 0;
    for (const auto& path : paths) {
        total += std::filesystem::file_size(path);
    }
    CHECK(before.total_bytes == total);
    check_same(read_all(paths, {.pointer = "/benchmarks"}), expected);
}

TEST_CASE("input: every corpus file as one document", "[input]") {
    for (const auto& entry : std::filesystem::directory_iterator(data_dir + "/json")) {
        std::string path = entry.path().string();
        if (entry.path().extension() != ".json") {
            continue;
        }
        INFO(path);
        Result result = read_all({path}, {.format = InputFormat::document});
        REQUIRE(result.records.size() == 1);
        simdjson::dom::parser parser;
        CHECK(minify_text(result.records[0].text) == minify(parser.load(path).value()));
    }
}

TEST_CASE("input: NDJSON lines and offsets are exact with blank lines, CRLF, bad JSON", "[input]") {
    std::string text = "{\"a\":1}\n\n{\"b\":2}\r\n{\"b\": oops}\n   \n{\"b\":[1,2]}";
    std::string path = write_file("hand.ndjson", text);
    Result plain = read_all({path}, {});
    REQUIRE(plain.records.size() == 4);
    CHECK(plain.records[0].text == "{\"a\":1}");
    CHECK((plain.records[0].line == 1 && plain.records[0].byte_offset == 0));
    CHECK(plain.records[1].text == "{\"b\":2}");
    CHECK((plain.records[1].line == 3 && plain.records[1].byte_offset == 9));
    // Without a pointer the malformed line is delivered; the consumer's parse rejects it.
    CHECK(plain.records[2].text == "{\"b\": oops}");
    CHECK((plain.records[2].line == 4 && plain.records[2].byte_offset == 18));
    CHECK((plain.records[3].line == 6 && plain.records[3].byte_offset == 34));
    CHECK(plain.errors.empty());

    Result pointed = read_all({path}, {.pointer = "/b"});
    REQUIRE(pointed.records.size() == 3);
    CHECK(pointed.records[0].text == "2");
    CHECK(pointed.records[1].text == "1");
    CHECK((pointed.records[1].line == 6 && pointed.records[1].byte_offset == 40));
    CHECK(pointed.records[2].text == "2");
    REQUIRE(pointed.errors.size() == 2);
    const InputError& miss = pointed.errors[0];
    CHECK((miss.source == path && miss.line == 1 && miss.byte_offset == 0));
    CHECK(miss.reason == "pointer /b: key \"b\" not found (column 1)");
    CHECK(miss.text == "{\"a\":1}");
    const InputError& bad = pointed.errors[1];
    CHECK((bad.source == path && bad.line == 4 && bad.byte_offset == 18));
    CHECK(bad.reason.find("malformed JSON") != std::string::npos);
    INFO(bad.reason);
    CHECK(bad.text == "{\"b\": oops}");
}

TEST_CASE("input: a malformed array yields the records before the error", "[input]") {
    std::string path = write_file("cut.json", "[\n{\"a\":1},\n{\"b\":2},\n{\"c\":[1, ");
    Result result = read_all({path}, {});
    REQUIRE(result.records.size() == 2);
    CHECK((result.records[1].line == 3 && result.records[1].byte_offset == 11));
    REQUIRE(result.errors.size() == 1);
    CHECK(result.errors[0].source == path);
    CHECK(result.errors[0].line == 4);
    CHECK(result.errors[0].byte_offset >= 19);
    CHECK(result.errors[0].reason.find("malformed JSON") != std::string::npos);
}

TEST_CASE("input: pointer misses are per-record errors with their position", "[input]") {
    std::string path = write_file("pointer.json", "{\"a\": [1, {\"b\": 2}],\n \"s\": \"x\"}");
    Result star = read_all({path}, {.pointer = "/s/*"});
    CHECK(star.records.empty());
    REQUIRE(star.errors.size() == 1);
    CHECK(star.errors[0].reason == "pointer /s/*: `*` applied to a string at /s");
    CHECK((star.errors[0].line == 2 && star.errors[0].byte_offset == 27));

    Result nested = read_all({path}, {.pointer = "/a/*/b"});
    REQUIRE(nested.records.size() == 1);
    CHECK(nested.records[0].text == "2");
    REQUIRE(nested.errors.size() == 1);
    CHECK(nested.errors[0].reason == "pointer /a/*/b: /a/* is a number, not an object or array");
    CHECK(nested.errors[0].byte_offset == 7);

    Result missing = read_all({path}, {.pointer = "/nope"});
    REQUIRE(missing.errors.size() == 1);
    CHECK(missing.errors[0].reason == "pointer /nope: key \"nope\" not found");
    CHECK(read_all({path}, {.pointer = "/a/1"}).records.at(0).text == "{\"b\": 2}");
}

TEST_CASE("input: JSON pointers parse with escapes and are refused when invalid", "[input]") {
    auto segments = parse_json_pointer("/a~1b/*/c~0d/");
    REQUIRE(segments.size() == 4);
    CHECK(segments[0].key == "a/b");
    CHECK(segments[1].wildcard);
    CHECK(segments[2].key == "c~d");
    CHECK(segments[3].key.empty());
    CHECK_THROWS_WITH(parse_json_pointer("statuses"), Catch::Contains("start with '/'"));
    CHECK_THROWS_WITH(parse_json_pointer("/a~2"), Catch::Contains("'~' at byte 2"));
    CHECK_THROWS_AS(InputReader({}, {.pointer = "x"}), Error);
}

TEST_CASE("input: automatic format detection by content", "[input]") {
    auto detect = [](const std::string& name, const std::string& text) {
        return read_all({write_file(name, text)}, {}).records.size();
    };
    CHECK(detect("one.json", "{\"a\":1}\n") == 1);
    CHECK(detect("pretty.json", "{\n \"a\": [1, 2]\n}\n") == 1);
    CHECK(detect("lines.json", "{\"a\":\"}\\\"{\"}\n{\"a\":2}\n") == 2);
    CHECK(detect("arrays.ndjson", "[1,2]\n[3]\n") == 2);
    CHECK(detect("array.json", "  [1, 2, 3]\n") == 3);
    CHECK(detect("pretty_array.json", "[\n {\"a\":1},\n {\"a\":2}\n]") == 2);
    CHECK(detect("scalar.json", "42") == 1);
    CHECK(detect("empty.json", " \n") == 0);
    CHECK(parse_input_format("json-array") == InputFormat::json_array);
    CHECK(!parse_input_format("csv").has_value());
}

TEST_CASE("input: a truncated gzip file is an error naming the file", "[input]") {
    std::string path = data_dir + "/json/amazon_cellphones.ndjson";
    std::string gz = compress(path, "gzip", ".cut.gz");
    std::filesystem::resize_file(gz, std::filesystem::file_size(gz) / 2);
    Result result = read_all({gz, data_dir + "/json/github_events.json"}, {.chunk_bytes = 4096});
    REQUIRE(result.errors.size() == 1);
    CHECK(result.errors[0].source == gz);
    CHECK(result.errors[0].reason.find("gzip stream truncated") != std::string::npos);
    std::size_t from_gz = result.records.size() - 30;  // the next file is still read
    CHECK(from_gz > 0);
    CHECK(from_gz < 793);
    CHECK(result.errors[0].line == from_gz + 1);
}

TEST_CASE("input: a missing file is refused before anything is read", "[input]") {
    std::string good = data_dir + "/json/github_events.json";
    CHECK_THROWS_WITH(InputReader({good, "/nonexistent/in.ndjson"}, {}),
                      "cannot open input file '/nonexistent/in.ndjson': No such file or directory");
    CHECK_THROWS_WITH(InputReader({data_dir}, {}), Catch::Contains("is a directory"));
}

TEST_CASE("input: a reader dropped after one chunk stops without draining", "[input]") {
    std::string path = data_dir + "/json/amazon_cellphones.ndjson";
    RecordChunk held;
    {
        InputReader reader({path, path, path}, {.chunk_bytes = 1024, .buffers_in_flight_max = 2});
        REQUIRE(reader.next(held));
        CHECK(held.source == path);  // a view into the reader: check it while the reader lives
        CHECK(reader.progress().total_bytes == 3 * std::filesystem::file_size(path));
    }
    // The chunk outlives its reader.
    REQUIRE(!held.records.empty());
    CHECK(held.text(held.records[0]).substr(0, 2) == "[\"");
}
