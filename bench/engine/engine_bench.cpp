// pgingest_engine_bench: the engine against the server's own limit, on one throwaway server.
//
// Trace-span rows (tools/span_rows: uuid, int8, text, timestamptz, interval, numeric, jsonb
// ~1 KB, real[384]) are loaded by
//   - the server alone: `COPY spans FROM '<file>' (FORMAT binary)` on a file holding the same
//     tuples, over 1 connection, and over 2 connections at once (half the rows each): no client;
//   - the engine with 1 and 2 writers (as many producer threads), io_uring and libpq send paths.
// Contenders run in alternation, `--repetitions` times, into a truncated table; the report gives
// median seconds, rows/s, MB/s of COPY data and the ratio to the server limit with as many
// connections. Usage: pgingest_engine_bench [--rows N] [--repetitions R] [--dims D]

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "codecs/copy_binary.hpp"
#include "codecs/json_writer.hpp"
#include "engine/engine.hpp"
#include "tools/local_cluster.hpp"
#include "tools/span_rows.hpp"

using namespace pgingest;
using Clock = std::chrono::steady_clock;

namespace {

struct Settings {
    std::uint64_t rows = 200'000;
    int repetitions = 3;
    std::size_t dims = 384;
};

Settings parse(int argc, char** argv) {
    Settings settings;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string flag = argv[i];
        if (flag == "--rows") {
            settings.rows = std::strtoull(argv[i + 1], nullptr, 10);
        } else if (flag == "--repetitions") {
            settings.repetitions = std::atoi(argv[i + 1]);
        } else if (flag == "--dims") {
            settings.dims = std::strtoull(argv[i + 1], nullptr, 10);
        } else {
            std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
            std::exit(2);
        }
    }
    return settings;
}

// Writes rows [first, end) as a complete COPY BINARY file the server can read.
std::uint64_t write_copy_file(const tools::SpanRows& spans, const std::string& path,
                              std::uint64_t first, std::uint64_t end) {
    ByteBuffer stream(std::size_t{64} << 20);
    JsonWriter json(stream);
    put_copy_header(stream);
    std::ofstream out(path, std::ios::binary);
    std::uint64_t bytes = 0;
    for (std::uint64_t row = first; row < end; row++) {
        if (!spans.put_tuple(stream, json, row).ok()) {
            std::fprintf(stderr, "row %llu failed to encode\n",
                         static_cast<unsigned long long>(row));
            std::exit(1);
        }
        if (stream.size() > (std::size_t{60} << 20)) {
            out.write(stream.data(), static_cast<std::streamsize>(stream.size()));
            bytes += stream.size();
            stream.clear();
        }
    }
    put_copy_trailer(stream);
    out.write(stream.data(), static_cast<std::streamsize>(stream.size()));
    bytes += stream.size();
    out.close();
    if (geteuid() == 0) {
        const passwd* user = getpwnam("postgres");
        if (user == nullptr || chown(path.c_str(), user->pw_uid, user->pw_gid) != 0) {
            std::fprintf(stderr, "cannot hand %s to the postgres user\n", path.c_str());
            std::exit(1);
        }
    }
    return bytes;
}

double server_copy(const LocalCluster& cluster, const std::vector<std::string>& files) {
    std::vector<Connection> connections;
    for (std::size_t i = 0; i < files.size(); i++) {
        connections.emplace_back(cluster.conninfo());
    }
    auto started = Clock::now();
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < files.size(); i++) {
        threads.emplace_back([&, i] {
            connections[i].exec("COPY spans " + tools::SpanRows::column_list() + " FROM '" +
                                files[i] + "' (FORMAT binary)");
        });
    }
    for (auto& thread : threads) {
        thread.join();
    }
    return std::chrono::duration<double>(Clock::now() - started).count();
}

double engine_load(const LocalCluster& cluster, const TableInfo& table,
                   const tools::SpanRows& spans, std::uint64_t rows, std::size_t writers,
                   CopyIo io) {
    auto started = Clock::now();
    Engine engine(
        cluster.conninfo(), table,
        EngineOptions{.writers = writers, .txn_bytes_max = std::uint64_t{64} << 20, .io = io});
    std::vector<std::thread> producers;
    for (std::size_t p = 0; p < writers; p++) {
        producers.emplace_back([&, p] {
            Producer producer = engine.producer();
            ByteBuffer scratch;
            JsonWriter json(scratch);  // reset onto the batch buffer for every row
            for (std::uint64_t row = p; row < rows; row += writers) {
                ByteBuffer* out = producer.begin_row();
                if (!spans.put_fields(*out, json, row).ok()) {
                    std::abort();
                }
                producer.end_row(row);
            }
        });
    }
    for (auto& thread : producers) {
        thread.join();
    }
    engine.close();
    if (engine.stats().rows_committed != rows) {
        std::fprintf(stderr, "engine committed %llu rows of %llu\n",
                     static_cast<unsigned long long>(engine.stats().rows_committed),
                     static_cast<unsigned long long>(rows));
        std::exit(1);
    }
    return std::chrono::duration<double>(Clock::now() - started).count();
}

double median(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    return values[values.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
    const Settings settings = parse(argc, argv);
    LocalCluster cluster;
    Connection conn(cluster.conninfo());
    const tools::SpanRows spans(tools::SpanRowOptions{.seed = 42, .embedding_dims = settings.dims});
    conn.exec(spans.create_table_sql("spans"));
    const TableInfo table = read_table_info(conn, "spans");

    const std::string dir = cluster.directory().string();
    const std::uint64_t half = settings.rows / 2;
    const std::uint64_t bytes = write_copy_file(spans, dir + "/all.copy", 0, settings.rows);
    (void)write_copy_file(spans, dir + "/first.copy", 0, half);
    (void)write_copy_file(spans, dir + "/second.copy", half, settings.rows);

    struct Contender {
        std::string name;
        std::size_t connections;
        std::function<double()> run;
        std::vector<double> seconds;
    };
    std::vector<Contender> contenders = {
        {"server COPY FROM file, 1 connection",
         1,
         [&] { return server_copy(cluster, {dir + "/all.copy"}); },
         {}},
        {"server COPY FROM file, 2 connections",
         2,
         [&] {
             return server_copy(cluster, {dir + "/first.copy", dir + "/second.copy"});
         },
         {}},
        {"pgingest 1 writer, io_uring",
         1,
         [&] { return engine_load(cluster, table, spans, settings.rows, 1, CopyIo::uring); },
         {}},
        {"pgingest 1 writer, libpq",
         1,
         [&] { return engine_load(cluster, table, spans, settings.rows, 1, CopyIo::libpq); },
         {}},
        {"pgingest 2 writers, io_uring",
         2,
         [&] { return engine_load(cluster, table, spans, settings.rows, 2, CopyIo::uring); },
         {}},
        {"pgingest 2 writers, libpq",
         2,
         [&] { return engine_load(cluster, table, spans, settings.rows, 2, CopyIo::libpq); },
         {}},
    };
    for (int repetition = 0; repetition < settings.repetitions; repetition++) {
        for (auto& contender : contenders) {
            conn.exec("TRUNCATE spans; CHECKPOINT");
            contender.seconds.push_back(contender.run());
            std::string stored = conn.query_value("SELECT count(*) FROM spans");
            if (stored != std::to_string(settings.rows)) {
                std::fprintf(stderr, "%s stored %s rows\n", contender.name.c_str(), stored.c_str());
                return 1;
            }
        }
    }
    std::printf("rows %llu, COPY data %.1f MB, %d repetitions (median), PostgreSQL %s\n",
                static_cast<unsigned long long>(settings.rows), static_cast<double>(bytes) / 1e6,
                settings.repetitions, conn.query_value("SHOW server_version").c_str());
    std::printf("server: fsync %s, synchronous_commit %s, wal_level %s, logged table\n\n",
                conn.query_value("SHOW fsync").c_str(),
                conn.query_value("SHOW synchronous_commit").c_str(),
                conn.query_value("SHOW wal_level").c_str());
    std::printf(
        "| contender | seconds (median; min–max) | rows/s | MB/s | ratio to server limit |\n");
    std::printf("|---|---:|---:|---:|---:|\n");
    double limit[3] = {0, median(contenders[0].seconds), median(contenders[1].seconds)};
    for (const auto& contender : contenders) {
        double seconds = median(contender.seconds);
        auto [low, high] = std::minmax_element(contender.seconds.begin(), contender.seconds.end());
        std::printf("| %s | %.3f (%.3f–%.3f) | %.0f | %.1f | %.2f |\n", contender.name.c_str(),
                    seconds, *low, *high, static_cast<double>(settings.rows) / seconds,
                    static_cast<double>(bytes) / 1e6 / seconds,
                    limit[contender.connections] / seconds);
    }
    return 0;
}
