// Thread-local error state and the trapping scopes that turn errors into Swift throws.
#include "bridge.hpp"

namespace {
thread_local std::string last_error;
thread_local int32_t trap_depth = 0;
thread_local bool trap_has_error = false;
thread_local std::string trap_error;
thread_local std::string popped_error;
} // namespace

void ctorch::record_error(const char *message) noexcept {
    try {
        last_error = message;
        if (trap_depth > 0 && !trap_has_error) {
            trap_has_error = true;
            trap_error = message;
        }
    } catch (...) {
    }
}

extern "C" {

const char *ct_last_error(void) { return last_error.c_str(); }

void ct_trap_push(void) {
    if (trap_depth == 0) trap_has_error = false;
    trap_depth += 1;
}

int32_t ct_trap_depth(void) { return trap_depth; }

const char *ct_trap_pop(void) {
    if (trap_depth == 0) return nullptr;
    trap_depth -= 1;
    if (!trap_has_error) return nullptr;
    trap_has_error = false;
    popped_error.swap(trap_error);
    return popped_error.c_str();
}

} // extern "C"
