//===- TangentInterface.td - tile ops' derivatives ---------*- tablegen -*-===//
//
// The forward-mode derivative of an f32 tile op with respect to the raw
// score. The ops attach it as external models (TileOpRules.h).
//
//===----------------------------------------------------------------------===//

#ifndef FLASHJIT_COMPILER_RULES_TANGENTINTERFACE_TD
#define FLASHJIT_COMPILER_RULES_TANGENTINTERFACE_TD

include "mlir/IR/OpBase.td"

def TileTangentOpInterface : OpInterface<"TileTangentOpInterface"> {
  let description = [{
    The tangent of an f32 tile op's result, d(result)/d(raw score) at one
    element, from its operands' tangents and, where the rule needs them,
    its operands' and its own values at that element. ScoreTangentEmitter
    (compiler/lowering/ScoreDerivative.h) asks it for every f32 op of a
    score modification; the raw score's tangent is one, integer and
    boolean values have none. Ops that do not depend on the score
    (constants, parameters, the scale, gathers, casts from integers) give
    zero.

    ```mlir
    %y = tile.exp %x : !tile.tile<[q, kv], f32>
    // dy = y * dx, per element:
    %dys = arith.mulf %ys, %dxs : f32
    ```
  }];
  let cppNamespace = "::flashjit";

  let methods = [
    InterfaceMethod<[{
      Returns the result's tangent, given `operands`, the tangents of the
      op's tile operands in order (a gather's buffer has none). Code goes
      through `emitter`, whose helpers keep zero and one symbolic and whose
      `value` gives an operand's (or the op's own) value at the element.
    }],
    /*retTy=*/"::flashjit::ScoreTangent",
    /*methodName=*/"emitTangent",
    /*args=*/(ins "::flashjit::ScoreTangentEmitter &":$emitter,
                  "::llvm::ArrayRef<::flashjit::ScoreTangent>":$operands)>,
  ];
}

#endif // FLASHJIT_COMPILER_RULES_TANGENTINTERFACE_TD
