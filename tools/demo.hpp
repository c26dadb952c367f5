#pragma once

#include <cstdint>

namespace pgingest::tools {

/// Options of `pgingest demo`.
struct DemoOptions {
    /// Trace-span rows to generate, encode and load.
    std::uint64_t rows = 20000;
    /// Seed of the deterministic row generator.
    std::uint64_t seed = 42;
};

/// Runs the demo: starts a throwaway local PostgreSQL, creates a `spans` table (uuid, int8,
/// text, timestamptz, interval, numeric, jsonb, real[]), encodes `rows` deterministic agent
/// trace spans (tools/span_rows) straight into binary COPY tuples on two producer threads, loads
/// them through the engine's two writers, reads back what the server stored and prints a
/// summary on stdout. Returns the process exit status;
/// errors are printed on stderr. Main thread only.
int run_demo(const DemoOptions& options);

}  // namespace pgingest::tools
