#include "kernels/variants.h"

using namespace flashjit;
using namespace flashjit::dsl;

Expected<Program> kernels::prefixLm() {
  return attention("prefix_lm", {.maskMod = [](Builder &b) {
                     return mods::causal(b) ||
                            b.kvIdx() < b.param("prefix", ScalarType::i32);
                   }});
}
