//===- Logging.h - the flashjit logger --------------------------*- C++ -*-===//
//
// One spdlog logger named "flashjit", writing to stderr. Its level comes
// from FLASHJIT_LOG_LEVEL (trace, debug, info, warn, error, off; default
// warn), so by default compiles and cache hits log nothing and only
// degradations (a cache that cannot be written) are reported.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHJIT_RUNTIME_LOGGING_H
#define FLASHJIT_RUNTIME_LOGGING_H

#include <spdlog/logger.h>

namespace flashjit {
spdlog::logger &logger();
} // namespace flashjit

#endif // FLASHJIT_RUNTIME_LOGGING_H
