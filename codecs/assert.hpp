#pragma once

/// Programmer-error check, on in every build (STYLE.md "Errors, three tiers", tier 1).
///
/// Never use it on input: bad data is reported through `pgingest::Status`. On failure it prints
/// the expression, file and line to stderr and aborts. Any thread may evaluate it.
#define PGINGEST_ASSERT(cond)                                                       \
    do {                                                                            \
        if (!(cond)) [[unlikely]] {                                                 \
            ::pgingest::detail::assert_fail(#cond, __FILE__, __LINE__, __func__);   \
        }                                                                           \
    } while (false)

namespace pgingest::detail {

/// Prints "pgingest: assertion failed: <expr> at <file>:<line> in <function>" and aborts.
[[noreturn]] void assert_fail(const char* expr, const char* file, int line,
                              const char* function) noexcept;

}  // namespace pgingest::detail
