//===- CheckAttentionChain.cpp - reject programs that cannot fuse ---------===//

#include "compiler/analysis/AttentionChain.h"
#include "compiler/transforms/Passes.h"

namespace flashjit {
#define GEN_PASS_DEF_CHECKATTENTIONCHAIN
#include "compiler/transforms/Passes.h.inc"
} // namespace flashjit

using namespace flashjit;

namespace {
struct CheckAttentionChainPass
    : impl::CheckAttentionChainBase<CheckAttentionChainPass> {
  void runOnOperation() override {
    if (failed(matchAttentionChain(getOperation())))
      signalPassFailure();
    markAllAnalysesPreserved();
  }
};
} // namespace
