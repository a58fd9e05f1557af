//===- flashjit/kernels.h - the built-in attention variants -----*- C++ -*-===//
//
// Each built-in variant is written in the C++ DSL (kernels/<name>.cpp) and
// has a textual twin (kernels/<name>.mlir) that prints to the same module.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHJIT_KERNELS_H
#define FLASHJIT_KERNELS_H

#include "flashjit/program.h"

#include <string>
#include <string_view>
#include <vector>

namespace flashjit {

/// A built-in variant: its name and what it computes.
struct BuiltinVariant {
  std::string name;
  std::string summary;
  Expected<Program> (*build)();
};

/// All built-in variants, in a fixed order.
const std::vector<BuiltinVariant> &builtinVariants();

/// Traces the built-in variant `name`; an unknown name is an Error that
/// lists the known ones.
Expected<Program> builtinVariant(std::string_view name);

} // namespace flashjit

#endif // FLASHJIT_KERNELS_H
