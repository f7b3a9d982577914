// Thread-local error state and the trapping scopes that turn errors into Swift throws.
#include "bridge.hpp"

namespace {
// One entry per open scope, innermost last: each scope keeps only the first failure that
// happened while it was the innermost, so an error never moves to a scope opened after it.
struct TrapScope {
    bool has_error = false;
    std::string error;
};
thread_local std::string last_error;
thread_local std::vector<TrapScope> trap_scopes;
thread_local std::string popped_error;
} // namespace

void ctorch::record_error(const char *message) noexcept {
    try {
        last_error = message;
        if (!trap_scopes.empty() && !trap_scopes.back().has_error) {
            trap_scopes.back().has_error = true;
            trap_scopes.back().error = message;
        }
    } catch (...) {
    }
}

extern "C" {

const char *ct_last_error(void) { return last_error.c_str(); }

void ct_trap_push(void) { trap_scopes.emplace_back(); }

int32_t ct_trap_depth(void) { return static_cast<int32_t>(trap_scopes.size()); }

const char *ct_trap_pop(void) {
    if (trap_scopes.empty()) return nullptr;
    TrapScope scope = std::move(trap_scopes.back());
    trap_scopes.pop_back();
    if (!scope.has_error) return nullptr;
    popped_error = std::move(scope.error);
    return popped_error.c_str();
}

} // extern "C"
