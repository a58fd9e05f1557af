//===- Philox.h - Philox4x32-10 in kernel code ------------------*- C++ -*-===//
//
// Dropout's random stream. For the element (batch b, query head h, q, kv)
// of a launch with seed S and offset O, the kernel (and any reference) runs
// Philox4x32-10 with
//   key     = (S & 0xffffffff, S >> 32)
//   counter = (kv / 4, q, (b * Hq + h) ^ (O >> 32), O & 0xffffffff)
// and keeps the element iff word kv % 4 of the output is >= the threshold
// floor(rate * 2^32).
//
//===----------------------------------------------------------------------===//

#ifndef FLASHJIT_COMPILER_LOWERING_PHILOX_H
#define FLASHJIT_COMPILER_LOWERING_PHILOX_H

#include "compiler/kernel/KernelBuilder.h"

#include <cstdint>

namespace flashjit {

/// The four i32 output words of Philox4x32-10 for `counter` and `key`.
std::array<mlir::Value, 4> emitPhilox(KernelBuilder &k,
                                      std::array<mlir::Value, 4> counter,
                                      std::array<mlir::Value, 2> key);

/// floor(rate * 2^32), saturated: the keep threshold of a dropout rate.
uint32_t dropoutThreshold(double rate);

} // namespace flashjit

#endif // FLASHJIT_COMPILER_LOWERING_PHILOX_H
