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

#endif // FLASHJIT_COMPILER_TRANSFORMS_PASSES_TD
