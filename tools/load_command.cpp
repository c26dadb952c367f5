#include "tools/load_command.hpp"

namespace pgingest::tools {

namespace {

const char* const load_description =
    "Load JSON records from FILEs (or stdin) into TABLE through binary COPY.\n\n"
    "Records: one per line (ndjson), the elements of a top-level array (json-array), or a whole\n"
    "file (document); --pointer selects records inside each document, '*' meaning every\n"
    "element (OTLP: /resourceSpans/*/scopeSpans/*/spans). gzip and zstd input is detected.\n\n"
    "Columns take the record's member of the same name; columns with a default are left to the\n"
    "server unless named (--map COL), and so are columns named by --skip. A missing member is\n"
    "NULL. No value is dropped silently: a record with a value for a column left to the server\n"
    "is rejected (unless --document-column or --rest-column keeps it), and a column whose type\n"
    "pgingest cannot write refuses the load before anything is written (exit 2) unless it has a\n"
    "default or is --skip'ed. --dry-run lists the columns left to the server. Values are\n"
    "converted to the column's type by its input rules, numbers from their text as written\n"
    "(1.50 stays 1.50 in text, numeric and jsonb); a value that does not fit is a rejected\n"
    "record, not a failure. Of duplicate keys the last wins, as in PostgreSQL's jsonb. A string\n"
    "into bytea is read as bytea's input reads it: \"\\\\x0102\" (hex) or the escape format;\n"
    "into interval as interval's: \"1 day 02:03:04\", \"3 hours\", \"1.5 days\", \"P1DT2H\".\n\n"
    "Types written: bool, int2/4/8, float4/8, numeric, money, text, varchar, char(n), name,\n"
    "\"char\", citext, bytea, uuid, oid, date, time, timetz, timestamp, timestamptz, interval,\n"
    "json, jsonb, jsonpath, xml, inet, cidr, macaddr, macaddr8, bit, varbit, pg_lsn, point,\n"
    "line, lseg, box, path, polygon, circle, tsvector, tsquery, every enum (labels checked),\n"
    "every domain (as its base type; the server checks its constraints), every range and\n"
    "multirange, composite types (from an object or array), arrays of any rank of these and of\n"
    "json/jsonb (each element of a JSON array stored as JSON, null as a NULL element), hstore,\n"
    "ltree, pgvector vector/halfvec/sparsevec. Refused up front (exit 2, unless the column has\n"
    "a default or is --skip'ed): the reg* types, tid, xid, xid8, cid, int2vector, oidvector,\n"
    "refcursor, txid_snapshot, pg_snapshot and the server-internal statistics types.\n\n"
    "Database: --db, else the PG* environment variables, else DATABASE_URL, else pgingest's own\n"
    "local server (started on first use; see `pgingest local`).\n\n"
    "Records are loaded as they arrive: from a pipe or stdin, a record's row is committed about\n"
    "one flush interval (1 s) after it was read, even when no further record comes.\n\n"
    "Every record read is either loaded or written to the rejects sink (--rejects FILE, else\n"
    "stderr) as one JSON line, written as soon as it is found: source, line, byte_offset,\n"
    "reason, sqlstate, record (the text is held while its row is in flight: no input is read\n"
    "twice). When the load stops early, records read but not committed are counted as\n"
    "rows_not_loaded: rows_read = rows_loaded + rows_rejected + rows_not_loaded on every exit.\n\n"
    "Signals: a first SIGINT or SIGTERM stops reading, lets the transactions in flight commit,\n"
    "prints the summary (\"interrupted\": true) and exits 6; a second one rolls back what is\n"
    "open and exits at once with 128 + the signal number (130 SIGINT, 143 SIGTERM), without a\n"
    "summary (rejects already written stay).\n\n"
    "Resume and reload (the ledger): a load of files records, in the same transaction as its\n"
    "rows, which records of which file it settled (loaded, or rejected), in tables of the schema\n"
    "--ledger-schema (default pgingest, created on first use) of the target database. A load is\n"
    "named by --load-id, else by its table and the real paths of its files. Running a load\n"
    "again: when it finished and its files did not change, it says so and exits 0 with nothing\n"
    "written (--reload loads every record again); when it was interrupted (killed, a failure,\n"
    "a lost server), it says how far it got and exits 2 with nothing written: --resume loads\n"
    "exactly the records not yet settled, and reports each reject once across runs (rejects\n"
    "are written once their transaction committed). A file whose size, modification time or\n"
    "first or last MiB changed refuses the resume (exit 2, naming the file and the change);\n"
    "--resume=append accepts an NDJSON file that only grew at its end. A second run of a load\n"
    "that is running refuses (exit 2), as does a run with other --format, --pointer or\n"
    "mapping flags (--reload loads again with them), and a table whose OID changed (dropped\n"
    "and created again, or restored): --reload if its rows are gone, as after a TRUNCATE.\n"
    "When the role cannot create the ledger, a warning says so and the load goes on without\n"
    "it (unless --load-id, --resume or --reload asked for it: exit 2). stdin, pipes and other\n"
    "files that are not regular keep no ledger; --no-ledger turns it off.\n\n"
    "Exit status: 0 every record stored (or the load had finished before); 1 finished with\n"
    "rejected records; 2 usage error (bad flag, unknown table or column, unreadable file; a\n"
    "load interrupted before and not --resume'd, a changed file, a load running elsewhere;\n"
    "nothing written); 3 cannot connect, or the connection was lost for longer than\n"
    "--reconnect-timeout; 4 more rejects than --max-errors (stopped after at most N + 1\n"
    "rejects; rows committed before stay); 5 any other failure, --lock-timeout included (rows\n"
    "committed before stay, the summary says how many); 6 interrupted by a signal (see above); "
    "130/143 a second signal.";

}  // namespace

LoadCommand add_load_command(CLI::App& app) {
    LoadCommand command;
    command.options = std::make_shared<LoadOptions>();
    LoadOptions& o = *command.options;
    CLI::App* load = app.add_subcommand("load", load_description);
    command.app = load;
    load->add_option("files", o.files, "Input files; '-' or none: stdin");
    load->add_option("--db", o.db, "conninfo string or postgresql:// URI (libpq conventions)")
        ->envname("PGINGEST_DB");
    load->add_option("--table,-t", o.table, "Target table: name or schema.name (quote mixed case)")
        ->required()
        ->envname("PGINGEST_TABLE");
    load->add_option("--format", o.format, "auto | ndjson | json-array | document")
        ->capture_default_str()
        ->check(CLI::IsMember({"auto", "ndjson", "json-array", "document"}))
        ->envname("PGINGEST_FORMAT");
    load->add_option("--pointer", o.pointer,
                     "JSON pointer (RFC 6901) to the records inside each document; '*' = every "
                     "element")
        ->envname("PGINGEST_POINTER");
    load->add_option("--map", o.mapping.maps,
                     "COL=/pointer: the column takes the value at the pointer; COL alone: by "
                     "member name (also for a column with a default). Repeatable")
        ->allow_extra_args(false)
        ->envname("PGINGEST_MAP");
    load->add_option("--set", o.mapping.sets, "COL=VALUE: a constant for every row. Repeatable")
        ->allow_extra_args(false)
        ->envname("PGINGEST_SET");
    load->add_option("--skip", o.mapping.skips,
                     "COL: leave the column to the server (its default or NULL), also one whose "
                     "type pgingest cannot write; records with a value for it are rejected unless "
                     "a document or rest column keeps them. Repeatable")
        ->allow_extra_args(false)
        ->envname("PGINGEST_SKIP");
    load->add_option("--document-column", o.mapping.document_column,
                     "json/jsonb column that stores the whole record")
        ->envname("PGINGEST_DOCUMENT_COLUMN");
    load->add_option("--rest-column", o.mapping.rest_column,
                     "json/jsonb column that stores the members no other column took")
        ->envname("PGINGEST_REST_COLUMN");
    load->add_option("--workers", o.workers, "Writer connections, one COPY each")
        ->capture_default_str()
        ->check(CLI::Range(1, 64))
        ->envname("PGINGEST_WORKERS");
    load->add_option("--threads", o.threads, "Parse/encode threads; 0: one per core")
        ->capture_default_str()
        ->check(CLI::Range(0, 256))
        ->envname("PGINGEST_THREADS");
    load->add_option("--batch-bytes", o.batch_bytes, "Bytes of tuples per batch handed to a writer")
        ->capture_default_str()
        ->check(CLI::Range(std::size_t{4096}, std::size_t{1} << 30))
        ->envname("PGINGEST_BATCH_BYTES");
    load->add_option("--txn-bytes", o.txn_bytes, "A writer commits after this many bytes")
        ->capture_default_str()
        ->envname("PGINGEST_TXN_BYTES");
    load->add_option("--memory-bytes", o.memory_bytes,
                     "Memory for batch buffers (bounds client memory and transaction size)")
        ->capture_default_str()
        ->envname("PGINGEST_MEMORY_BYTES");
    load->add_option("--max-record-bytes", o.max_record_bytes,
                     "Longest record (NDJSON line or document), after decompression; a longer one "
                     "is rejected and skipped without being held in memory")
        ->capture_default_str()
        ->check(CLI::Range(std::size_t{1024}, std::size_t{1000} << 20))
        ->envname("PGINGEST_MAX_RECORD_BYTES");
    load->add_option("--io", o.io, "Send path: uring (io_uring) | libpq (PQputCopyData)")
        ->capture_default_str()
        ->check(CLI::IsMember({"uring", "libpq"}))
        ->envname("PGINGEST_IO");
    load->add_option("--rejects", o.rejects, "File for rejected records (NDJSON); default stderr")
        ->envname("PGINGEST_REJECTS");
    load->add_option("--max-errors", o.max_errors,
                     "Stop once more records than this are rejected: at most N + 1 rejects, no "
                     "new batch (default: no limit)")
        ->envname("PGINGEST_MAX_ERRORS");
    load->add_option("--lock-timeout", o.lock_timeout,
                     "Give up (exit 5) when a writer waits longer than this for a lock on the "
                     "table, e.g. 500ms, 10s, 1min; 0: wait forever. A wait over 3 s is named "
                     "(lock, holder pid) on the progress line, else once on stderr")
        ->capture_default_str()
        ->envname("PGINGEST_LOCK_TIMEOUT");
    load->add_option("--reconnect-timeout", o.reconnect_timeout,
                     "How long a lost connection is retried before the load fails with exit 3, "
                     "e.g. 2s, 5min")
        ->capture_default_str()
        ->envname("PGINGEST_RECONNECT_TIMEOUT");
    load->add_option("--summary", o.summary, "text | json (one JSON object on stdout)")
        ->capture_default_str()
        ->check(CLI::IsMember({"text", "json"}))
        ->envname("PGINGEST_SUMMARY");
    load->add_option("--nul", o.nul,
                     "\\u0000 in json/jsonb values (which PostgreSQL refuses): error (reject the "
                     "record) | strip | replace (with U+FFFD)")
        ->capture_default_str()
        ->check(CLI::IsMember({"error", "strip", "replace"}))
        ->envname("PGINGEST_NUL");
    load->add_option("--progress", o.progress,
                     "auto (a live line on stderr when it is a terminal) | always | never")
        ->capture_default_str()
        ->check(CLI::IsMember({"auto", "always", "never"}))
        ->envname("PGINGEST_PROGRESS");
    load->add_flag("--quiet,-q", o.quiet, "No progress, no text summary; errors still go to stderr")
        ->envname("PGINGEST_QUIET");
    load->add_option("--ledger-schema", o.ledger_schema,
                     "Schema of the ledger of loads in the target database (created on first use)")
        ->capture_default_str()
        ->envname("PGINGEST_LEDGER_SCHEMA");
    load->add_option("--load-id", o.load_id,
                     "Name of the load in the ledger; default: derived from the table and the "
                     "real paths of the files")
        ->envname("PGINGEST_LOAD_ID");
    load->add_flag("--resume{strict}", o.resume,
                   "Load the records an interrupted run of this load did not settle; "
                   "--resume=append also accepts files that only grew at their end (NDJSON)")
        ->check(CLI::IsMember({"strict", "append"}));
    load->add_flag("--reload", o.reload,
                   "Load every record of a known load again (its ledger is started over; rows "
                   "already stored stay)");
    load->add_flag("--ledger,!--no-ledger", o.ledger,
                   "Record the load in the ledger (default), or not: no resume, no protection "
                   "against loading the same files twice")
        ->envname("PGINGEST_LEDGER");
    load->add_flag("--dry-run", o.dry_run,
                   "Print the plan (column, type, source) and exit; nothing is written")
        ->envname("PGINGEST_DRY_RUN");
    return command;
}

}  // namespace pgingest::tools
