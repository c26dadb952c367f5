#include "codecs/assert.hpp"

#include <cstdio>
#include <cstdlib>

namespace pgingest::detail {

// The codecs never print on the data path; an assertion is a bug in pgingest itself, so the
// process is ending anyway and stderr is the only place left to say why.
void assert_fail(const char* expr, const char* file, int line, const char* function) noexcept {
    std::fprintf(stderr, "pgingest: assertion failed: %s at %s:%d in %s\n", expr, file, line,
                 function);
    std::abort();
}

}  // namespace pgingest::detail
