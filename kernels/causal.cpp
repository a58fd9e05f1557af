#include "kernels/variants.h"

using namespace flashjit;

Expected<Program> kernels::causal() {
  return dsl::attention("causal", {.maskMod = mods::causal});
}
