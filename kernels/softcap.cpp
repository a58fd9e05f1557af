#include "kernels/variants.h"

using namespace flashjit;
using namespace flashjit::dsl;

// Gemma-2 style logit soft-capping, applied to the scaled scores.
Expected<Program> kernels::softcap() {
  return attention("softcap", {.scoreMod = [](Builder &b, Tile s) {
                     Tile cap = b.param("softcap");
                     return cap * tanh(s / cap);
                   }});
}
