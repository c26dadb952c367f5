#include "tests/support/faults.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <exception>
#include <utility>

namespace pgingest::test {

int terminate_backends(Connection& conn, const std::string& application_name) {
    return std::stoi(
        conn.query_value("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                         "WHERE application_name = '" +
                         application_name + "'"));
}

bool wait_for_wait_event(Connection& conn, const std::string& application_name,
                         const std::string& wait_event) {
    const std::string sql = "SELECT count(*) FROM pg_stat_activity WHERE application_name = '" +
                            application_name + "' AND wait_event = '" + wait_event + "'";
    for (int i = 0; i < 3000; i++) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        if (conn.query_value(sql) != "0") {
            return true;
        }
    }
    return false;
}

void load_through_fault(Engine& engine, const std::function<void()>& load,
                        const std::function<void()>& fault, const FaultOutcome& expected) {
    std::exception_ptr load_error;
    std::thread loader([&] {
        try {
            load();
        } catch (...) {
            load_error = std::current_exception();
        }
    });
    try {
        fault();
    } catch (...) {
        loader.join();
        throw;
    }
    loader.join();
    if (load_error) {
        std::rethrow_exception(load_error);
    }
    engine.close();
    CHECK(engine.stats().reconnects >= 1);
    CHECK(engine.stats().rows_committed == expected.rows_committed);
    if (expected.transactions_committed != 0) {
        CHECK(engine.stats().transactions_committed == expected.transactions_committed);
    }
}

void hold_commits(Connection& admin, bool hold) {
    admin.exec(hold ? "ALTER SYSTEM SET synchronous_standby_names = 'absent_standby'"
                    : "ALTER SYSTEM RESET synchronous_standby_names");
    admin.exec("SELECT pg_reload_conf()");
}

WriterKiller::WriterKiller(const std::string& conninfo, std::string application_name,
                           std::int64_t gate_key, int rounds)
    : _conninfo(conninfo),
      _application_name(std::move(application_name)),
      _gate_key(gate_key),
      _rounds(rounds),
      _gate(conninfo) {
    _gate.exec("SELECT pg_advisory_lock(" + std::to_string(_gate_key) + ")");
    _thread = std::thread([this] { run(); });
}

WriterKiller::~WriterKiller() {
    stop();
}

void WriterKiller::stop() {
    _loading.store(false);
    if (_thread.joinable()) {
        _thread.join();
    }
}

void WriterKiller::run() {
    Connection killer(_conninfo);
    const std::string waiting =
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = " +
        std::to_string(_gate_key) + " AND NOT granted";
    for (int i = 0; i < 3000; i++) {
        if (killer.query_value(waiting) == "1") {
            _killed_at_gate = terminate_backends(killer, _application_name);
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    // `_gate` is used by this thread only from now on.
    _gate.exec("SELECT pg_advisory_unlock(" + std::to_string(_gate_key) + ")");
    for (int round = 0; round < _rounds && _loading.load(); round++) {
        std::this_thread::sleep_for(std::chrono::milliseconds(40));
        (void)terminate_backends(killer, _application_name);
    }
}

}  // namespace pgingest::test
