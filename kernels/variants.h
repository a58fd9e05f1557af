//===- variants.h - the built-in variants, one per file ---------*- C++ -*-===//

#ifndef FLASHJIT_KERNELS_VARIANTS_H
#define FLASHJIT_KERNELS_VARIANTS_H

#include "flashjit/dsl.h"

namespace flashjit::kernels {

Expected<Program> full();
Expected<Program> causal();
Expected<Program> causalBottomRight();
Expected<Program> slidingWindow();
Expected<Program> alibi();
Expected<Program> softcap();
Expected<Program> prefixLm();
Expected<Program> document();
Expected<Program> relativeBias();
Expected<Program> dropout();
Expected<Program> causalWindowAlibiDropout();

/// Pieces several variants share.
namespace mods {
/// Keys at or before the query (top-left aligned): kv <= q.
dsl::Tile causal(dsl::Builder &b);
/// Keys less than `window` positions before the query: q - kv < window.
dsl::Tile withinWindow(dsl::Builder &b);
/// The ALiBi bias: slopes[head] * (kv - q).
dsl::Tile alibiBias(dsl::Builder &b);
} // namespace mods

} // namespace flashjit::kernels

#endif // FLASHJIT_KERNELS_VARIANTS_H
