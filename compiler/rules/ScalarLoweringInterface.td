//===- ScalarLoweringInterface.td - tile ops as scalars ----*- tablegen -*-===//
//
// What an elementwise tile op computes at one element, as arith and math.
// The ops attach it as external models (TileOpRules.h).
//
//===----------------------------------------------------------------------===//

#ifndef FLASHJIT_COMPILER_RULES_SCALARLOWERINGINTERFACE_TD
#define FLASHJIT_COMPILER_RULES_SCALARLOWERINGINTERFACE_TD

include "mlir/IR/OpBase.td"

def TileScalarLoweringOpInterface
    : OpInterface<"TileScalarLoweringOpInterface"> {
  let description = [{
    An elementwise tile op's meaning at one element of its result: the
    scalar ops (f32, i32 or i1) that compute it from its operands' scalars.
    ElementEmitter asks it for every op of a score modification or mask
    that is not a leaf (the leaves, the score, indices, extents, parameters,
    the scale and gathers, come from the kernel).

    ```mlir
    %y = tile.tanh %x : !tile.tile<[q, kv], f32>
    // at one element, where %x is %xs:
    %ys = math.tanh %xs : f32
    ```
  }];
  let cppNamespace = "::flashjit";

  let methods = [
    InterfaceMethod<[{
      Emits the scalar of the op's result at `builder`'s insertion point
      from `operands`, the scalars of its tile operands in order (a
      gather's buffer has none).
    }],
    /*retTy=*/"::mlir::Value",
    /*methodName=*/"emitScalar",
    /*args=*/(ins "::mlir::OpBuilder &":$builder,
                  "::mlir::ArrayRef<::mlir::Value>":$operands)>,
  ];
}

#endif // FLASHJIT_COMPILER_RULES_SCALARLOWERINGINTERFACE_TD
