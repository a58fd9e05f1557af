//===- TileOps.td - tile dialect operations ---------------*- tablegen -*-===//

#ifndef FLASHJIT_TILE_OPS_TD
#define FLASHJIT_TILE_OPS_TD

include "dialects/tile/TileTypes.td"
include "mlir/IR/BuiltinAttributeInterfaces.td"
include "mlir/IR/OpAsmInterface.td"
include "mlir/IR/SymbolInterfaces.td"
include "mlir/IR/RegionKindInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"

class Tile_Op<string mnemonic, list<Trait> traits = []>
    : Op<Tile_Dialect, mnemonic, traits>;

// Ops whose result gets a readable SSA name (%q, %kv_idx, %window, ...).
defvar Tile_NamesResult =
    DeclareOpInterfaceMethods<OpAsmOpInterface, ["getAsmResultNames"]>;

def Tile_AnyTile : Type<CPred<"::llvm::isa<::flashjit::tile::TileType>($_self)">,
                        "tile", "::flashjit::tile::TileType">;
def Tile_AnyBuffer : Type<CPred<"::llvm::isa<::flashjit::tile::BufferType>($_self)">,
                          "buffer", "::flashjit::tile::BufferType">;

//===----------------------------------------------------------------------===//
// The program
//===----------------------------------------------------------------------===//

def Tile_ProgramOp : Tile_Op<"program", [
    Symbol, IsolatedFromAbove, SingleBlock, NoTerminator]> {
  let summary = "one attention variant";
  let description = [{
    The body describes how one query block attends to one key/value block,
    as values: no loops, no memory. It ends with `tile.store`, and the
    verifier says so where it does not. Parameter and
    buffer names are unique within a program; they are how the runtime
    binds a launch's arguments.

    ```mlir
    tile.program @causal {
      %q = tile.load_q : !tile.tile<[q, d], input>
      ...
      tile.store %o, %lse : !tile.tile<[q, d], f32>, !tile.tile<[q], f32>
    }
    ```
  }];
  let arguments = (ins SymbolNameAttr:$sym_name);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = "$sym_name attr-dict-with-keyword $body";
  let hasRegionVerifier = 1;
  let extraClassDeclaration = [{
    /// The tile.store that ends the body; null only before verification.
    StoreOp getStore();
  }];
}

def Tile_StoreOp : Tile_Op<"store", [Terminator, HasParent<"ProgramOp">]> {
  let summary = "the program's results: O and the row log-sum-exp";
  let arguments = (ins Tile_AnyTile:$o, Tile_AnyTile:$lse);
  let assemblyFormat = "$o `,` $lse attr-dict `:` type($o) `,` type($lse)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Inputs: Q, K, V, indices, extents, parameters, buffers, constants
//===----------------------------------------------------------------------===//

class Tile_InputTileOp<string mnemonic, string what>
    : Tile_Op<mnemonic, [Pure, Tile_NamesResult]> {
  let summary = "the " # what # " tile";
  let results = (outs Tile_AnyTile:$result);
  let assemblyFormat = "attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def Tile_LoadQOp : Tile_InputTileOp<"load_q", "query (`[q, d]`)">;
def Tile_LoadKOp : Tile_InputTileOp<"load_k", "key (`[kv, d]`)">;
def Tile_LoadVOp : Tile_InputTileOp<"load_v", "value (`[kv, d]`)">;

def Tile_SoftmaxScaleOp : Tile_Op<"softmax_scale", [Pure, Tile_NamesResult]> {
  let summary = "the softmax scale given at launch (1/sqrt(d) by default)";
  let results = (outs Tile_AnyTile:$result);
  let assemblyFormat = "attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def Tile_IndexOp : Tile_Op<"index", [Pure, Tile_NamesResult]> {
  let summary = "the index tile of the batch, head, query or key";
  let description = [{
    `batch` and `head` are scalars (`[]`); `q` varies along `q` and `kv`
    along `kv`, both `i32` and counted from the start of the sequence. With
    grouped-query attention `head` is the query head.
  }];
  let arguments = (ins Tile_IndexDim:$dim);
  let results = (outs Tile_AnyTile:$result);
  let assemblyFormat = "$dim attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def Tile_ExtentOp : Tile_Op<"extent", [Pure, Tile_NamesResult]> {
  let summary = "the size of the batch, heads, query or key sequence";
  let description = [{
    A scalar `i32`: B, H (query heads), the query length or the key length.
    Bottom-right aligned causal masks use `extent kv` - `extent q`.
  }];
  let arguments = (ins Tile_IndexDim:$dim);
  let results = (outs Tile_AnyTile:$result);
  let assemblyFormat = "$dim attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def Tile_ParamOp : Tile_Op<"param", [Pure, Tile_NamesResult]> {
  let summary = "a named scalar parameter given at launch";
  let arguments = (ins StrAttr:$name);
  let results = (outs Tile_AnyTile:$result);
  let assemblyFormat = "$name attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def Tile_BufferOp : Tile_Op<"buffer", [Pure, Tile_NamesResult]> {
  let summary = "a named auxiliary buffer given at launch";
  let arguments = (ins StrAttr:$name);
  let results = (outs Tile_AnyBuffer:$result);
  let assemblyFormat = "$name attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def Tile_ConstantOp : Tile_Op<"constant", [Pure, ConstantLike,
    DeclareOpInterfaceMethods<InferTypeOpInterface>]> {
  let summary = "a scalar constant";
  let description = [{
    ```mlir
    %c = tile.constant 3.000000e+01 : f32   // !tile.tile<[], f32>
    ```
  }];
  let arguments = (ins TypedAttrInterface:$value);
  let results = (outs Tile_AnyTile:$result);
  let assemblyFormat = "$value attr-dict";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Tile_LoadOp : Tile_Op<"load", [Pure]> {
  let summary = "gather from an auxiliary buffer";
  let description = [{
    One index tile per buffer dimension; the result varies along the union
    of the indices' axes. An index that comes straight from `tile.index`
    must match the dimension's domain; computed indices are clamped into
    the buffer's extent.

    ```mlir
    %slope = tile.load %slopes[%h] : !tile.buffer<[head], f32>, !tile.tile<[], i32>
    ```
  }];
  let arguments = (ins Tile_AnyBuffer:$buffer, Variadic<Tile_AnyTile>:$indices);
  let results = (outs Tile_AnyTile:$result);
  let assemblyFormat = [{
    $buffer `[` $indices `]` attr-dict `:` type($buffer) `,` type($indices)
    `->` type($result)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Elementwise arithmetic (broadcasting over axes)
//===----------------------------------------------------------------------===//

class Tile_ElementwiseOp<string mnemonic, list<Trait> traits = []>
    : Tile_Op<mnemonic, !listconcat([Pure], traits)> {
  let results = (outs Tile_AnyTile:$result);
  let hasVerifier = 1;
}

// `kinds` names the element types allowed: "number" (f32, i32), "float",
// "int" or "bool".
class Tile_BinaryOp<string mnemonic, string kinds, string what>
    : Tile_ElementwiseOp<mnemonic> {
  let summary = what # " (" # kinds # ")";
  let arguments = (ins Tile_AnyTile:$lhs, Tile_AnyTile:$rhs);
  let assemblyFormat = [{
    $lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs) `->` type($result)
  }];
  string allowedKinds = kinds;
  let extraClassDeclaration = [{
    static constexpr ::llvm::StringLiteral kAllowedKinds = "}] # kinds # [{";
  }];
}

def Tile_AddOp : Tile_BinaryOp<"add", "number", "elementwise sum">;
def Tile_SubOp : Tile_BinaryOp<"sub", "number", "elementwise difference">;
def Tile_MulOp : Tile_BinaryOp<"mul", "number", "elementwise product">;
def Tile_DivOp : Tile_BinaryOp<"div", "number",
    "elementwise quotient; i32 rounds toward zero">;
def Tile_RemOp : Tile_BinaryOp<"rem", "int",
    "elementwise remainder, with the sign of the dividend">;
def Tile_MaxOp : Tile_BinaryOp<"max", "number", "elementwise maximum">;
def Tile_MinOp : Tile_BinaryOp<"min", "number", "elementwise minimum">;
def Tile_AndOp : Tile_BinaryOp<"and", "bool", "elementwise conjunction">;
def Tile_OrOp : Tile_BinaryOp<"or", "bool", "elementwise disjunction">;
def Tile_XorOp : Tile_BinaryOp<"xor", "bool", "elementwise exclusive or">;

def Tile_CmpOp : Tile_ElementwiseOp<"cmp"> {
  let summary = "elementwise comparison, giving an i1 tile";
  let arguments = (ins Tile_CmpPredicate:$predicate, Tile_AnyTile:$lhs,
                       Tile_AnyTile:$rhs);
  let assemblyFormat = [{
    $predicate `,` $lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs)
    `->` type($result)
  }];
}

class Tile_UnaryOp<string mnemonic, string kinds, string what>
    : Tile_ElementwiseOp<mnemonic, [SameOperandsAndResultType]> {
  let summary = what # " (" # kinds # ")";
  let arguments = (ins Tile_AnyTile:$x);
  let assemblyFormat = "$x attr-dict `:` type($x)";
  let extraClassDeclaration = [{
    static constexpr ::llvm::StringLiteral kAllowedKinds = "}] # kinds # [{";
  }];
}

def Tile_NegOp : Tile_UnaryOp<"neg", "number", "negation">;
def Tile_AbsOp : Tile_UnaryOp<"abs", "number", "absolute value">;
def Tile_ExpOp : Tile_UnaryOp<"exp", "float", "natural exponential">;
def Tile_LogOp : Tile_UnaryOp<"log", "float", "natural logarithm">;
def Tile_TanhOp : Tile_UnaryOp<"tanh", "float", "hyperbolic tangent">;
def Tile_SqrtOp : Tile_UnaryOp<"sqrt", "float", "square root">;
def Tile_SigmoidOp : Tile_UnaryOp<"sigmoid", "float", "logistic sigmoid">;
def Tile_NotOp : Tile_UnaryOp<"not", "bool", "negation">;

def Tile_CastOp : Tile_ElementwiseOp<"cast"> {
  let summary = "convert between i1, i32 and f32";
  let description = [{
    i1 becomes 0 or 1, i32 to f32 rounds to nearest, f32 to i32 rounds
    toward zero. Converting to i1 is not a cast: compare with zero.
  }];
  let arguments = (ins Tile_AnyTile:$x);
  let assemblyFormat = "$x attr-dict `:` type($x) `->` type($result)";
}

def Tile_SelectOp : Tile_ElementwiseOp<"select"> {
  let summary = "elementwise choice: `cond ? a : b`";
  let arguments = (ins Tile_AnyTile:$cond, Tile_AnyTile:$a, Tile_AnyTile:$b);
  let assemblyFormat = [{
    $cond `,` $a `,` $b attr-dict `:` type($cond) `,` type($a) `,` type($b)
    `->` type($result)
  }];
}

//===----------------------------------------------------------------------===//
// The attention chain
//===----------------------------------------------------------------------===//

def Tile_DotOp : Tile_Op<"dot", [Pure]> {
  let summary = "tile matrix product with f32 accumulation";
  let description = [{
    `lhs[a, c] * rhs[c, b] -> [a, b]`; with `transpose_rhs` the right side
    is `[b, c]`. Operands hold `input` or `f32` elements (probabilities are
    rounded to the input type by the compiler); the result is `f32`.

    ```mlir
    %s = tile.dot %q, %k transpose_rhs : !tile.tile<[q, d], input>,
        !tile.tile<[kv, d], input> -> !tile.tile<[q, kv], f32>
    ```
  }];
  let arguments = (ins Tile_AnyTile:$lhs, Tile_AnyTile:$rhs,
                       UnitAttr:$transpose_rhs);
  let results = (outs Tile_AnyTile:$result);
  let assemblyFormat = [{
    $lhs `,` $rhs (`transpose_rhs` $transpose_rhs^)? attr-dict `:`
    type($lhs) `,` type($rhs) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Tile_MaskOp : Tile_Op<"mask", [Pure, AllTypesMatch<["scores", "result"]>]> {
  let summary = "keep the scores where the mask is true, -inf elsewhere";
  let description = [{
    The mask is a boolean expression of indices, extents, parameters and
    buffers, never of the scores: the compiler evaluates it per block to
    skip blocks that are all false and drop the mask code from blocks that
    are all true.
  }];
  let arguments = (ins Tile_AnyTile:$scores, Tile_AnyTile:$keep);
  let results = (outs Tile_AnyTile:$result);
  let assemblyFormat = [{
    $scores `,` $keep attr-dict `:` type($scores) `,` type($keep)
  }];
  let hasVerifier = 1;
}

def Tile_SoftmaxOp : Tile_Op<"softmax", [Pure,
    DeclareOpInterfaceMethods<InferTypeOpInterface>]> {
  let summary = "row softmax of the scores, and each row's log-sum-exp";
  let description = [{
    `p = exp(s - lse)` with `lse = log(sum_kv exp(s))`. A row whose scores
    are all masked has `p = 0` and `lse = -inf`.
  }];
  let arguments = (ins Tile_AnyTile:$scores);
  let results = (outs Tile_AnyTile:$probs, Tile_AnyTile:$lse);
  let assemblyFormat = "$scores attr-dict `:` type($scores)";
  let hasVerifier = 1;
}

def Tile_DropoutOp : Tile_Op<"dropout", [Pure,
    AllTypesMatch<["probs", "result"]>]> {
  let summary = "drop probabilities with Philox4x32-10 and rescale the rest";
  let description = [{
    Each element is kept with probability `1 - rate` and scaled by
    `1 / (1 - rate)`. The random stream is Philox4x32-10 keyed by the
    launch's seed, with the launch's offset and the element's (batch, head,
    q, kv) position as the counter, so the backward regenerates the same
    mask.
  }];
  let arguments = (ins Tile_AnyTile:$probs, F32Attr:$rate);
  let results = (outs Tile_AnyTile:$result);
  let assemblyFormat = "$probs `rate` `=` $rate attr-dict `:` type($probs)";
  let hasVerifier = 1;
}

#endif // FLASHJIT_TILE_OPS_TD
