// A user's program against the installed pgingest package (see CMakeLists.txt beside it): loads
// one row into a table `(id int8, name text, attributes jsonb)` through the engine.
//
//   pgingest_consumer CONNINFO TABLE ID NAME
//
// Prints "pgingest VERSION: 1 row loaded" and exits 0; on any error prints it and exits 1.

#include <cstdint>
#include <cstdio>
#include <exception>
#include <string>

#include <pgingest/codecs/row_writer.hpp>
#include <pgingest/engine/engine.hpp>
#include <pgingest/version.hpp>

namespace {

/// Writes the row (ID, NAME, {"via": NAME}) through `producer`; false when a value was refused.
bool write_row(pgingest::Producer& producer, const pgingest::TableInfo& table, std::int64_t id,
               const std::string& name) {
    pgingest::RowWriter row(table);
    pgingest::ByteBuffer* out = producer.begin_row();
    if (out == nullptr) {
        return false;
    }
    row.begin(*out);
    bool ok = row.integer(id).ok() && row.text(name).ok();
    pgingest::JsonWriter* json = ok ? row.begin_json() : nullptr;
    if (json == nullptr) {
        producer.cancel_row();
        return false;
    }
    json->begin_object();
    json->key("via");
    json->string(name);
    json->end_object();
    if (!row.end_json().ok() || !row.finish().ok()) {
        producer.cancel_row();
        return false;
    }
    producer.end_row({.source = 0, .offset = 0});
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 5) {
        std::fprintf(stderr, "usage: pgingest_consumer CONNINFO TABLE ID NAME\n");
        return 2;
    }
    try {
        pgingest::Engine engine(argv[1], std::string(argv[2]), {.writers = 1});
        bool written = false;
        {
            pgingest::Producer producer = engine.producer();
            written = write_row(producer, engine.table(), std::stoll(argv[3]), argv[4]);
            producer.flush();
        }
        engine.close();
        if (!written) {
            std::fprintf(stderr, "pgingest_consumer: the row was refused\n");
            return 1;
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "pgingest_consumer: %s\n", e.what());
        return 1;
    }
    std::printf("pgingest %s: 1 row loaded\n", std::string(pgingest::version).c_str());
    return 0;
}
