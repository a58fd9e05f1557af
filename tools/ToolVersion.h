//===- ToolVersion.h - what every flashjit tool's --version prints --*- C++
//-*-===//

#ifndef FLASHJIT_TOOLS_TOOLVERSION_H
#define FLASHJIT_TOOLS_TOOLVERSION_H

#include "flashjit/version.h"

#include "llvm/Config/llvm-config.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/raw_ostream.h"

namespace flashjit {

/// Makes `--version` print `TOOL (flashjit) 0.4.0` and the LLVM it is built
/// on, instead of LLVM's own banner.
inline void setToolVersionPrinter(const char *tool) {
  static const char *name = tool;
  llvm::cl::SetVersionPrinter([](llvm::raw_ostream &os) {
    os << name << " (flashjit) " FLASHJIT_VERSION_STRING "\n  built with LLVM "
       << LLVM_VERSION_STRING << "\n";
  });
}

} // namespace flashjit

#endif // FLASHJIT_TOOLS_TOOLVERSION_H
