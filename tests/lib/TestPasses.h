//===- TestPasses.h - the test-only passes ----------------------*- C++ -*-===//
//
// Passes that expose pieces of the compiler to lit, for flashjit-opt.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHJIT_TESTS_LIB_TESTPASSES_H
#define FLASHJIT_TESTS_LIB_TESTPASSES_H

namespace flashjit::test {

/// -tile-test-element-function: the modified score and the mask.
void registerTestElementFunctionPass();
/// -tile-test-score-tangent: the modified score and its derivative.
void registerTestScoreTangentPass();
/// -tile-test-interval-bounds: each mask's classification of a block.
void registerTestIntervalBoundsPass();

/// All of them.
void registerTestPasses();

} // namespace flashjit::test

#endif // FLASHJIT_TESTS_LIB_TESTPASSES_H
