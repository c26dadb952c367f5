#include "engine/ledger.hpp"

#include <fcntl.h>
#include <libpq-fe.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <unordered_map>

#include "codecs/assert.hpp"

namespace pgingest {

namespace {

constexpr std::uint64_t hashed_bytes_max = std::uint64_t{1} << 20;

struct ResultDeleter {
    void operator()(PGresult* result) const noexcept { PQclear(result); }
};
using Result = std::unique_ptr<PGresult, ResultDeleter>;

// Runs `sql` with text parameters and returns every row's values as text ("" for NULL).
std::vector<std::vector<std::string>> query(Connection& conn, const std::string& sql,
                                            const std::vector<std::string>& params = {}) {
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const std::string& param : params) {
        values.push_back(param.c_str());
    }
    Result result(PQexecParams(conn.native(), sql.c_str(), static_cast<int>(values.size()), nullptr,
                               values.data(), nullptr, nullptr, 0));
    ExecStatusType status = PQresultStatus(result.get());
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
        throw_result_error(conn.native(), result.get(), "ledger: " + sql.substr(0, 60));
    }
    std::vector<std::vector<std::string>> rows(static_cast<std::size_t>(PQntuples(result.get())));
    for (std::size_t row = 0; row < rows.size(); row++) {
        for (int field = 0; field < PQnfields(result.get()); field++) {
            rows[row].emplace_back(PQgetvalue(result.get(), static_cast<int>(row), field));
        }
    }
    return rows;
}

std::string hex128(const void* data, std::size_t size) {
    XXH128_canonical_t canonical;
    XXH128_canonicalFromHash(&canonical, XXH3_128bits(data, size));
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (unsigned char byte : canonical.digest) {
        out += digits[byte >> 4];
        out += digits[byte & 15];
    }
    return out;
}

std::string read_at(int fd, const std::string& path, std::uint64_t offset, std::uint64_t size) {
    std::string bytes(static_cast<std::size_t>(size), '\0');
    std::size_t done = 0;
    while (done < bytes.size()) {
        ssize_t got = ::pread(fd, bytes.data() + done, bytes.size() - done,
                              static_cast<off_t>(offset + done));
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got <= 0) {
            throw Error("cannot read source " + path + ": " +
                        (got < 0 ? std::strerror(errno) : "it became shorter while read"));
        }
        done += static_cast<std::size_t>(got);
    }
    return bytes;
}

// A 64-bit advisory lock key for `load_id` in `schema`: even for the run lock, odd (the key
// + 1) for the fence.
std::int64_t run_lock_key(std::string_view schema, std::string_view load_id) {
    std::string key(schema);
    key += '\0';
    key += load_id;
    std::uint64_t hash = XXH3_64bits(key.data(), key.size()) & ~std::uint64_t{1};
    return static_cast<std::int64_t>(hash);
}

// The advisory key taken while the ledger's tables are created (schema-wide).
std::int64_t create_lock_key(std::string_view schema) {
    std::string key = "pgingest ledger create ";
    key += schema;
    return static_cast<std::int64_t>(XXH3_64bits(key.data(), key.size()));
}

std::string checked_i64(std::uint64_t value) {
    if (value > static_cast<std::uint64_t>(INT64_MAX)) {
        throw Error("ledger: offset " + std::to_string(value) +
                    " exceeds the ledger's int8 ranges (at most 9223372036854775807)");
    }
    return std::to_string(value);
}

// `{"a","b"}`: a text[] literal, each element quoted, `"` and `\` escaped.
void append_text_element(std::string& array, std::string_view element) {
    array += array.size() > 1 ? ",\"" : "\"";
    for (char c : element) {
        if (c == '"' || c == '\\') {
            array += '\\';
        }
        array += c;
    }
    array += '"';
}

void append_element(std::string& array, std::string_view element) {
    if (array.size() > 1) {
        array += ',';
    }
    array += element;
}

std::string tables_sql(std::string_view s) {
    std::string q(s);
    return "CREATE TABLE IF NOT EXISTS " + q +
           ".loads (load_id text PRIMARY KEY, target text NOT NULL, target_oid oid, "
           "shape text NOT NULL DEFAULT '', "
           "started_at timestamptz NOT NULL DEFAULT now(), finished_at timestamptz);\n"
           "CREATE TABLE IF NOT EXISTS " +
           q +
           ".sources (load_id text NOT NULL, source_no int8 NOT NULL, path text NOT NULL, "
           "size_bytes int8 NOT NULL, mtime_ns int8 NOT NULL, hashed_bytes int8 NOT NULL, "
           "head_xxh3 text NOT NULL, tail_xxh3 text NOT NULL, "
           "PRIMARY KEY (load_id, source_no));\n"
           "CREATE TABLE IF NOT EXISTS " +
           q +
           ".settled (load_id text NOT NULL, source_no int8 NOT NULL, rejected bool NOT NULL, "
           "ranges int8multirange NOT NULL, rows int8 NOT NULL, "
           "xid xid8 NOT NULL DEFAULT pg_current_xact_id(), "
           "committed_at timestamptz NOT NULL DEFAULT now());\n"
           "CREATE INDEX IF NOT EXISTS settled_load ON " +
           q +
           ".settled (load_id, source_no);\n"
           "CREATE TABLE IF NOT EXISTS " +
           q +
           ".rejects (load_id text NOT NULL, source_no int8 NOT NULL, "
           "byte_offset int8 NOT NULL, length int8 NOT NULL, table_index int4 NOT NULL, "
           "sqlstate text NOT NULL, message text NOT NULL, "
           "xid xid8 NOT NULL DEFAULT pg_current_xact_id(), "
           "PRIMARY KEY (load_id, source_no, byte_offset));\n";
}

[[noreturn]] void throw_unavailable(const std::string& schema, const Error& error) {
    throw LedgerUnavailable("ledger schema \"" + schema +
                                "\" cannot be created or used by this role (" + error.what() +
                                "); name a schema the role may write with --ledger-schema, or "
                                "GRANT CREATE on the database (or USAGE on the schema and "
                                "SELECT, INSERT, UPDATE, DELETE on its tables)",
                            error.sqlstate());
}

}  // namespace

SourceIdentity read_source_identity(const std::string& path, std::optional<std::uint64_t> as_size) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        throw Error("cannot open source " + path + ": " + std::strerror(errno));
    }
    struct FdCloser {
        int fd;
        ~FdCloser() { ::close(fd); }
    } closer{fd};
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        throw Error("cannot stat source " + path + ": " + std::strerror(errno));
    }
    SourceIdentity identity{
        .path = path,
        .size_bytes = static_cast<std::uint64_t>(st.st_size),
        .mtime_ns =
            static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec};
    std::uint64_t size = as_size.value_or(identity.size_bytes);
    if (size > identity.size_bytes) {
        throw Error("source " + path + " holds " + std::to_string(identity.size_bytes) +
                    " bytes, fewer than the " + std::to_string(size) + " it held before");
    }
    identity.hashed_bytes = std::min(size, hashed_bytes_max);
    std::string head = read_at(fd, path, 0, identity.hashed_bytes);
    identity.head_xxh3 = hex128(head.data(), head.size());
    std::string tail = read_at(fd, path, size - identity.hashed_bytes, identity.hashed_bytes);
    identity.tail_xxh3 = hex128(tail.data(), tail.size());
    return identity;
}

std::string describe_source_change(const SourceIdentity& before, const SourceIdentity& now) {
    if (before.size_bytes != now.size_bytes) {
        return "size " + std::to_string(before.size_bytes) + " bytes -> " +
               std::to_string(now.size_bytes) + " bytes";
    }
    if (before.mtime_ns != now.mtime_ns) {
        return "modification time " + std::to_string(before.mtime_ns) + " ns -> " +
               std::to_string(now.mtime_ns) + " ns";
    }
    if (before.hashed_bytes != now.hashed_bytes || before.head_xxh3 != now.head_xxh3) {
        return "content of the first " + std::to_string(before.hashed_bytes) + " bytes";
    }
    if (before.tail_xxh3 != now.tail_xxh3) {
        return "content of the last " + std::to_string(before.hashed_bytes) + " bytes";
    }
    return "";
}

bool source_only_grew(const SourceIdentity& before, const std::string& path) {
    SourceIdentity now = read_source_identity(path);
    if (now.size_bytes < before.size_bytes) {
        return false;
    }
    SourceIdentity prefix = read_source_identity(path, before.size_bytes);
    return prefix.hashed_bytes == before.hashed_bytes && prefix.head_xxh3 == before.head_xxh3 &&
           prefix.tail_xxh3 == before.tail_xxh3;
}

OriginRanges unsettled(std::span<const OriginRange> extent, const OriginRanges& settled) {
    OriginRanges whole;
    whole.add(extent);
    OriginRanges missing;
    for (const OriginRange& range : whole.ranges()) {
        std::span<const OriginRange> done = settled.ranges(range.source);
        auto it =
            std::upper_bound(done.begin(), done.end(), range.first,
                             [](std::uint64_t at, const OriginRange& r) { return at < r.end; });
        std::uint64_t at = range.first;
        for (; it != done.end() && it->first < range.end; ++it) {
            if (it->first > at) {
                missing.add(OriginRange{.source = range.source, .first = at, .end = it->first});
            }
            at = std::max(at, it->end);
        }
        if (at < range.end) {
            missing.add(OriginRange{.source = range.source, .first = at, .end = range.end});
        }
    }
    return missing;
}

std::string ledger_schema_sql(std::string_view quoted_schema) {
    return "CREATE SCHEMA IF NOT EXISTS " + std::string(quoted_schema) + ";\n" +
           tables_sql(quoted_schema);
}

namespace {

// One ledger range of a transaction: what `settled` gets, before grouping by the server.
struct SettledItem {
    std::uint32_t source = 0;
    bool rejected = false;
    std::uint64_t first = 0;
    std::uint64_t end = 0;
    std::uint64_t rows = 0;  // the rows of (source, rejected), on its first range only
};

// Rows per source, of the stored rows' origins.
std::unordered_map<std::uint32_t, std::uint64_t> loaded_rows(const TransactionView& view) {
    std::unordered_map<std::uint32_t, std::uint64_t> rows;
    for (std::span<const RowOrigin> run : view.origins) {
        for (const RowOrigin& origin : run) {
            rows[origin.source] += 1;
        }
    }
    return rows;
}

void add_items(std::vector<SettledItem>& items, std::span<const OriginRange> ranges, bool rejected,
               std::unordered_map<std::uint32_t, std::uint64_t>& rows) {
    for (std::size_t i = 0; i < ranges.size(); i++) {
        const OriginRange& range = ranges[i];
        bool first_of_source = i == 0 || ranges[i - 1].source != range.source;
        items.push_back(SettledItem{.source = range.source,
                                    .rejected = rejected,
                                    .first = range.first,
                                    .end = range.end,
                                    .rows = first_of_source ? rows[range.source] : 0});
    }
}

Statement settled_statement(std::string_view s, std::string_view load_id,
                            std::span<const SettledItem> items) {
    std::string sources = "{", rejected = "{", firsts = "{", ends = "{", rows = "{";
    for (const SettledItem& item : items) {
        append_element(sources, std::to_string(item.source));
        append_element(rejected, item.rejected ? "t" : "f");
        append_element(firsts, checked_i64(item.first));
        append_element(ends, checked_i64(item.end));
        append_element(rows, std::to_string(item.rows));
    }
    for (std::string* array : {&sources, &rejected, &firsts, &ends, &rows}) {
        *array += '}';
    }
    return Statement{
        .sql = "INSERT INTO " + std::string(s) +
               ".settled (load_id, source_no, rejected, ranges, rows) SELECT $1, u.source_no, "
               "u.rejected, range_agg(int8range(u.first_offset, u.end_offset)), sum(u.rows)::int8 "
               "FROM unnest($2::int8[], $3::bool[], $4::int8[], $5::int8[], $6::int8[]) AS "
               "u(source_no, rejected, first_offset, end_offset, rows) "
               "GROUP BY u.source_no, u.rejected",
        .params = {std::string(load_id), sources, rejected, firsts, ends, rows}};
}

Statement rejects_statement(std::string_view s, std::string_view load_id,
                            std::span<const LedgerReject> rejects) {
    std::string sources = "{", offsets = "{", lengths = "{", tables = "{", states = "{",
                messages = "{";
    for (const LedgerReject& reject : rejects) {
        append_element(sources, std::to_string(reject.origin.source));
        append_element(offsets, checked_i64(reject.origin.offset));
        append_element(lengths, std::to_string(std::max<std::uint32_t>(reject.origin.length, 1)));
        append_element(tables, std::to_string(reject.table_index));
        append_text_element(states, reject.sqlstate);
        append_text_element(messages, reject.message);
    }
    for (std::string* array : {&sources, &offsets, &lengths, &tables, &states, &messages}) {
        *array += '}';
    }
    return Statement{
        .sql = "INSERT INTO " + std::string(s) +
               ".rejects (load_id, source_no, byte_offset, length, table_index, sqlstate, "
               "message) SELECT $1, u.* FROM unnest($2::int8[], $3::int8[], $4::int8[], "
               "$5::int4[], $6::text[], $7::text[]) AS u",
        .params = {std::string(load_id), sources, offsets, lengths, tables, states, messages}};
}

}  // namespace

std::vector<Statement> ledger_statements(std::string_view quoted_schema, std::string_view load_id,
                                         const TransactionView& view,
                                         std::span<const LedgerReject> rejects) {
    std::vector<SettledItem> items;
    std::unordered_map<std::uint32_t, std::uint64_t> rows = loaded_rows(view);
    add_items(items, view.loaded, false, rows);
    rows.clear();
    for (const LedgerReject& reject : rejects) {
        rows[reject.origin.source] += 1;
    }
    add_items(items, view.rejected, true, rows);
    std::vector<Statement> statements;
    std::span<const SettledItem> all(items);
    for (std::size_t at = 0; at < all.size(); at += ledger_ranges_per_statement) {
        std::size_t count = std::min(ledger_ranges_per_statement, all.size() - at);
        statements.push_back(settled_statement(quoted_schema, load_id, all.subspan(at, count)));
    }
    for (std::size_t at = 0; at < rejects.size(); at += ledger_rejects_per_statement) {
        std::size_t count = std::min(ledger_rejects_per_statement, rejects.size() - at);
        statements.push_back(rejects_statement(quoted_schema, load_id, rejects.subspan(at, count)));
    }
    return statements;
}

Ledger::Ledger(const std::string& conninfo, LedgerOptions options)
    : _conn(conninfo), _schema(std::move(options.schema)) {
    if (_schema.empty()) {
        throw Error("ledger: the ledger schema name is empty");
    }
    _quoted_schema = _conn.quote_identifier(_schema);
    _backend_pid = PQbackendPID(_conn.native());
    try {
        create_schema();
    } catch (const ServerError& error) {
        if (error.sqlstate() == "42501") {
            throw_unavailable(_schema, error);
        }
        throw;
    }
}

Ledger::~Ledger() = default;

// Creates what is missing. A role that cannot create but finds every table usable (made by an
// administrator) uses them; CREATE SCHEMA IF NOT EXISTS checks the CREATE privilege even when
// the schema exists, so it is only run when the schema is missing.
void Ledger::create_schema() {
    const std::string usable =
        "SELECT count(*) FROM unnest(ARRAY['loads', 'sources', 'settled', 'rejects']) t "
        "WHERE has_table_privilege(to_regclass(format('%I.%I', $1::text, t)), "
        "'SELECT, INSERT, UPDATE, DELETE')";
    auto schema_exists = [&] {
        return query(_conn, "SELECT to_regnamespace($1) IS NOT NULL", {_quoted_schema})[0][0] ==
               "t";
    };
    if (schema_exists() && query(_conn, usable, {_schema})[0][0] == "4") {
        return;
    }
    // Serializes loads starting at once: two concurrent CREATE SCHEMA IF NOT EXISTS can both
    // find no schema and one fail with 23505 on pg_namespace. A session lock taken before the
    // transaction: a transaction that began before the lock was granted could still see the
    // schema as missing in its catalog cache (an advisory lock brings no cache invalidation).
    const std::string key = std::to_string(create_lock_key(_schema));
    query(_conn, "SELECT pg_advisory_lock($1)", {key});
    try {
        _conn.exec("BEGIN");
        if (!schema_exists()) {
            _conn.exec("CREATE SCHEMA " + _quoted_schema);
        }
        _conn.exec(tables_sql(_quoted_schema));
        _conn.exec("COMMIT");
    } catch (const ServerError&) {
        _conn.exec("ROLLBACK");
        query(_conn, "SELECT pg_advisory_unlock($1)", {key});
        throw;
    }
    query(_conn, "SELECT pg_advisory_unlock($1)", {key});
}

std::optional<LoadRecord> Ledger::begin_load(const std::string& load_id, const std::string& target,
                                             std::span<const SourceIdentity> sources,
                                             const std::string& shape) {
    const std::int64_t key = run_lock_key(_schema, load_id);
    if (query(_conn, "SELECT pg_try_advisory_lock($1)", {std::to_string(key)})[0][0] != "t") {
        auto holders = query(_conn,
                             "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
                             "AND objsubid = 1 AND classid::int8 = $1 AND objid::int8 = $2",
                             {std::to_string(static_cast<std::uint64_t>(key) >> 32),
                              std::to_string(static_cast<std::uint64_t>(key) & 0xffffffffU)});
        throw LoadBusy("load " + load_id + " is being run by another session (backend pid " +
                       (holders.empty() ? std::string("unknown") : holders[0][0]) +
                       "); wait for it to end");
    }
    // The fence: waits until every writer transaction of an earlier run has ended.
    query(_conn, "SELECT pg_advisory_lock($1), pg_advisory_unlock($1)", {std::to_string(key + 1)});
    std::optional<LoadRecord> before = read_load(load_id);
    if (before) {
        return before;
    }
    // No wait for the WAL flush: every writer transaction that settles records commits after
    // it, and a commit's flush makes all WAL before it durable, this row included.
    std::vector<Statement> inserts{Statement{.sql = "BEGIN"},
                                   Statement{.sql = "SET LOCAL synchronous_commit = off"},
                                   Statement{.sql = "INSERT INTO " + _quoted_schema +
                                                    ".loads (load_id, target, target_oid, shape) "
                                                    "VALUES ($1, $2, to_regclass($2)::oid, $3)",
                                             .params = {load_id, target, shape}}};
    for (std::size_t no = 0; no < sources.size(); no++) {
        const SourceIdentity& source = sources[no];
        inserts.push_back(Statement{
            .sql = "INSERT INTO " + _quoted_schema +
                   ".sources (load_id, source_no, path, size_bytes, mtime_ns, hashed_bytes, "
                   "head_xxh3, tail_xxh3) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            .params = {load_id, std::to_string(no), source.path, checked_i64(source.size_bytes),
                       std::to_string(source.mtime_ns), std::to_string(source.hashed_bytes),
                       source.head_xxh3, source.tail_xxh3}});
    }
    inserts.push_back(Statement{.sql = "COMMIT"});
    _conn.exec_pipeline(inserts);
    return std::nullopt;
}

std::optional<LoadRecord> Ledger::read_load(const std::string& load_id) {
    auto rows = query(_conn,
                      "SELECT target, finished_at IS NOT NULL, "
                      "target_oid IS DISTINCT FROM to_regclass(target)::oid, shape FROM " +
                          _quoted_schema +
                          ".loads WHERE load_id = $1",
                      {load_id});
    if (rows.empty()) {
        return std::nullopt;
    }
    LoadRecord record{.load_id = load_id, .target = rows[0][0]};
    record.table_recreated = rows[0][2] == "t";
    record.shape = rows[0][3];
    const std::int64_t key = run_lock_key(_schema, load_id);
    bool running =
        !query(_conn,
               "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1 "
               "AND classid::int8 = $1 AND objid::int8 = $2 AND pid <> pg_backend_pid()",
               {std::to_string(static_cast<std::uint64_t>(key) >> 32),
                std::to_string(static_cast<std::uint64_t>(key) & 0xffffffffU)})
             .empty();
    record.state = rows[0][1] == "t" ? LoadState::finished
                   : running         ? LoadState::running
                                     : LoadState::interrupted;
    record.sources = read_sources(load_id);
    read_settled(record);
    return record;
}

std::vector<SourceIdentity> Ledger::read_sources(const std::string& load_id) {
    auto rows =
        query(_conn,
              "SELECT path, size_bytes, mtime_ns, hashed_bytes, head_xxh3, tail_xxh3 FROM " +
                  _quoted_schema + ".sources WHERE load_id = $1 ORDER BY source_no",
              {load_id});
    std::vector<SourceIdentity> sources;
    for (const auto& row : rows) {
        sources.push_back(SourceIdentity{.path = row[0],
                                         .size_bytes = std::stoull(row[1]),
                                         .mtime_ns = std::stoll(row[2]),
                                         .hashed_bytes = std::stoull(row[3]),
                                         .head_xxh3 = row[4],
                                         .tail_xxh3 = row[5]});
    }
    return sources;
}

void Ledger::read_settled(LoadRecord& record) {
    auto ranges = query(_conn,
                        "SELECT source_no, rejected, lower(r), upper(r) FROM " + _quoted_schema +
                            ".settled, unnest(ranges) AS r WHERE load_id = $1",
                        {record.load_id});
    for (const auto& row : ranges) {
        OriginRange range{.source = static_cast<std::uint32_t>(std::stoul(row[0])),
                          .first = std::stoull(row[2]),
                          .end = std::stoull(row[3])};
        (row[1] == "t" ? record.rejected : record.loaded).add(range);
    }
    auto sums = query(_conn,
                      "SELECT coalesce(sum(rows) FILTER (WHERE NOT rejected), 0), "
                      "coalesce(sum(rows) FILTER (WHERE rejected), 0) FROM " +
                          _quoted_schema + ".settled WHERE load_id = $1",
                      {record.load_id});
    record.rows_loaded = std::stoull(sums[0][0]);
    record.rows_rejected = std::stoull(sums[0][1]);
}

void Ledger::finish_load(const std::string& load_id) {
    const std::string& s = _quoted_schema;
    // One row per (source, outcome) from here on: the union of the ranges, the sum of the rows.
    const std::string compact =
        "WITH gone AS (DELETE FROM " + s +
        ".settled WHERE load_id = $1 RETURNING *) "
        "INSERT INTO " +
        s +
        ".settled (load_id, source_no, rejected, ranges, rows) "
        "SELECT $1, g.source_no, g.rejected, (SELECT range_agg(r) FROM gone AS h, "
        "unnest(h.ranges) AS r WHERE h.source_no = g.source_no AND h.rejected = g.rejected), "
        "sum(g.rows)::int8 FROM gone AS g GROUP BY g.source_no, g.rejected";
    // No wait for the WAL flush: if a crash loses this transaction, the load reads as
    // interrupted with every record settled, and a --resume finishes it loading nothing.
    _conn.exec_pipeline(std::vector<Statement>{
        Statement{.sql = "BEGIN"}, Statement{.sql = "SET LOCAL synchronous_commit = off"},
        Statement{.sql = "UPDATE " + s + ".loads SET finished_at = now() WHERE load_id = $1",
                  .params = {load_id}},
        Statement{.sql = compact, .params = {load_id}}, Statement{.sql = "COMMIT"}});
    end_run(load_id);
}

void Ledger::end_run(const std::string& load_id) {
    query(_conn, "SELECT pg_advisory_unlock($1)", {std::to_string(run_lock_key(_schema, load_id))});
}

void Ledger::reset_load(const std::string& load_id, const std::string& target,
                        std::span<const SourceIdentity> sources, bool keep_settled,
                        const std::string& shape) {
    const std::string& s = _quoted_schema;
    std::vector<Statement> statements{
        Statement{.sql = "BEGIN"},
        Statement{.sql = "UPDATE " + s +
                         ".loads SET target = $2, target_oid = to_regclass($2)::oid, "
                         "shape = $3, finished_at = NULL, started_at = now() "
                         "WHERE load_id = $1",
                  .params = {load_id, target, shape}},
        Statement{.sql = "DELETE FROM " + s + ".sources WHERE load_id = $1", .params = {load_id}}};
    if (!keep_settled) {
        for (const char* table : {".settled", ".rejects"}) {
            statements.push_back(Statement{
                .sql = "DELETE FROM " + s + table + " WHERE load_id = $1", .params = {load_id}});
        }
    }
    for (std::size_t no = 0; no < sources.size(); no++) {
        const SourceIdentity& source = sources[no];
        statements.push_back(Statement{
            .sql = "INSERT INTO " + s +
                   ".sources (load_id, source_no, path, size_bytes, mtime_ns, hashed_bytes, "
                   "head_xxh3, tail_xxh3) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            .params = {load_id, std::to_string(no), source.path, checked_i64(source.size_bytes),
                       std::to_string(source.mtime_ns), std::to_string(source.hashed_bytes),
                       source.head_xxh3, source.tail_xxh3}});
    }
    statements.push_back(Statement{.sql = "COMMIT"});
    _conn.exec_pipeline(statements);
}

void Ledger::settle_alone(const std::string& load_id, std::span<const LedgerReject> rejects) {
    if (rejects.empty()) {
        return;
    }
    OriginRanges ranges;
    for (const LedgerReject& reject : rejects) {
        ranges.add(reject.origin);
    }
    TransactionView view{.rows_rejected = rejects.size(), .rejected = ranges.ranges()};
    std::vector<Statement> statements{Statement{.sql = "BEGIN"}};
    for (Statement& statement : ledger_statements(_quoted_schema, load_id, view, rejects)) {
        statements.push_back(std::move(statement));
    }
    statements.push_back(Statement{.sql = "COMMIT"});
    std::lock_guard lock(_settle_mutex);
    _conn.exec_pipeline(statements);
}

std::vector<std::string> Ledger::load_ids() {
    std::vector<std::string> ids;
    for (auto& row :
         query(_conn, "SELECT load_id FROM " + _quoted_schema + ".loads ORDER BY started_at, 1")) {
        ids.push_back(std::move(row[0]));
    }
    return ids;
}

Statement Ledger::run_lock_check(const std::string& load_id) const {
    const std::uint64_t key = static_cast<std::uint64_t>(run_lock_key(_schema, load_id));
    std::string message =
        "load " + load_id + " lost its run lock (the ledger's control connection, backend pid " +
        std::to_string(_backend_pid) + ", ended): nothing more is committed; --resume it";
    // The message carries the load id (the user's text): it goes in a dollar-quoted literal
    // whose tag it does not contain, inside a body whose tag the body does not contain, so no
    // load id or table name can end either quote (nor a backslash, whatever
    // standard_conforming_strings says).
    auto free_tag = [](const std::string& text, std::string tag) {
        while (text.find('$' + tag + '$') != std::string::npos) {
            tag += '_';
        }
        return tag;
    };
    const std::string inner = free_tag(message, "m");
    std::string body = " BEGIN IF NOT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = "
                       "'advisory' AND granted AND objsubid = 1 AND mode = 'ExclusiveLock' AND "
                       "classid::int8 = " +
                       std::to_string(key >> 32) +
                       " AND objid::int8 = " + std::to_string(key & 0xffffffffU) +
                       " AND pid = " + std::to_string(_backend_pid) +
                       ") THEN RAISE EXCEPTION '%', $" + inner + "$" + message + "$" + inner +
                       "$; END IF; END ";
    const std::string outer = free_tag(body, "pgingest");
    return Statement{.sql = "DO $" + outer + "$" + body + "$" + outer + "$"};
}

bool Ledger::forget(const std::string& load_id) {
    auto rows = query(_conn,
                      "WITH l AS (DELETE FROM " + _quoted_schema +
                          ".loads WHERE load_id = $1 RETURNING 1), s AS (DELETE FROM " +
                          _quoted_schema + ".sources WHERE load_id = $1), r AS (DELETE FROM " +
                          _quoted_schema + ".settled WHERE load_id = $1), j AS (DELETE FROM " +
                          _quoted_schema + ".rejects WHERE load_id = $1) SELECT count(*) FROM l",
                      {load_id});
    return rows[0][0] != "0";
}

namespace {

// What the hooks of one attached load share across writer threads: each writer's refused rows
// since its last COMMIT. A node of the map is touched by its own writer only; the mutex guards
// the map itself.
struct HookState {
    std::string quoted_schema;
    std::string load_id;
    std::function<void(std::span<const LedgerReject>)> unrecorded;
    std::mutex mutex;
    std::map<std::size_t, std::vector<LedgerReject>> rejects;
    /// Per writer: whether an epilogue carried its rejects since its last COMMIT.
    std::map<std::size_t, bool> recorded;

    std::vector<LedgerReject>& of(std::size_t writer_index) {
        std::lock_guard lock(mutex);
        return rejects[writer_index];
    }
    bool& recorded_of(std::size_t writer_index) {
        std::lock_guard lock(mutex);
        return recorded[writer_index];
    }
};

}  // namespace

void Ledger::attach(const std::string& load_id, EngineCallbacks& callbacks,
                    std::function<void(std::span<const LedgerReject>)> unrecorded) const {
    auto state = std::make_shared<HookState>();
    state->quoted_schema = _quoted_schema;
    state->load_id = load_id;
    state->unrecorded = std::move(unrecorded);
    callbacks.transaction.prologue.push_back("SELECT pg_advisory_xact_lock_shared(" +
                                             std::to_string(run_lock_key(_schema, load_id) + 1) +
                                             ")");
    auto previous_epilogue = std::move(callbacks.transaction.epilogue);
    callbacks.transaction.epilogue = [state, previous_epilogue](const TransactionView& view) {
        std::vector<Statement> statements;
        if (previous_epilogue) {
            statements = previous_epilogue(view);
        }
        const std::vector<LedgerReject>& rejects = state->of(view.writer_index);
        // Every refused row of the transaction was reported on this writer since its last
        // COMMIT, and only those.
        PGINGEST_ASSERT(rejects.size() == view.rows_rejected);
        state->recorded_of(view.writer_index) = true;
        for (Statement& statement :
             ledger_statements(state->quoted_schema, state->load_id, view, rejects)) {
            statements.push_back(std::move(statement));
        }
        return statements;
    };
    auto previous_reject = std::move(callbacks.on_reject);
    callbacks.on_reject = [state, previous_reject](const RejectReport& report) {
        state->of(report.writer_index)
            .push_back(LedgerReject{.origin = report.origin,
                                    .table_index = report.table_index,
                                    .sqlstate = report.sqlstate,
                                    .message = report.message});
        if (previous_reject) {
            previous_reject(report);
        }
    };
    auto previous_commit = std::move(callbacks.on_commit);
    callbacks.on_commit = [state, previous_commit](const CommitReport& report) {
        std::vector<LedgerReject>& rejects = state->of(report.writer_index);
        PGINGEST_ASSERT(rejects.size() == report.rows_rejected);
        bool& recorded = state->recorded_of(report.writer_index);
        if (!recorded && !rejects.empty() && state->unrecorded) {
            state->unrecorded(rejects);  // committed without a transaction: no epilogue ran
        }
        recorded = false;
        rejects.clear();
        if (previous_commit) {
            previous_commit(report);
        }
    };
}

}  // namespace pgingest
