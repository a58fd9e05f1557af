//===- ProgramReference.h - any tile program on the CPU ---------*- C++ -*-===//
//
// The yardstick for variants nobody wrote a reference for: it reads the
// program itself and evaluates it element by element, from the ops'
// documented semantics (dialects/tile/TileOps.td), not from the compiler's
// lowering. It evaluates programs of the attention form
//
//   O, lse = dot(dropout*(softmax(S).probs), V), softmax(S).lse
//
// where S is any per-element expression of the raw score q·kᵀ, indices,
// extents, parameters, buffer gathers, constants and masks. The algorithm,
// both precisions and the backward are those of Reference.h; the backward's
// d(S)/d(raw score) comes from evaluating S on dual numbers.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHJIT_TOOLS_REFERENCE_PROGRAMREFERENCE_H
#define FLASHJIT_TOOLS_REFERENCE_PROGRAMREFERENCE_H

#include "tools/reference/Reference.h"

#include <memory>

namespace flashjit::reference {

class ProgramReference {
public:
  /// Reads `program` and binds `arguments` to it: every parameter and
  /// buffer it declares must be given, with the declared type and a shape
  /// that fits `shape`, and nothing else. An op the reference cannot
  /// evaluate, or a program not of the attention form, is an Error naming
  /// the op.
  static Expected<ProgramReference> create(const Program &program,
                                           const ProblemShape &shape,
                                           LaunchArguments arguments);

  /// O and the log-sum-exp (-inf, with O = 0, for a row the masks empty).
  /// Dense [B, H, N, D] inputs of the shape given to create. An Error for a
  /// wrong input size or an element whose value the ops leave undefined
  /// (an i32 division by zero).
  Expected<Outputs> forward(const std::vector<float> &q,
                            const std::vector<float> &k,
                            const std::vector<float> &v,
                            Precision precision) const;
  /// The forward and dQ, dK, dV given dO.
  Expected<Outputs> backward(const std::vector<float> &q,
                             const std::vector<float> &k,
                             const std::vector<float> &v,
                             const std::vector<float> &dO,
                             Precision precision) const;

  const ProblemShape &shape() const;

  struct Compiled;

private:
  explicit ProgramReference(std::shared_ptr<const Compiled> compiled);
  std::shared_ptr<const Compiled> compiled_;
};

} // namespace flashjit::reference

#endif // FLASHJIT_TOOLS_REFERENCE_PROGRAMREFERENCE_H
