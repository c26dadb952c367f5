#pragma once

// Test support for fault tests: terminating writer backends at chosen moments, and holding a
// COMMIT after its commit record was written.

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>

#include "engine/connection.hpp"
#include "engine/engine.hpp"

namespace pgingest::test {

/// Terminates every backend whose application_name is `application_name` (pg_terminate_backend
/// over pg_stat_activity, run on `conn`) and returns how many were.
int terminate_backends(Connection& conn, const std::string& application_name);

/// Waits, polling every 10 ms for up to 30 s, until a backend named `application_name` waits on
/// `wait_event` (pg_stat_activity.wait_event, e.g. "SyncRep"). Returns false if none did.
bool wait_for_wait_event(Connection& conn, const std::string& application_name,
                         const std::string& wait_event);

/// With `hold`, sets synchronous_standby_names to a standby that never comes (ALTER SYSTEM,
/// pg_reload_conf): a COMMIT under synchronous_commit=on then waits in "SyncRep" after its
/// commit record was written. Without, resets it and the waiting COMMITs return. Server-wide:
/// only on a cluster of the test's own.
void hold_commits(Connection& admin, bool hold);

/// What a load run through a fault must end with (`load_through_fault`).
struct FaultOutcome {
    /// Rows the engine reports committed (`EngineStats::rows_committed`).
    std::uint64_t rows_committed = 0;
    /// Transactions it reports committed; 0: not checked.
    std::uint64_t transactions_committed = 0;
};

/// Runs `load` (producers, then `Engine::flush`) on a thread of its own while `fault` runs on the
/// calling thread, joins it, rethrows what `load` threw, closes `engine` and checks (Catch2
/// CHECK) that the engine reconnected at least once and committed what `expected` says. A
/// `fault` that throws still waits for the load before the exception leaves.
void load_through_fault(Engine& engine, const std::function<void()>& load,
                        const std::function<void()>& fault, const FaultOutcome& expected);

/// Kills the writers of a load from a thread of its own. Takes advisory lock `gate_key` at once
/// (a trigger of the loaded table waits on it for one chosen row); once a session waits for the
/// lock, that row's COPY is certainly in flight: terminates every backend named
/// `application_name`, releases the lock, then terminates them again every 40 ms, `rounds` times
/// or until `stop`. Gives up waiting for the gated row after 30 s (then `killed_at_gate` is 0).
/// Connects with `conninfo` twice (the lock's connection, the killer's).
class WriterKiller {
  public:
    WriterKiller(const std::string& conninfo, std::string application_name, std::int64_t gate_key,
                 int rounds);
    ~WriterKiller();
    WriterKiller(const WriterKiller&) = delete;
    WriterKiller& operator=(const WriterKiller&) = delete;

    /// Ends the kills after the current one and waits for the thread. Idempotent.
    void stop();

    /// The backends terminated while the gated statement waited (0 when it never did).
    [[nodiscard]] int killed_at_gate() const noexcept { return _killed_at_gate.load(); }

  private:
    void run();

    std::string _conninfo;
    std::string _application_name;
    std::int64_t _gate_key;
    int _rounds;
    Connection _gate;
    std::atomic<bool> _loading{true};
    std::atomic<int> _killed_at_gate{0};
    std::thread _thread;
};

}  // namespace pgingest::test
