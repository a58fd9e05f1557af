#include "kernels/variants.h"

using namespace flashjit;
using namespace flashjit::dsl;

// A learned bias per head and relative distance, T5 / Swin style:
// bias[head, clamp(kv - q, -R, R) + R] with R = max_distance, so the table
// has 2R + 1 columns.
Expected<Program> kernels::relativeBias() {
  return attention("relative_bias", {.scoreMod = [](Builder &b, Tile s) {
                     Tile r = b.param("max_distance", ScalarType::i32);
                     Tile distance = min(max(b.kvIdx() - b.qIdx(), -r), r);
                     Buffer bias = b.buffer("bias", {"head", "?"});
                     return s + bias(b.head(), distance + r);
                   }});
}
