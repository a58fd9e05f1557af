//===- IntervalBoundsInterface.td - tile ops over a block --*- tablegen -*-===//
//
// The bounds of a tile op's result over a block of scores, from its
// operands' bounds. The ops attach it as external models (TileOpRules.h).
//
//===----------------------------------------------------------------------===//

#ifndef FLASHJIT_COMPILER_RULES_INTERVALBOUNDSINTERFACE_TD
#define FLASHJIT_COMPILER_RULES_INTERVALBOUNDSINTERFACE_TD

include "mlir/IR/OpBase.td"

def TileIntervalBoundsOpInterface
    : OpInterface<"TileIntervalBoundsOpInterface"> {
  let description = [{
    The interval a tile op's result takes over a block [q_lo, q_hi] x
    [kv_lo, kv_hi], as code that computes its ends at run time:
    BlockClassifier (compiler/lowering/BlockClassifier.h) asks it for
    every op of a mask to decide whether the block is empty, full or
    partial. i32 ends are held as i64, i1 bounds are (may be true, may be
    false).

    ```mlir
    %d = tile.sub %q_idx, %kv_idx : !tile.tile<[q], i32>,
        !tile.tile<[kv], i32> -> !tile.tile<[q, kv], i32>
    // [q_lo - kv_hi, q_hi - kv_lo]:
    %lo = arith.subi %q_lo, %kv_hi : i64
    %hi = arith.subi %q_hi, %kv_lo : i64
    ```
  }];
  let cppNamespace = "::flashjit";

  let methods = [
    InterfaceMethod<[{
      Returns the result's bounds, given `operands`, the bounds of the op's
      tile operands in order (a gather's buffer has none), emitting the
      code through `classifier`'s kernel builder.
    }],
    /*retTy=*/"::flashjit::IntervalBounds",
    /*methodName=*/"inferBounds",
    /*args=*/(ins "::flashjit::BlockClassifier &":$classifier,
                  "::llvm::ArrayRef<::flashjit::IntervalBounds>":$operands)>,
    InterfaceMethod<[{
      Whether an i32 result is unbounded as soon as an i32 operand is: then
      BlockClassifier gives the unknown interval without asking
      `inferBounds` (i64 ends might have overflowed). True for arithmetic;
      a gather, whose operands only say where it reads, bounds its result
      itself.
    }],
    /*retTy=*/"bool",
    /*methodName=*/"propagatesUnboundedOperands",
    /*args=*/(ins),
    /*methodBody=*/"",
    /*defaultImplementation=*/"return true;">,
  ];
}

#endif // FLASHJIT_COMPILER_RULES_INTERVALBOUNDSINTERFACE_TD
