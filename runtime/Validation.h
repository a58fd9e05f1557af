//===- Validation.h - check a launch before it happens ----------*- C++ -*-===//
//
// Every problem a launch could have with its inputs is found here, on the
// host, before any driver call: null or misaligned pointers, dtypes, shapes
// and strides that do not agree, head counts GQA cannot map, unsupported
// head dims, sizes the kernels' index math cannot hold, and variant
// parameters or buffers that are missing, unknown or of the wrong type.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHJIT_RUNTIME_VALIDATION_H
#define FLASHJIT_RUNTIME_VALIDATION_H

#include "flashjit/flashjit.h"

#include <string>
#include <vector>

namespace flashjit {

/// The problem sizes every kernel of a launch shares.
struct LaunchShape {
  int64_t batch = 0, headsQ = 0, headsKv = 0, seqlenQ = 0, seqlenKv = 0,
          headDim = 0;
  DType dtype = DType::bf16;
  bool empty() const { return batch == 0 || headsQ == 0 || seqlenQ == 0; }
};

/// What a variant's launches are checked against, read from its program
/// once: walking the module on every launch cost about a microsecond.
struct VariantInterface {
  std::string name;
  std::vector<ParamInfo> params;
  std::vector<BufferInfo> buffers;

  static VariantInterface of(const Program &program);
};

/// Checks a forward launch; on success returns its shape.
Expected<LaunchShape> validateForward(const VariantInterface &variant,
                                      const TensorView &q, const TensorView &k,
                                      const TensorView &v, const TensorView &o,
                                      const TensorView &lse,
                                      const AttentionParams &params);

/// Checks a backward launch; on success returns its shape.
Expected<LaunchShape>
validateBackward(const VariantInterface &variant, const TensorView &q,
                 const TensorView &k, const TensorView &v, const TensorView &o,
                 const TensorView &lse, const TensorView &dO,
                 const TensorView &dq, const TensorView &dk,
                 const TensorView &dv, const AttentionParams &params);

} // namespace flashjit

#endif // FLASHJIT_RUNTIME_VALIDATION_H
