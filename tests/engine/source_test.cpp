// Proves the push-based record source (engine/source.hpp): the same bytes read from a file
// (push_file), pushed from memory in one piece, and pushed in random chunks of 1 byte and up
// yield the same records, lines, byte offsets and errors, and the same ones `pgingest load`'s
// InputReader finds (NDJSON with blank lines, CRLF, a BOM and bad lines; a JSON array; a
// pointer document; OTLP traces; gzip and zstd, declared or found by magic bytes); damaged
// compressed bodies are one error naming the source and the decompressed offset, as on the
// file path; every refusal has its exact text.

#include "engine/source.hpp"

#include <simdjson.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "engine/errors.hpp"
#include "engine/input.hpp"

using namespace pgingest;
using namespace pgingest::tools;

namespace {

const std::string data_dir = PGINGEST_SHARED_DATA;

struct Found {
    std::string text;
    std::uint64_t line = 0;
    std::uint64_t byte_offset = 0;
    bool operator==(const Found&) const = default;
};

struct Collected {
    std::vector<Found> records;
    std::vector<InputError> errors;
};

/// Keeps copies of what a source hands out.
class Collector final : public RecordSink {
  public:
    void record(const SourceRecord& record) override {
        collected.records.push_back({std::string(record.text), record.line, record.byte_offset});
    }
    void error(InputError error) override { collected.errors.push_back(std::move(error)); }
    Collected collected;
};

std::string read_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::filesystem::path temp_dir() {
    auto dir = std::filesystem::temp_directory_path() /
               ("pgingest_source_test_" + std::to_string(::getpid()));
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

std::string gzip_bytes(const std::string& text) {
    z_stream z{};
    REQUIRE(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK);
    std::string out(deflateBound(&z, static_cast<uLong>(text.size())), '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
    z.avail_in = static_cast<uInt>(text.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    REQUIRE(deflate(&z, Z_FINISH) == Z_STREAM_END);
    out.resize(z.total_out);
    deflateEnd(&z);
    return out;
}

std::string zstd_bytes(const std::string& text) {
    std::string out(ZSTD_compressBound(text.size()), '\0');
    std::size_t size = ZSTD_compress(out.data(), out.size(), text.data(), text.size(), 3);
    REQUIRE(ZSTD_isError(size) == 0);
    out.resize(size);
    return out;
}

Collected push_whole(const std::string& name, const std::string& bytes, PushOptions options) {
    Collector sink;
    PushSource source(name, std::move(options), sink);
    source.push(std::string_view(bytes));
    source.finish();
    CHECK(source.progress().records == sink.collected.records.size());
    CHECK(source.progress().errors == sink.collected.errors.size());
    CHECK(source.progress().compressed_bytes == bytes.size());
    return std::move(sink.collected);
}

/// Pushes `bytes` in random chunks: half of them 1 to 8 bytes, the rest up to 64 KiB.
Collected push_chunks(const std::string& name, const std::string& bytes, PushOptions options,
                      std::uint64_t seed) {
    std::mt19937_64 random(seed);
    std::uniform_int_distribution<std::size_t> small(1, 8);
    std::uniform_int_distribution<std::size_t> large(1, 65536);
    Collector sink;
    PushSource source(name, std::move(options), sink);
    std::size_t at = 0;
    while (at < bytes.size()) {
        std::size_t size = (random() & 1) != 0 ? small(random) : large(random);
        size = std::min(size, bytes.size() - at);
        source.push(std::string_view(bytes).substr(at, size));
        at += size;
    }
    source.finish();
    source.finish();  // idempotent
    return std::move(sink.collected);
}

Collected push_path(const std::string& path, PushOptions options) {
    Collector sink;
    PushSource source(path, std::move(options), sink);
    push_file(path, source);
    CHECK(source.finished());
    return std::move(sink.collected);
}

/// What InputReader (the reader of `pgingest load`) finds in `path`, in offset order.
Collected read_reference(const std::string& path, const PushOptions& options) {
    InputReader reader({path}, {.format = options.format,
                                .pointer = options.pointer,
                                .max_record_bytes = options.max_record_bytes});
    Collected result;
    RecordChunk chunk;
    while (reader.next(chunk)) {
        for (const RecordRef& ref : chunk.records) {
            result.records.push_back({std::string(chunk.text(ref)), ref.line, ref.byte_offset});
        }
        for (const InputError& error : chunk.errors) {
            result.errors.push_back(error);
        }
    }
    return result;
}

auto error_place(const InputError& error) {
    return std::tie(error.source, error.line, error.byte_offset, error.reason);
}

void sort_by_offset(Collected& collected) {
    std::stable_sort(collected.records.begin(), collected.records.end(),
                     [](const Found& a, const Found& b) { return a.byte_offset < b.byte_offset; });
    std::stable_sort(
        collected.errors.begin(), collected.errors.end(),
        [](const InputError& a, const InputError& b) { return a.byte_offset < b.byte_offset; });
}

/// Same records; same errors (`with_text`: their text too).
void check_same(const Collected& got, const Collected& want, bool with_text) {
    REQUIRE(got.records.size() == want.records.size());
    for (std::size_t i = 0; i < got.records.size(); ++i) {
        INFO("record " << i);
        CHECK(got.records[i] == want.records[i]);
    }
    REQUIRE(got.errors.size() == want.errors.size());
    for (std::size_t i = 0; i < got.errors.size(); ++i) {
        INFO("error " << i << ": " << got.errors[i].reason);
        CHECK(error_place(got.errors[i]) == error_place(want.errors[i]));
        if (with_text) {
            CHECK(got.errors[i].text == want.errors[i].text);
        }
    }
}

/// The file, the memory buffer, three random chunkings and InputReader agree on `path`.
Collected check_all_ways(const std::string& path, const PushOptions& options) {
    std::string bytes = read_bytes(path);
    Collected from_file = push_path(path, options);
    Collected from_memory = push_whole(path, bytes, options);
    check_same(from_memory, from_file, true);
    for (std::uint64_t seed = 1; seed <= 3; ++seed) {
        INFO("chunk seed " << seed);
        check_same(push_chunks(path, bytes, options, seed), from_file, false);
    }
    Collected sorted = from_file;
    sort_by_offset(sorted);
    check_same(sorted, read_reference(path, options), false);
    return from_file;
}

}  // namespace

TEST_CASE("source: NDJSON with blank lines, CRLF, a BOM and bad lines, every way", "[source]") {
    std::string text = "\xEF\xBB\xBF{\"a\":1}\n\n{\"b\":2}\r\n{\"b\": oops}\n   \n{\"b\":[1,2]}";
    std::string path = write_file("hand.ndjson", text);
    Collected plain = check_all_ways(path, {});
    REQUIRE(plain.records.size() == 4);
    CHECK(plain.records[0] == Found{"{\"a\":1}", 1, 3});
    CHECK(plain.records[1] == Found{"{\"b\":2}", 3, 12});
    CHECK(plain.records[2] == Found{"{\"b\": oops}", 4, 21});
    CHECK(plain.records[3] == Found{"{\"b\":[1,2]}", 6, 37});
    CHECK(plain.errors.empty());

    Collected pointed = check_all_ways(path, {.pointer = "/b"});
    REQUIRE(pointed.records.size() == 3);
    CHECK(pointed.records[1] == Found{"1", 6, 43});
    REQUIRE(pointed.errors.size() == 2);
    CHECK(pointed.errors[0].source == path);
    CHECK(pointed.errors[0].reason == "pointer /b: key \"b\" not found (column 1)");
    CHECK(pointed.errors[0].text == "{\"a\":1}");
    CHECK((pointed.errors[1].line == 4 && pointed.errors[1].byte_offset == 21));
    CHECK(pointed.errors[1].text == "{\"b\": oops}");
}

TEST_CASE("source: corpus documents, arrays and pointers give the same records every way",
          "[source]") {
    check_all_ways(data_dir + "/json/github_events.json", {});
    check_all_ways(data_dir + "/json/github_events.json", {.format = InputFormat::json_array});
    check_all_ways(data_dir + "/json/twitter.json", {.pointer = "/statuses"});
    check_all_ways(data_dir + "/json/twitter.json", {.format = InputFormat::document});
    Collected cells = check_all_ways(data_dir + "/json/amazon_cellphones.ndjson", {});
    CHECK(cells.records.size() > 100);
    std::size_t spans = 0;
    for (const auto& entry : std::filesystem::directory_iterator(data_dir + "/traces/otlp")) {
        INFO(entry.path().string());
        spans += check_all_ways(entry.path().string(),
                                {.pointer = "/resourceSpans/*/scopeSpans/*/spans"})
                     .records.size();
    }
    CHECK(spans >= 10);
}

TEST_CASE("source: pointer misses and a malformed array, every way", "[source]") {
    std::string doc = write_file("pointer.json", "{\"a\": [1, {\"b\": 2}],\n \"s\": \"x\"}");
    Collected star = check_all_ways(doc, {.pointer = "/s/*"});
    REQUIRE(star.errors.size() == 1);
    CHECK(star.errors[0].reason == "pointer /s/*: `*` applied to a string at /s");
    CHECK((star.errors[0].line == 2 && star.errors[0].byte_offset == 27));
    Collected nested = check_all_ways(doc, {.pointer = "/a/*/b"});
    REQUIRE(nested.records.size() == 1);
    CHECK(nested.errors.at(0).reason == "pointer /a/*/b: /a/* is a number, not an object or array");

    std::string cut = write_file("cut.json", "[\n{\"a\":1},\n{\"b\":2},\n{\"c\":[1, ");
    Collected partial = check_all_ways(cut, {});
    REQUIRE(partial.records.size() == 2);
    REQUIRE(partial.errors.size() == 1);
    CHECK(partial.errors[0].reason ==
          "malformed JSON: the document ends before its value is complete");
}

TEST_CASE("source: gzip and zstd bodies pushed in chunks, declared and by magic", "[source]") {
    std::string text = read_bytes(data_dir + "/json/amazon_cellphones.ndjson");
    Collected plain = push_whole("body", text, {});
    REQUIRE(plain.records.size() > 100);
    struct Case {
        std::string bytes;
        ContentEncoding declared;
    };
    for (const Case& c : {Case{gzip_bytes(text), ContentEncoding::gzip},
                          Case{zstd_bytes(text), ContentEncoding::zstd},
                          Case{gzip_bytes(text.substr(0, 1000)) + gzip_bytes(text.substr(1000)),
                               ContentEncoding::gzip}}) {
        for (std::uint64_t seed = 1; seed <= 2; ++seed) {
            INFO("seed " << seed << ", declared " << static_cast<int>(c.declared));
            check_same(push_chunks("body", c.bytes, {.encoding = c.declared}, seed), plain, true);
            check_same(push_chunks("body", c.bytes, {}, seed), plain, true);
        }
    }
    // Declared identity: compressed bytes are taken as they are (and are not JSON lines).
    Collected raw =
        push_whole("body", gzip_bytes("{\"a\":1}\n{\"a\":2}\n"),
                   {.format = InputFormat::ndjson, .encoding = ContentEncoding::identity});
    CHECK(raw.records.size() == 1);
    CHECK(raw.records.at(0).text.rfind("\x1f\x8b", 0) == 0);
}

TEST_CASE("source: a truncated gzip body is one error with the decompressed offset", "[source]") {
    std::string text;
    for (int i = 0; i < 5000; ++i) {
        text += "{\"n\":" + std::to_string(i) + ",\"pad\":\"" + std::string(20, 'x') + "\"}\n";
    }
    std::string compressed = gzip_bytes(text);
    std::string cut = compressed.substr(0, compressed.size() / 2);
    std::string path = write_file("cut.ndjson.gz", cut);
    Collected reference = read_reference(path, {});
    REQUIRE(reference.errors.size() == 1);
    Collected from_file = push_path(path, {});
    check_same(from_file, reference, true);
    const InputError& damage = from_file.errors[0];
    CHECK(damage.source == path);
    CHECK(damage.reason.rfind("gzip: unexpected end of compressed data at decompressed offset ",
                              0) == 0);
    for (std::uint64_t seed = 1; seed <= 3; ++seed) {
        Collected pushed = push_chunks(path, cut, {.encoding = ContentEncoding::gzip}, seed);
        check_same(pushed, reference, true);
    }
    std::string zcut = zstd_bytes(text);
    zcut.resize(zcut.size() / 2);
    std::string zpath = write_file("cut.ndjson.zst", zcut);
    Collected zreference = read_reference(zpath, {});
    REQUIRE(zreference.errors.size() == 1);
    CHECK(zreference.errors[0].reason.rfind("zstd: unexpected end of compressed data at ", 0) == 0);
    check_same(push_chunks(zpath, zcut, {.encoding = ContentEncoding::zstd}, 7), zreference, true);
}

TEST_CASE("source: refusals and errors have their exact text", "[source]") {
    std::string lines = "{\"a\":1}\n{\"b\":2}\n";
    Collected not_gzip = push_whole("req-1", lines, {.encoding = ContentEncoding::gzip});
    REQUIRE(not_gzip.errors.size() == 1);
    CHECK(not_gzip.records.empty());
    CHECK(not_gzip.errors[0].source == "req-1");
    CHECK(not_gzip.errors[0].reason ==
          "gzip: corrupt data (incorrect header check) at decompressed offset 0");
    Collected not_zstd = push_whole("req-2", lines, {.encoding = ContentEncoding::zstd});
    REQUIRE(not_zstd.errors.size() == 1);
    CHECK(not_zstd.errors[0].reason ==
          "zstd: corrupt data (Unknown frame descriptor) at decompressed offset 0");
    Collected empty_gzip = push_whole("req-3", "", {.encoding = ContentEncoding::gzip});
    REQUIRE(empty_gzip.errors.size() == 1);
    CHECK(empty_gzip.errors[0].reason ==
          "gzip: unexpected end of compressed data at decompressed offset 0");

    std::string long_line = "{\"a\":\"" + std::string(100, 'x') + "\"}";
    std::string text = "{\"a\":1}\n" + long_line + "\r\n{\"a\":3}";
    for (std::uint64_t seed = 1; seed <= 3; ++seed) {
        Collected big = push_chunks("req-4", text,
                                    {.format = InputFormat::ndjson, .max_record_bytes = 50}, seed);
        REQUIRE(big.records.size() == 2);
        CHECK(big.records[1] == Found{"{\"a\":3}", 3, 118});
        REQUIRE(big.errors.size() == 1);
        CHECK(big.errors[0].reason == "record of 108 bytes exceeds max_record_bytes (50)");
        CHECK((big.errors[0].line == 2 && big.errors[0].byte_offset == 8));
        CHECK(big.errors[0].text == long_line);
    }
    Collected none = push_whole("req-5", " \n", {.format = InputFormat::document});
    REQUIRE(none.errors.size() == 1);
    CHECK(none.errors[0].reason ==
          "the file holds no JSON document (it is empty or only whitespace)");

    Collector sink;
    PushSource source("req-6", {}, sink);
    source.finish();
    CHECK_THROWS_WITH(source.push(std::string_view("x")),
                      "input source 'req-6': bytes pushed after its end");
    CHECK_THROWS_WITH(PushSource("req-7", {.pointer = "a"}, sink),
                      "invalid JSON pointer 'a': it must be empty or start with '/' (RFC 6901)");
    PushSource file_source("nowhere", {}, sink);
    CHECK_THROWS_WITH(push_file("/nonexistent/x.ndjson", file_source),
                      "cannot open input file '/nonexistent/x.ndjson': No such file or directory");
    CHECK_THROWS_WITH(push_file(temp_dir().string(), file_source),
                      "cannot read input file '" + temp_dir().string() + "': it is a directory");
}

TEST_CASE("source: Content-Encoding names", "[source]") {
    CHECK(parse_content_encoding("") == ContentEncoding::identity);
    CHECK(parse_content_encoding("identity") == ContentEncoding::identity);
    CHECK(parse_content_encoding("GZIP") == ContentEncoding::gzip);
    CHECK(parse_content_encoding("x-gzip") == ContentEncoding::gzip);
    CHECK(parse_content_encoding("zstd") == ContentEncoding::zstd);
    CHECK(parse_content_encoding("auto") == ContentEncoding::detect);
    CHECK(parse_content_encoding("br") == std::nullopt);
    CHECK(parse_content_encoding("gzip, zstd") == std::nullopt);
}

TEST_CASE("source: a FIFO is read through push_file as its writer writes", "[source]") {
    std::string fifo = (temp_dir() / "body.fifo").string();
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    std::thread writer([&] {
        std::ofstream out(fifo, std::ios::binary);
        out << "{\"a\":1}\n" << std::flush;
        out << "{\"a\":2}\n";
    });
    Collected got = push_path(fifo, {});
    writer.join();
    REQUIRE(got.records.size() == 2);
    CHECK(got.records[1] == Found{"{\"a\":2}", 2, 8});
}

TEST_CASE("source: OTLP spans carry their resource and scope, pushed in random chunks",
          "[source]") {
    PushOptions options{.pointer = "/resourceSpans/*/scopeSpans/*/spans",
                        .carry = {{.level = 2, .key = "resource", .as = "resource"},
                                  {.level = 4, .key = "scope", .as = "scope"}}};
    std::size_t checked = 0;
    for (const auto& entry : std::filesystem::directory_iterator(data_dir + "/traces/otlp")) {
        std::string path = entry.path().string();
        std::string bytes = read_bytes(path);
        if (bytes.find("\"resourceSpans\"") == std::string::npos) {
            continue;
        }
        INFO(path);
        // Expected: each span of a DOM walk with its ancestors' members.
        simdjson::dom::parser parser;
        simdjson::dom::element root = parser.parse(bytes);
        std::vector<std::string> expected;
        for (simdjson::dom::element resource_spans : root["resourceSpans"].get_array()) {
            for (simdjson::dom::element scope_spans : resource_spans["scopeSpans"].get_array()) {
                for (simdjson::dom::element span : scope_spans["spans"].get_array()) {
                    std::string object = "{";
                    for (auto [ancestor, key] :
                         {std::pair(resource_spans, "resource"), std::pair(scope_spans, "scope")}) {
                        simdjson::dom::element value;
                        if (ancestor[key].get(value) == simdjson::SUCCESS) {
                            object +=
                                std::string("\"") + key + "\":" + simdjson::minify(value) + ",";
                        }
                    }
                    std::string own = simdjson::minify(span);
                    object += own.substr(1);
                    if (object.back() == '}' && object[object.size() - 2] == ',') {
                        object.erase(object.size() - 2, 1);
                    }
                    expected.push_back(object);
                }
            }
        }
        Collected whole = push_path(path, options);
        Collected chunked = push_chunks(path, bytes, options, 11);
        check_same(chunked, whole, false);
        REQUIRE(whole.records.size() == expected.size());
        simdjson::dom::parser record_parser;
        for (std::size_t i = 0; i < expected.size(); ++i) {
            simdjson::dom::element record = record_parser.parse(whole.records[i].text);
            CHECK(simdjson::minify(record) == expected[i]);
        }
        checked += expected.size();
    }
    CHECK(checked >= 10);

    Collector sink;
    CHECK_THROWS_WITH(PushSource("req",
                                 {.format = InputFormat::ndjson,
                                  .pointer = "/a",
                                  .carry = {{.level = 0, .key = "r", .as = "r"}}},
                                 sink),
                      "input source 'req': carried members need a JSON document cut by the "
                      "pointer, not NDJSON");
    CHECK_THROWS_WITH(
        PushSource("req", {.pointer = "/a/*", .carry = {{.level = 1, .key = "r", .as = "r"}}},
                   sink),
        "JsonSplitter: carried member \"r\" at level 1 is not beside a key segment "
        "of the pointer");
    Collected lines = push_whole("req", "{\"r\":1,\"a\":{}}\n{\"r\":2,\"a\":{}}\n",
                                 {.pointer = "/a", .carry = {{.level = 0, .key = "r", .as = "r"}}});
    CHECK(lines.records.empty());
    REQUIRE(lines.errors.size() == 1);
    CHECK(lines.errors[0].reason ==
          "carried members need a JSON document cut by the pointer, not NDJSON");
}
