#include "tools/demo.hpp"

#include <chrono>
#include <cstdio>
#include <exception>
#include <string>
#include <thread>
#include <vector>

#include "codecs/json_writer.hpp"
#include "engine/connection.hpp"
#include "engine/engine.hpp"
#include "tools/local_cluster.hpp"
#include "tools/span_rows.hpp"

namespace pgingest::tools {

namespace {

using Clock = std::chrono::steady_clock;

void print_summary(Connection& conn, std::uint64_t rows, std::size_t bytes, double seconds) {
    std::printf(
        "loaded %llu rows (%.1f MB of binary COPY, 2 writers) in %.3f s: %.0f rows/s, "
        "%.1f MB/s\n",
        static_cast<unsigned long long>(rows), static_cast<double>(bytes) / 1e6, seconds,
        static_cast<double>(rows) / seconds, static_cast<double>(bytes) / 1e6 / seconds);
    std::printf("\nwhat the server stored:\n");
    const char* queries[][2] = {
        {"rows in spans", "SELECT count(*) FROM spans"},
        {"distinct traces", "SELECT count(DISTINCT trace_id) FROM spans"},
        {"error spans", "SELECT count(*) FROM spans WHERE status = 'error'"},
        {"tokens by model",
         "SELECT string_agg(m || '=' || t, ', ' ORDER BY m) FROM (SELECT "
         "attributes->'gen_ai'->>'model' AS m, sum((attributes->'gen_ai'->'usage'->>"
         "'input_tokens')::int8) AS t FROM spans GROUP BY 1) s"},
        {"first span",
         "SELECT row(trace_id, span_id, parent_id, name, start_time, duration, status, "
         "cost_usd)::text FROM spans ORDER BY span_id LIMIT 1"},
        {"its attributes", "SELECT attributes::text FROM spans ORDER BY span_id LIMIT 1"},
        {"its embedding", "SELECT embedding::text FROM spans ORDER BY span_id LIMIT 1"},
    };
    for (const auto& [label, sql] : queries) {
        std::printf("  %-16s %s\n", label, conn.query_value(sql).c_str());
    }
}

}  // namespace

int run_demo(const DemoOptions& options) {
    try {
        std::fprintf(stderr, "pgingest demo: starting a throwaway PostgreSQL server...\n");
        LocalCluster cluster;
        std::fprintf(stderr,
                     "pgingest demo: server on 127.0.0.1:%d, data in %s (removed at exit)\n",
                     cluster.port(), cluster.directory().c_str());
        Connection conn(cluster.conninfo());
        const SpanRows spans(SpanRowOptions{.seed = options.seed, .embedding_dims = 16});
        conn.exec(spans.create_table_sql("spans"));

        // Two producer threads encode disjoint rows; the engine's two writers stream them
        // into COPY on two connections and commit.
        Engine engine(cluster.conninfo(), read_table_info(conn, "spans"),
                      EngineOptions{.writers = 2});
        auto started = Clock::now();
        std::vector<std::thread> producers;
        std::vector<Status> failures(2);
        for (std::uint64_t p = 0; p < 2; p++) {
            producers.emplace_back([&, p] {
                Producer producer = engine.producer();
                ByteBuffer scratch;
                JsonWriter json(scratch);  // reset onto the batch buffer for every row
                for (std::uint64_t row = p; row < options.rows; row += 2) {
                    ByteBuffer* out = producer.begin_row();
                    if (Status s = spans.put_fields(*out, json, row); !s.ok()) {
                        producer.cancel_row();
                        failures[p] = s;
                        return;
                    }
                    producer.end_row(RowOrigin{.offset = row});
                }
            });
        }
        for (auto& thread : producers) {
            thread.join();
        }
        engine.close();
        double seconds = std::chrono::duration<double>(Clock::now() - started).count();
        for (const Status& failure : failures) {
            if (!failure.ok()) {
                std::fprintf(stderr, "pgingest demo: a generated row failed to encode: %s\n",
                             errc_reason(failure.code));
                return 1;
            }
        }
        const EngineStats stats = engine.stats();
        const std::uint64_t stored = stats.rows_committed;
        if (stored != options.rows) {
            std::fprintf(stderr, "pgingest demo: the server stored %llu rows, expected %llu\n",
                         static_cast<unsigned long long>(stored),
                         static_cast<unsigned long long>(options.rows));
            return 1;
        }
        print_summary(conn, stored, stats.bytes_sent, seconds);
        return 0;
    } catch (const std::exception& error) {
        std::fprintf(stderr, "pgingest demo: %s\n", error.what());
        return 1;
    }
}

}  // namespace pgingest::tools
