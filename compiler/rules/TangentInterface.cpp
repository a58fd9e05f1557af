//===- TangentInterface.cpp - tile ops' derivatives -----------------------===//

#include "compiler/rules/TangentInterface.h"

#include "compiler/rules/TangentInterface.cpp.inc"
