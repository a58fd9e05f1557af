//===- mods.cpp - masks and biases that several variants share ------------===//

#include "kernels/variants.h"

using namespace flashjit;
using namespace flashjit::dsl;

Tile kernels::mods::causal(Builder &b) { return b.kvIdx() <= b.qIdx(); }

Tile kernels::mods::withinWindow(Builder &b) {
  return b.qIdx() - b.kvIdx() < b.param("window", ScalarType::i32);
}

Tile kernels::mods::alibiBias(Builder &b) {
  Buffer slopes = b.buffer("slopes", {"head"});
  return slopes[b.head()] * toFloat(b.kvIdx() - b.qIdx());
}
