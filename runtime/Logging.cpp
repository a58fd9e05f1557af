//===- Logging.cpp - the flashjit logger ----------------------------------===//

#include "runtime/Logging.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdlib>

spdlog::logger &flashjit::logger() {
  static std::shared_ptr<spdlog::logger> instance = [] {
    auto log = spdlog::stderr_color_mt("flashjit");
    log->set_pattern("[%n] [%l] %v");
    const char *level = std::getenv("FLASHJIT_LOG_LEVEL");
    log->set_level(level ? spdlog::level::from_str(level)
                         : spdlog::level::warn);
    return log;
  }();
  return *instance;
}
