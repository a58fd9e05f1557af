//===- Passes.h - flashjit's compiler passes --------------------*- C++ -*-===//

#ifndef FLASHJIT_COMPILER_TRANSFORMS_PASSES_H
#define FLASHJIT_COMPILER_TRANSFORMS_PASSES_H

#include "dialects/tile/TileDialect.h"

#include "mlir/Pass/Pass.h"

namespace flashjit {

#define GEN_PASS_DECL
#include "compiler/transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "compiler/transforms/Passes.h.inc"

} // namespace flashjit

#endif // FLASHJIT_COMPILER_TRANSFORMS_PASSES_H
