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

def LowerWarpgroupMma : Pass<"lower-warpgroup-mma", "::mlir::ModuleOp"> {
  let summary = "Lower nvvm.wgmma.mma_async to PTX";
  let description = [{
    The warpgroup MMA has no LLVM intrinsic: MLIR lowers
    `nvvm.wgmma.mma_async` to inline PTX with its PTX builder
    (convert-nvvm-to-llvm). This pass applies only that lowering, so that
    every other NVVM op keeps the intrinsic the LLVM IR translation gives
    it (convert-nvvm-to-llvm would also turn cp.async with a source size,
    among others, into inline PTX).
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

def SelectKernelConfigs
    : Pass<"tile-select-kernel-configs", "::flashjit::tile::ProgramOp"> {
  let summary = "Choose each kernel's configuration for a target";
  let description = [{
    Writes `tile.kernel_configs` onto the program: one `#tile.kernel_config`
    per kernel of the pass, in launch order, chosen for the target from its
    shared memory and register file and from what the variant's own code
    costs in registers. Later passes only read the configurations, as
    IREE's lowering_config is written once:

    ```mlir
    tile.program @causal attributes {tile.kernel_configs = [
        #tile.kernel_config<kind = forward, head_dim = 128,
            element_type = bf16, block_m = 128, block_n = 128, warps = 8,
            ..., mma = wgmma, ...>]} { ... }
    ```

    The target is one flashjit knows by name (sm_75, sm_80, sm_86, sm_89,
    sm_90, sm_90a); the runtime passes the facts of the device it found.
    A target without m16n8k16 tensor-core products (sm_75), a head dim
    without kernels, or a forced block shape past the target's shared
    memory is an error that says so.
  }];
  let options = [
    Option<"target", "target", "std::string", /*default=*/"\"sm_90a\"",
           "the target by name (sm_80, sm_90a, ...)">,
    Option<"headDim", "head-dim", "int", /*default=*/"128",
           "the head dim of Q, K and V">,
    Option<"dtype", "dtype", "std::string", /*default=*/"\"bf16\"",
           "the inputs' element type: bf16 or f16">,
    Option<"pass", "pass", "std::string", /*default=*/"\"fwd\"",
           "the kernels of the forward (fwd) or the backward (bwd)">,
    Option<"deterministic", "deterministic", "bool", /*default=*/"false",
           "the backward without atomics: delta, dK/dV, dQ">,
    Option<"rowTilesPerWarp", "row-tiles-per-warp", "int", /*default=*/"0",
           "the forward's 16-row tiles per warp (0: chosen; forced, the "
           "mma.sync kernels also on sm_90a)">,
    Option<"blockM", "block-m", "int", /*default=*/"0",
           "a forced BLOCK_M (0: chosen)">,
    Option<"blockN", "block-n", "int", /*default=*/"0",
           "a forced BLOCK_N (0: chosen)">,
  ];
}

def BuildKernels : Pass<"tile-build-kernels", "::mlir::ModuleOp"> {
  let summary = "Build the configured kernels of every program";
  let description = [{
    Replaces each tile.program that carries `tile.kernel_configs` by its
    kernels: one `llvm.func` per configuration, named
    `flashjit_<program>_<kind>`, in the configurations' order. Each kernel
    keeps its configuration (`tile.kernel_config`) and the names of its
    parameters (`tile.kernel_args`): with the function's signature they are
    the launch contract the runtime reads. A program without
    configurations is an error: run tile-select-kernel-configs first.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::LLVM::LLVMDialect",
                           "::mlir::NVVM::NVVMDialect"];
}

#endif // FLASHJIT_COMPILER_TRANSFORMS_PASSES_TD
