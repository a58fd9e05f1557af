#include "kernels/variants.h"

using namespace flashjit;
using namespace flashjit::dsl;

// The combination a long-context training run might use: every piece the
// compiler handles at once.
Expected<Program> kernels::causalWindowAlibiDropout() {
  return attention(
      "causal_window_alibi_dropout",
      {.scoreMod = [](Builder &b, Tile s) { return s + mods::alibiBias(b); },
       .maskMod =
           [](Builder &b) { return mods::causal(b) && mods::withinWindow(b); },
       .dropoutRate = 0.1f});
}
