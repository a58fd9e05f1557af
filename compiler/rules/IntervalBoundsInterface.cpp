//===- IntervalBoundsInterface.cpp - tile ops over a block ----------------===//

#include "compiler/rules/IntervalBoundsInterface.h"

#include "compiler/rules/IntervalBoundsInterface.cpp.inc"
