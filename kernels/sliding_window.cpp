#include "kernels/variants.h"

using namespace flashjit;
using namespace flashjit::dsl;

Expected<Program> kernels::slidingWindow() {
  return attention("sliding_window", {.maskMod = [](Builder &b) {
                     return mods::causal(b) && mods::withinWindow(b);
                   }});
}
