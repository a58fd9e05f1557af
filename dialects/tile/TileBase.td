//===- TileBase.td - the tile dialect and its enums -------*- tablegen -*-===//
//
// The `tile` dialect describes one attention variant at tile granularity:
// which tiles are loaded, how the score tile is modified and masked, the
// softmax, dropout and the two matrix products. A program is a value-level
// description of the math; the compiler decides the loop structure.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHJIT_TILE_BASE_TD
#define FLASHJIT_TILE_BASE_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/EnumAttr.td"

def Tile_Dialect : Dialect {
  let name = "tile";
  let cppNamespace = "::flashjit::tile";
  let summary = "Attention variants as programs over score, index and data tiles";
  let description = [{
    A `tile.program` describes one attention variant over a query block and a
    key/value block: `tile.load_q`/`load_k`/`load_v` name the input tiles,
    `tile.dot` the two products, elementwise ops over index tiles
    (`tile.index`), scalar parameters (`tile.param`) and auxiliary buffers
    (`tile.buffer`, `tile.load`) modify the scores, `tile.mask` removes
    scores, `tile.softmax` and `tile.dropout` turn them into probabilities,
    and `tile.store` names O and the row log-sum-exp.

    Tiles are typed by the axes they vary along, out of `q` (query rows),
    `kv` (key/value rows) and `d` (head dimension), always in that order:
    a score tile is `!tile.tile<[q, kv], f32>`, a query index
    `!tile.tile<[q], i32>`, a scalar `!tile.tile<[], f32>`. Elementwise ops
    broadcast: the result varies along the union of the operands' axes.
  }];
  let useDefaultTypePrinterParser = 1;
  let useDefaultAttributePrinterParser = 1;
  let hasConstantMaterializer = 1;
  let hasOperationAttrVerify = 1;
  let extraClassDeclaration = [{
    void registerTypes();
    void registerAttributes();

    /// On a tile.program: its kernels' configurations in launch order, as
    /// tile-select-kernel-configs writes them.
    static constexpr ::llvm::StringLiteral kKernelConfigs =
        "tile.kernel_configs";
    /// On a kernel tile-build-kernels built: its configuration, and the
    /// names of its parameters in order (the launch contract's arguments).
    static constexpr ::llvm::StringLiteral kKernelConfig = "tile.kernel_config";
    static constexpr ::llvm::StringLiteral kKernelArgs = "tile.kernel_args";
  }];
}

// Axes a tile varies along; the values are bits of a set.
def Tile_IndexDim : I32EnumAttr<"IndexDim",
    "what a tile.index or tile.extent refers to", [
      I32EnumAttrCase<"batch", 0>,
      I32EnumAttrCase<"head", 1>,
      I32EnumAttrCase<"q", 2>,
      I32EnumAttrCase<"kv", 3>,
    ]> {
  let cppNamespace = "::flashjit::tile";
}

def Tile_CmpPredicate : I32EnumAttr<"CmpPredicate",
    "comparison predicate of tile.cmp", [
      I32EnumAttrCase<"eq", 0>,
      I32EnumAttrCase<"ne", 1>,
      I32EnumAttrCase<"lt", 2>,
      I32EnumAttrCase<"le", 3>,
      I32EnumAttrCase<"gt", 4>,
      I32EnumAttrCase<"ge", 5>,
    ]> {
  let cppNamespace = "::flashjit::tile";
}

// The configuration's enums (TileAttrs.td): in this file, whose enums
// TileEnums.h.inc holds.
def Tile_KernelKind : I32EnumAttr<"KernelConfigKind",
    "which kernel of a pass a configuration builds", [
      I32EnumAttrCase<"forward", 0>,
      I32EnumAttrCase<"backward_delta", 1>,
      I32EnumAttrCase<"backward_dkdv", 2>,
      I32EnumAttrCase<"backward_dq", 3>,
      I32EnumAttrCase<"backward_dkdvdq", 4>,
      I32EnumAttrCase<"backward_dq_convert", 5>,
    ]> {
  let cppNamespace = "::flashjit::tile";
  let genSpecializedAttr = 0;
}

def Tile_MmaEngine : I32EnumAttr<"MmaEngine",
    "the tensor-core instruction that multiplies a kernel's tiles", [
      I32EnumAttrCase<"mma_sync", 0>,
      I32EnumAttrCase<"wgmma", 1>,
    ]> {
  let cppNamespace = "::flashjit::tile";
  let genSpecializedAttr = 0;
}

#endif // FLASHJIT_TILE_BASE_TD
