// pgingest_engine_bench: the engine against the server's own limit, on one throwaway server.
//
// Two workloads (`--workload spans|events|all`):
//   - spans: trace-span rows (tools/span_rows: uuid, int8, text, timestamptz, interval, numeric,
//     jsonb ~1 KB, and the embedding as pgvector `vector(dims)` when `CREATE EXTENSION vector`
//     succeeds, else `real[dims]`), into a table without indexes;
//   - events: narrow event-store rows (tools/event_rows: text, timestamptz, uuid, int8, int4,
//     jsonb ~100 B) into a table with a bigserial primary key and two more indexes.
// Each is loaded by
//   - the server alone: `COPY t FROM '<file>' (FORMAT binary)` on a file holding the same
//     tuples, over 1 connection, and over 2 connections at once (half the rows each): no client;
//   - the engine with 1 and 2 writers (as many producer threads), io_uring and libpq send paths.
// Contenders run in alternation, `--repetitions` times, into a truncated table; the report gives
// median seconds, rows/s, MB/s of COPY data, the ratio to the server limit with as many
// connections, and CPU seconds (medians):
//   - client: getrusage(RUSAGE_SELF) of this process over the run (producers, writers, main);
//     "producers" is the producer threads' own CLOCK_THREAD_CPUTIME_ID (encoding the rows);
//   - backends: the postmaster's cutime + cstime (its reaped children) over the run. The run
//     ends once every backend opened during it has exited and was reaped, so this is exactly
//     the CPU of the backends that served the run (the engine's writers or the server COPYs);
//     autovacuum is off so no other child of the postmaster exits meanwhile. "system" is the
//     part of it spent in the kernel (cstime: reading the file or the socket, writing WAL);
//   - other server: utime + stime of the postmaster and its long-lived children (WAL writer,
//     checkpointer, background writer...), without the bench's own control connection.
// Usage: pgingest_engine_bench [--workload spans|events|all] [--rows N] [--repetitions R]
//                              [--dims D]

#include <dirent.h>
#include <pwd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "codecs/copy_binary.hpp"
#include "codecs/json_writer.hpp"
#include "engine/engine.hpp"
#include "engine/errors.hpp"
#include "tools/event_rows.hpp"
#include "tools/local_cluster.hpp"
#include "tools/span_rows.hpp"

using namespace pgingest;
using Clock = std::chrono::steady_clock;

namespace {

struct Settings {
    std::string workload = "all";
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
        } else if (flag == "--workload") {
            settings.workload = argv[i + 1];
        } else {
            std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
            std::exit(2);
        }
    }
    if (settings.workload != "spans" && settings.workload != "events" &&
        settings.workload != "all") {
        std::fprintf(stderr, "--workload %s: expected spans, events or all\n",
                     settings.workload.c_str());
        std::exit(2);
    }
    if (settings.rows < 2 || settings.repetitions < 1) {
        std::fprintf(stderr, "--rows must be at least 2 and --repetitions at least 1\n");
        std::exit(2);
    }
    return settings;
}

// What the bench needs of a row generator: its table and how to encode row n.
struct Workload {
    std::string table;
    std::string description;
    std::string create_sql;
    std::string column_list;
    std::uint16_t field_count;
    std::string server_filled_column;  // left out of the engine's COPY (a bigserial), or ""
    std::function<Status(ByteBuffer&, JsonWriter&, std::uint64_t)> put_fields;
};

// ---- CPU accounting --------------------------------------------------------------------------

double process_cpu_seconds() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    auto seconds = [](const timeval& t) {
        return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
    };
    return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

double thread_cpu_seconds() {
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

// Fields of /proc/<pid>/stat (proc(5)), times in clock ticks; `ok` false once the pid is gone.
struct ProcStat {
    bool ok = false;
    char state = '?';
    long ppid = 0;
    unsigned long long utime = 0, stime = 0, cutime = 0, cstime = 0;
};

ProcStat read_proc_stat(long pid) {
    ProcStat stat;
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::size_t paren = text.rfind(')');  // the command name may hold spaces and parentheses
    if (paren == std::string::npos) {
        return stat;
    }
    std::istringstream fields(text.substr(paren + 2));
    std::string skip;
    fields >> stat.state >> stat.ppid;
    for (int field = 5; field <= 13; field++) {
        fields >> skip;
    }
    fields >> stat.utime >> stat.stime >> stat.cutime >> stat.cstime;
    stat.ok = !fields.fail();
    return stat;
}

std::vector<long> children_of(long parent) {
    std::vector<long> children;
    DIR* proc = opendir("/proc");
    if (proc == nullptr) {
        return children;
    }
    while (dirent* entry = readdir(proc)) {
        char* end = nullptr;
        long pid = std::strtol(entry->d_name, &end, 10);
        if (*end == '\0' && pid > 0 && read_proc_stat(pid).ppid == parent) {
            children.push_back(pid);
        }
    }
    closedir(proc);
    return children;
}

// CPU seconds of the server over one run.
struct ServerSeconds {
    double backends = 0;
    double backends_system = 0;  // the part of `backends` spent in the kernel
    double other = 0;
};

// The server's CPU from /proc, split as the file's header says.
class ServerCpu {
  public:
    explicit ServerCpu(Connection& control) {
        _control_pid = std::stol(control.query_value("SELECT pg_backend_pid()"));
        _postmaster_pid = read_proc_stat(_control_pid).ppid;
        _ticks_per_second = static_cast<double>(sysconf(_SC_CLK_TCK));
    }

    /// Call right before a run.
    void start() {
        _resident = children_of(_postmaster_pid);
        ProcStat postmaster = read_proc_stat(_postmaster_pid);
        _reaped_start = postmaster.cutime + postmaster.cstime;
        _reaped_system_start = postmaster.cstime;
        _other_start = other_ticks();
    }

    /// Call once the run's connections are closed: waits (up to 10 s) for their backends to be
    /// reaped, then returns the server's CPU seconds since `start`.
    ServerSeconds stop() {
        const std::set<long> resident(_resident.begin(), _resident.end());
        for (int wait = 0; wait < 1000; wait++) {
            std::vector<long> now = children_of(_postmaster_pid);
            if (std::all_of(now.begin(), now.end(),
                            [&](long pid) { return resident.count(pid); })) {
                break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        ProcStat postmaster = read_proc_stat(_postmaster_pid);
        double reaped = static_cast<double>(postmaster.cutime + postmaster.cstime - _reaped_start);
        double other = static_cast<double>(other_ticks() - _other_start);
        double system = static_cast<double>(postmaster.cstime - _reaped_system_start);
        return {.backends = reaped / _ticks_per_second,
                .backends_system = system / _ticks_per_second,
                .other = other / _ticks_per_second};
    }

  private:
    unsigned long long other_ticks() const {
        ProcStat postmaster = read_proc_stat(_postmaster_pid);
        unsigned long long ticks = postmaster.utime + postmaster.stime;
        for (long pid : _resident) {
            ProcStat child = read_proc_stat(pid);
            if (pid != _control_pid && child.ok) {
                ticks += child.utime + child.stime;
            }
        }
        return ticks;
    }

    long _control_pid = 0;
    long _postmaster_pid = 0;
    double _ticks_per_second = 100;
    std::vector<long> _resident;
    unsigned long long _reaped_start = 0;
    unsigned long long _reaped_system_start = 0;
    unsigned long long _other_start = 0;
};

// ---- contenders ------------------------------------------------------------------------------

struct Measurement {
    double seconds = 0;
    double client_cpu = 0;
    double producer_cpu = 0;
    double backend_cpu = 0;
    double backend_system_cpu = 0;
    double other_cpu = 0;
};

// Writes rows [first, end) as a complete COPY BINARY file the server can read.
std::uint64_t write_copy_file(const Workload& workload, const std::string& path,
                              std::uint64_t first, std::uint64_t end) {
    ByteBuffer stream(std::size_t{64} << 20);
    JsonWriter json(stream);
    put_copy_header(stream);
    std::ofstream out(path, std::ios::binary);
    std::uint64_t bytes = 0;
    for (std::uint64_t row = first; row < end; row++) {
        put_tuple_header(stream, workload.field_count);
        if (!workload.put_fields(stream, json, row).ok()) {
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

void server_copy(const LocalCluster& cluster, const Workload& workload,
                 const std::vector<std::string>& files) {
    std::vector<Connection> connections;
    for (std::size_t i = 0; i < files.size(); i++) {
        connections.emplace_back(cluster.conninfo());
    }
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < files.size(); i++) {
        threads.emplace_back([&, i] {
            connections[i].exec("COPY " + workload.table + " " + workload.column_list + " FROM '" +
                                files[i] + "' (FORMAT binary)");
        });
    }
    for (auto& thread : threads) {
        thread.join();
    }
}

// Returns the producer threads' CPU seconds.
double engine_load(const LocalCluster& cluster, const TableInfo& table, const Workload& workload,
                   std::uint64_t rows, std::size_t writers, CopyIo io) {
    Engine engine(
        cluster.conninfo(), table,
        EngineOptions{.writers = writers, .txn_bytes_max = std::uint64_t{64} << 20, .io = io});
    std::vector<double> producer_cpu(writers, 0.0);
    std::vector<std::thread> producers;
    for (std::size_t p = 0; p < writers; p++) {
        producers.emplace_back([&, p] {
            Producer producer = engine.producer();
            ByteBuffer scratch;
            JsonWriter json(scratch);  // reset onto the batch buffer for every row
            for (std::uint64_t row = p; row < rows; row += writers) {
                ByteBuffer* out = producer.begin_row();
                if (!workload.put_fields(*out, json, row).ok()) {
                    std::abort();
                }
                producer.end_row(RowOrigin{.offset = row});
            }
            producer_cpu[p] = thread_cpu_seconds();
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
    double total = 0;
    for (double seconds : producer_cpu) {
        total += seconds;
    }
    return total;
}

// Times `run` (which returns the producers' CPU seconds) with the CPU of both sides.
Measurement measure(ServerCpu& server, const std::function<double()>& run) {
    Measurement measurement;
    server.start();
    const double client_start = process_cpu_seconds();
    const auto started = Clock::now();
    measurement.producer_cpu = run();
    measurement.seconds = std::chrono::duration<double>(Clock::now() - started).count();
    measurement.client_cpu = process_cpu_seconds() - client_start;
    const ServerSeconds server_seconds = server.stop();
    measurement.backend_cpu = server_seconds.backends;
    measurement.backend_system_cpu = server_seconds.backends_system;
    measurement.other_cpu = server_seconds.other;
    return measurement;
}

double median(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    return values[values.size() / 2];
}

struct Contender {
    std::string name;
    std::size_t connections;
    std::function<double()> run;
    std::vector<Measurement> runs;

    double median_of(double Measurement::*field) const {
        std::vector<double> values;
        for (const auto& run_ : runs) {
            values.push_back(run_.*field);
        }
        return median(values);
    }
};

std::vector<Contender> make_contenders(const LocalCluster& cluster, const TableInfo& table,
                                       const Workload& workload, std::uint64_t rows,
                                       const std::string& prefix) {
    auto server = [&cluster, &workload](std::vector<std::string> files) {
        return [&cluster, &workload, files] {
            server_copy(cluster, workload, files);
            return 0.0;
        };
    };
    auto engine = [&cluster, table, &workload, rows](std::size_t writers, CopyIo io) {
        return [&cluster, table, &workload, rows, writers, io] {
            return engine_load(cluster, table, workload, rows, writers, io);
        };
    };
    return {
        {"server COPY FROM file, 1 connection", 1, server({prefix + "all.copy"}), {}},
        {"server COPY FROM file, 2 connections",
         2,
         server({prefix + "first.copy", prefix + "second.copy"}),
         {}},
        {"pgingest 1 writer, io_uring", 1, engine(1, CopyIo::uring), {}},
        {"pgingest 1 writer, libpq", 1, engine(1, CopyIo::libpq), {}},
        {"pgingest 2 writers, io_uring", 2, engine(2, CopyIo::uring), {}},
        {"pgingest 2 writers, libpq", 2, engine(2, CopyIo::libpq), {}},
    };
}

void print_report(const std::vector<Contender>& contenders, std::uint64_t rows,
                  std::uint64_t bytes) {
    std::printf(
        "| contender | seconds (median; min–max) | rows/s | MB/s | ratio to server limit "
        "| client CPU s (producers) | backends CPU s (system) | client/backends CPU | other server "
        "CPU s "
        "|\n");
    std::printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    const double limit[3] = {0, contenders[0].median_of(&Measurement::seconds),
                             contenders[1].median_of(&Measurement::seconds)};
    for (const auto& contender : contenders) {
        std::vector<double> all;
        for (const auto& run : contender.runs) {
            all.push_back(run.seconds);
        }
        const double seconds = median(all);
        auto [low, high] = std::minmax_element(all.begin(), all.end());
        const double client = contender.median_of(&Measurement::client_cpu);
        const double backends = contender.median_of(&Measurement::backend_cpu);
        std::printf(
            "| %s | %.3f (%.3f–%.3f) | %.0f | %.1f | %.2f | %.2f (%.2f) | %.2f (%.2f) | %.1f %% | "
            "%.2f |\n",
            contender.name.c_str(), seconds, *low, *high, static_cast<double>(rows) / seconds,
            static_cast<double>(bytes) / 1e6 / seconds, limit[contender.connections] / seconds,
            client, contender.median_of(&Measurement::producer_cpu), backends,
            contender.median_of(&Measurement::backend_system_cpu),
            backends > 0 ? 100.0 * client / backends : 0.0,
            contender.median_of(&Measurement::other_cpu));
    }
}

// Runs every contender of one workload and prints its table; returns false on a wrong count.
bool bench_workload(const LocalCluster& cluster, Connection& conn, ServerCpu& server_cpu,
                    const Workload& workload, const Settings& settings) {
    conn.exec(workload.create_sql);
    TableInfo table = read_table_info(conn, workload.table);
    std::erase_if(table.columns, [&](const ColumnInfo& column) {
        return column.name == workload.server_filled_column;
    });
    const std::string prefix = cluster.directory().string() + "/" + workload.table + "_";
    const std::uint64_t half = settings.rows / 2;
    const std::uint64_t bytes = write_copy_file(workload, prefix + "all.copy", 0, settings.rows);
    (void)write_copy_file(workload, prefix + "first.copy", 0, half);
    (void)write_copy_file(workload, prefix + "second.copy", half, settings.rows);

    std::vector<Contender> contenders =
        make_contenders(cluster, table, workload, settings.rows, prefix);
    for (int repetition = 0; repetition < settings.repetitions; repetition++) {
        for (auto& contender : contenders) {
            conn.exec("TRUNCATE " + workload.table + " RESTART IDENTITY; CHECKPOINT");
            contender.runs.push_back(measure(server_cpu, contender.run));
            std::string stored = conn.query_value("SELECT count(*) FROM " + workload.table);
            if (stored != std::to_string(settings.rows)) {
                std::fprintf(stderr, "%s stored %s rows\n", contender.name.c_str(), stored.c_str());
                return false;
            }
        }
    }
    for (const char* file : {"all.copy", "first.copy", "second.copy"}) {
        std::remove((prefix + file).c_str());
    }
    std::printf("\n%s: %s\nrows %llu, COPY data %.1f MB (%.0f B/row), %d repetitions (median)\n\n",
                workload.table.c_str(), workload.description.c_str(),
                static_cast<unsigned long long>(settings.rows), static_cast<double>(bytes) / 1e6,
                static_cast<double>(bytes) / static_cast<double>(settings.rows),
                settings.repetitions);
    print_report(contenders, settings.rows, bytes);
    return true;
}

// The span workload; its embedding is pgvector `vector` when the extension can be created.
Workload span_workload(Connection& conn, std::size_t dims, std::unique_ptr<tools::SpanRows>& keep) {
    std::string why_not;
    tools::EmbeddingType type = tools::EmbeddingType::vector;
    try {
        conn.exec("CREATE EXTENSION IF NOT EXISTS vector");
    } catch (const ServerError& error) {
        type = tools::EmbeddingType::real_array;
        why_not = error.what();
        why_not = why_not.substr(0, why_not.find('\n'));
    }
    keep = std::make_unique<tools::SpanRows>(
        tools::SpanRowOptions{.seed = 42, .embedding_dims = dims, .embedding = type});
    const tools::SpanRows* spans = keep.get();
    std::string embedding =
        type == tools::EmbeddingType::vector
            ? "vector(" + std::to_string(dims) + ")"
            : "real[" + std::to_string(dims) + "] (no pgvector: " + why_not + ")";
    return Workload{
        .table = "spans",
        .description = "trace spans, no index, embedding " + embedding,
        .create_sql = spans->create_table_sql("spans"),
        .column_list = tools::SpanRows::column_list(),
        .field_count = tools::SpanRows::field_count,
        .server_filled_column = "",
        .put_fields = [spans](ByteBuffer& out, JsonWriter& json,
                              std::uint64_t row) { return spans->put_fields(out, json, row); },
    };
}

Workload event_workload() {
    static const tools::EventRows events(tools::EventRowOptions{.seed = 42});
    return Workload{
        .table = "events",
        .description =
            "event-store rows, bigserial primary key + unique (stream, step_id) + "
            "(run_id, ts) indexes",
        .create_sql = events.create_table_sql("events"),
        .column_list = tools::EventRows::column_list(),
        .field_count = tools::EventRows::field_count,
        .server_filled_column = "id",
        .put_fields = [](ByteBuffer& out, JsonWriter& json,
                         std::uint64_t row) { return events.put_fields(out, json, row); },
    };
}

}  // namespace

int main(int argc, char** argv) {
    const Settings settings = parse(argc, argv);
    LocalClusterOptions options;
    options.settings = {"autovacuum=off"};  // see the header: nothing else may exit mid-run
    LocalCluster cluster(options);
    Connection conn(cluster.conninfo());
    ServerCpu server_cpu(conn);
    std::printf(
        "PostgreSQL %s; fsync %s, synchronous_commit %s, wal_level %s, autovacuum %s, "
        "logged tables; %u CPUs\n",
        conn.query_value("SHOW server_version").c_str(), conn.query_value("SHOW fsync").c_str(),
        conn.query_value("SHOW synchronous_commit").c_str(),
        conn.query_value("SHOW wal_level").c_str(), conn.query_value("SHOW autovacuum").c_str(),
        std::thread::hardware_concurrency());
    std::unique_ptr<tools::SpanRows> spans;
    std::vector<Workload> workloads;
    if (settings.workload != "events") {
        workloads.push_back(span_workload(conn, settings.dims, spans));
    }
    if (settings.workload != "spans") {
        workloads.push_back(event_workload());
    }
    int status = 0;
    for (const auto& workload : workloads) {
        if (!bench_workload(cluster, conn, server_cpu, workload, settings)) {
            status = 1;
            break;
        }
    }
    return status;
}
