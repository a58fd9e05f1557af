#include "kernels/variants.h"

using namespace flashjit;
using namespace flashjit::dsl;

// With len_q < len_kv the last query sees every key, as in FlashAttention-2
// (and PyTorch's causal_lower_right).
Expected<Program> kernels::causalBottomRight() {
  return attention("causal_bottom_right", {.maskMod = [](Builder &b) {
                     return b.kvIdx() <=
                            b.qIdx() + (b.seqlenKv() - b.seqlenQ());
                   }});
}
