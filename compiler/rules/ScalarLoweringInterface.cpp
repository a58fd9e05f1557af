//===- ScalarLoweringInterface.cpp - tile ops as scalars ------------------===//

#include "compiler/rules/ScalarLoweringInterface.h"

#include "compiler/rules/ScalarLoweringInterface.cpp.inc"
