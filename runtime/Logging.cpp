//===- Logging.cpp - the flashjit logger ----------------------------------===//

#include "runtime/Logging.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <string_view>

using namespace flashjit;

Expected<spdlog::level::level_enum> flashjit::logLevelFromEnvironment() {
  const char *name = std::getenv("FLASHJIT_LOG_LEVEL");
  if (!name || !*name)
    return spdlog::level::warn;
  // spdlog's from_str turns an unknown name into `off`: silence, not help.
  for (std::string_view known :
       {"trace", "debug", "info", "warn", "error", "critical", "off"})
    if (known == name)
      return spdlog::level::from_str(name);
  return Error("FLASHJIT_LOG_LEVEL must be one of trace, debug, info, warn, "
               "error, critical, off; not '" +
               std::string(name) + "'");
}

spdlog::logger &flashjit::logger() {
  static std::shared_ptr<spdlog::logger> instance = [] {
    auto log = spdlog::stderr_color_mt("flashjit");
    log->set_pattern("[%n] [%l] %v");
    Expected<spdlog::level::level_enum> level = logLevelFromEnvironment();
    log->set_level(level ? *level : spdlog::level::warn);
    return log;
  }();
  return *instance;
}
