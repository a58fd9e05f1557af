//===- TestPasses.cpp - the test-only passes ------------------------------===//

#include "tests/lib/TestPasses.h"

void flashjit::test::registerTestPasses() {
  registerTestElementFunctionPass();
  registerTestScoreTangentPass();
  registerTestIntervalBoundsPass();
}
