#include "tools/generate_command.hpp"

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <stdexcept>

namespace pgingest::tools {

CLI::App* add_generate_command(CLI::App& app, GenerateCommand& command) {
    GenerateOptions& options = command.options;
    CLI::App* generate = app.add_subcommand(
        "generate",
        "Write deterministic NDJSON records for demos and benchmarks to stdout (or --output): "
        "spans (agent trace spans: nested attributes of 1-3 KB, an embedding), events "
        "(narrow flow-run event rows), snapshots (large nested state documents), vectors "
        "(embeddings with metadata). Record n depends only on --seed and n. With --schema, "
        "print a CREATE TABLE statement whose columns are the records' keys instead, e.g. "
        "`pgingest generate events --schema | psql`.");
    generate
        ->add_option("kind", command.kind, "What to generate: spans, events, snapshots or vectors")
        ->required()
        ->check(CLI::IsMember({"spans", "events", "snapshots", "vectors"}));
    generate->add_option("--rows", options.rows, "Number of records to write")
        ->capture_default_str()
        ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 62));
    generate->add_option("--seed", options.seed, "Seed: the same seed gives the same bytes")
        ->capture_default_str();
    generate
        ->add_option("--first-row", options.first_row,
                     "Number of the first record, to generate disjoint ranges in parallel")
        ->capture_default_str()
        ->check(CLI::Range(std::uint64_t{0}, std::uint64_t{1} << 62));
    generate
        ->add_option("--dims", options.dims,
                     "Embedding length for spans and vectors [default: 384 for spans, 1536 for "
                     "vectors]")
        ->check(CLI::Range(std::size_t{1}, generate_dims_max));
    generate
        ->add_option("--snapshot-bytes-min", options.snapshot_bytes_min,
                     "Least bytes of a snapshot line; each snapshot's size is drawn between min "
                     "and max")
        ->capture_default_str();
    generate
        ->add_option("--snapshot-bytes-max", options.snapshot_bytes_max,
                     "Most bytes of a snapshot line (at least min + 20000)")
        ->capture_default_str();
    generate->add_option("-o,--output", command.output, "Write to FILE instead of stdout")
        ->option_text("FILE");
    generate->add_flag("--schema", command.schema,
                       "Print `CREATE TABLE` for the kind instead of records");
    generate->add_option("--table", command.table,
                         "Table name in --schema, [schema.]name [default: the kind's name]");
    generate->add_flag("--vector", command.vector,
                       "In --schema, store the embedding as pgvector vector(dims) instead of "
                       "real[] (needs the pgvector extension)");
    return generate;
}

int run_generate_command(const GenerateCommand& command) {
    GenerateOptions options = command.options;
    options.kind = parse_generate_kind(command.kind).value_or(GenerateKind::spans);
    options.embedding = command.vector ? EmbeddingType::vector : EmbeddingType::real_array;
    std::string problem = check_generate_options(options);
    if (!problem.empty()) {
        std::fprintf(stderr, "pgingest generate: %s\n", problem.c_str());
        return 2;
    }
    if (command.schema) {
        std::string table =
            command.table.empty() ? std::string(generate_kind_name(options.kind)) : command.table;
        std::printf("%s;\n", create_table_sql(options, table).c_str());
        return 0;
    }
    std::FILE* file = stdout;
    if (!command.output.empty()) {
        file = std::fopen(command.output.c_str(), "wb");
        if (file == nullptr) {
            std::fprintf(stderr, "pgingest generate: cannot open --output %s: %s\n",
                         command.output.c_str(), std::strerror(errno));
            return 1;
        }
    }
    int status = 0;
    try {
        (void)write_records(options, file, command.output.empty() ? "stdout" : command.output);
    } catch (const std::exception& error) {
        std::fprintf(stderr, "pgingest generate: %s\n", error.what());
        status = 1;
    }
    if (file != stdout && std::fclose(file) != 0 && status == 0) {
        std::fprintf(stderr, "pgingest generate: closing %s: %s\n", command.output.c_str(),
                     std::strerror(errno));
        status = 1;
    }
    return status;
}

}  // namespace pgingest::tools
