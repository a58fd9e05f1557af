#include "kernels/variants.h"

using namespace flashjit;

Expected<Program> kernels::dropout() {
  return dsl::attention("dropout", {.dropoutRate = 0.1f});
}
