// Proves that the reader cuts json-array and --pointer documents as they arrive
// (codecs/json_split): with chunks far smaller than the document the records, lines and byte
// offsets are those the whole-document walk gave (every element of the corpus array, byte for
// byte); a record over max_record_bytes is read past and is one error with its offset, line and
// first bytes, between its neighbours; errors outside the records keep their reason and offset.

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "engine/input.hpp"

using namespace pgingest::tools;

namespace {

struct Read {
    std::vector<std::string> texts;
    std::vector<RecordRef> records;
    std::vector<InputError> errors;
};

/// Everything the reader hands out, in order (one consumer).
Read read_one(const std::string& path, InputOptions options) {
    InputReader reader({path}, options);
    Read out;
    RecordChunk chunk;
    while (reader.next(chunk)) {
        for (const RecordRef& ref : chunk.records) {
            out.texts.emplace_back(chunk.text(ref));
            out.records.push_back(ref);
        }
        out.errors.insert(out.errors.end(), chunk.errors.begin(), chunk.errors.end());
    }
    return out;
}

std::string write(const std::string& name, const std::string& text) {
    std::string path = (std::filesystem::temp_directory_path() / ("split_" + name)).string();
    std::ofstream(path, std::ios::binary) << text;
    return path;
}

}  // namespace

TEST_CASE("input split: small chunks give the records and offsets of the whole document",
          "[input]") {
    std::ifstream in(std::string(PGINGEST_SHARED_DATA) + "/json/github_events.json");
    std::stringstream text;
    text << in.rdbuf();
    std::string doc = text.str();
    std::string path = write("events.json", doc);
    Read whole = read_one(path, {});
    REQUIRE(whole.records.size() == 30);
    for (std::size_t chunk : {std::size_t{1} << 10, std::size_t{4} << 10}) {
        INFO("chunk_bytes " << chunk);
        Read small = read_one(path, {.chunk_bytes = chunk, .records_per_chunk = 3});
        CHECK(small.texts == whole.texts);
        REQUIRE(small.records.size() == whole.records.size());
        for (std::size_t i = 0; i < small.records.size(); ++i) {
            CHECK(small.records[i].line == whole.records[i].line);
            CHECK(small.records[i].byte_offset == whole.records[i].byte_offset);
            CHECK(doc.substr(small.records[i].byte_offset, small.texts[i].size()) ==
                  small.texts[i]);
        }
        CHECK(small.errors.empty());
    }
    std::filesystem::remove(path);
}

TEST_CASE("input split: an element over max_record_bytes is read past, one error", "[input]") {
    std::string big = "{\"big\":\"" + std::string(300000, 'b') + "\"}";
    std::string path = write("big.json", "[{\"a\":1},\n" + big + ",\n{\"a\":2}]");
    Read read = read_one(path, {.chunk_bytes = 4096, .max_record_bytes = 100000});
    CHECK(read.texts == std::vector<std::string>{"{\"a\":1}", "{\"a\":2}"});
    CHECK((read.records[1].line == 3 && read.records[1].byte_offset == 10 + big.size() + 2));
    REQUIRE(read.errors.size() == 1);
    CHECK(read.errors[0].reason == "record of 300010 bytes exceeds max_record_bytes (100000)");
    CHECK((read.errors[0].line == 2 && read.errors[0].byte_offset == 10));
    CHECK(read.errors[0].text == big.substr(0, 1000));
    std::filesystem::remove(path);
}

TEST_CASE("input split: errors outside the records keep reason and offset in small chunks",
          "[input]") {
    std::string doc = "{\"a\": [1, {\"b\": 2}],\n \"s\": \"x\", \"pad\": \"" +
                      std::string(10000, 'p') + "\", \"t\": [1, 2] x}";
    std::string path = write("errors.json", doc);
    Read read = read_one(path, {.pointer = "/t", .chunk_bytes = 1024});
    CHECK(read.texts == std::vector<std::string>{"1", "2"});
    REQUIRE(read.errors.size() == 1);
    CHECK(read.errors[0].reason == "malformed JSON: expected ',' or '}' after an object member");
    CHECK((read.errors[0].line == 2 && read.errors[0].byte_offset == doc.size() - 2));
    CHECK(read.errors[0].text == "x}");
    // A miss is found when the object closes, 10 KB later: its text is no longer held (no
    // --format auto, whose detection reads the first 64 KiB at once).
    std::string valid = doc.substr(0, doc.size() - 3) + "}";
    std::string valid_path = write("miss.json", valid);
    Read miss = read_one(
        valid_path, {.format = InputFormat::document, .pointer = "/nope", .chunk_bytes = 1024});
    REQUIRE(miss.errors.size() == 1);
    CHECK(miss.errors[0].reason == "pointer /nope: key \"nope\" not found");
    CHECK((miss.errors[0].byte_offset == 0 && miss.errors[0].line == 1));
    CHECK(miss.errors[0].text.empty());
    std::filesystem::remove(path);
    std::filesystem::remove(valid_path);
}
