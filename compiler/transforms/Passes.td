//===- Passes.td - flashjit's compiler passes -------------*- tablegen -*-===//

#ifndef FLASHJIT_COMPILER_TRANSFORMS_PASSES_TD
#define FLASHJIT_COMPILER_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def CheckAttentionChain
    : Pass<"tile-check-attention-chain", "::flashjit::tile::ProgramOp"> {
  let summary = "Check that a program is one fusible attention chain";
  let description = [{
    Every kernel is one fused FlashAttention loop, so a program must be
    `dot(q, kᵀ)`, an elementwise score modification, masks, `softmax`,
    optional `dropout`, `dot(p, v)` and `tile.store`. This pass changes
    nothing; on a program that is not such a chain it fails with an error
    on the op that breaks it:

    ```mlir
    %p, %lse = tile.softmax %s : !tile.tile<[q, kv], f32>
    // error: 'tile.exp' op breaks the attention chain: it reads the
    // probabilities, which only dropout and the output product may read
    %e = tile.exp %p : !tile.tile<[q, kv], f32>
    ```
  }];
}

def LowerMathForNvptx : Pass<"lower-math-for-nvptx", "::mlir::ModuleOp"> {
  let summary = "Lower the math of score functions to the GPU's fast units";
  let description = [{
    Rewrites the f32 math that score modifications and their derivatives
    use into what the NVPTX backend turns into few instructions per score:

    - `math.exp x` becomes `math.exp2 (x * log2(e))` and `math.log`,
      `math.log2` become `lg2.approx` (relative error about 2^-22).
    - `math.tanh x` becomes `copysign(1 - 2 rcp(2^(2 log2(e) |x|) + 1), x)`:
      two MUFU operations. Its error is about 1e-7, relative for large |x|
      and absolute near 0. MLIR's polynomial approximation divides two
      polynomials with an IEEE division per score, and `tanh.approx.f32`
      (relative error 2^-11) would move softcap's logits by 0.02 at a cap
      of 50.
    - `arith.divf x, y` with `y` defined outside the innermost loop around
      the division becomes `x * (1 / y)`, the reciprocal computed once (IEEE)
      where `y` is defined: softcap's `s / cap` costs one multiply per
      score. Any other f32 division in a loop becomes `div.full.f32` (at
      most 2 ulp) instead of IEEE `div.rn.f32`, a long sequence with a slow
      path; outside loops a division runs once and stays IEEE.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::LLVM::LLVMDialect"];
}

#endif // FLASHJIT_COMPILER_TRANSFORMS_PASSES_TD
