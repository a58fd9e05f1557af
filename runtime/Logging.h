//===- Logging.h - the flashjit logger --------------------------*- C++ -*-===//
//
// One spdlog logger named "flashjit", writing to stderr. Its level comes
// from FLASHJIT_LOG_LEVEL (trace, debug, info, warn, error, critical, off;
// default warn), so by default compiles and cache hits log nothing and only
// degradations (a cache that cannot be written) are reported. A name that
// is not a level makes Runtime::create fail with the list; the logger
// itself then stays at warn.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHJIT_RUNTIME_LOGGING_H
#define FLASHJIT_RUNTIME_LOGGING_H

#include "flashjit/status.h"

#include <spdlog/logger.h>

namespace flashjit {
spdlog::logger &logger();

/// The level FLASHJIT_LOG_LEVEL names (warn where unset or empty).
Expected<spdlog::level::level_enum> logLevelFromEnvironment();
} // namespace flashjit

#endif // FLASHJIT_RUNTIME_LOGGING_H
