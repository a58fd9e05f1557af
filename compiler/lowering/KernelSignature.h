//===- KernelSignature.h - what a kernel takes at launch --------*- C++ -*-===//
//
// Kernels take flat scalar parameters; the signature names them in order so
// that the runtime (and flashjit-ptx's listing) can fill them.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHJIT_COMPILER_LOWERING_KERNELSIGNATURE_H
#define FLASHJIT_COMPILER_LOWERING_KERNELSIGNATURE_H

#include "compiler/schedule/Schedule.h"

#include <string>
#include <vector>

namespace flashjit {

struct KernelArg {
  enum class Kind { pointer, i32, i64, f32 };
  std::string name;
  Kind kind;
};

/// One kernel of a compiled pass: its entry name, schedule and parameters.
struct KernelInfo {
  std::string name;
  KernelKind kind;
  Schedule schedule;
  std::vector<KernelArg> args;
};

const char *stringifyKernelArgKind(KernelArg::Kind kind);

} // namespace flashjit

#endif // FLASHJIT_COMPILER_LOWERING_KERNELSIGNATURE_H
