#include "kernels/variants.h"

using namespace flashjit;
using namespace flashjit::dsl;

Expected<Program> kernels::alibi() {
  return attention("alibi", {.scoreMod = [](Builder &b, Tile s) {
                     return s + mods::alibiBias(b);
                   }});
}
