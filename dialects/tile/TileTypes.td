//===- TileTypes.td - tile dialect types ------------------*- tablegen -*-===//

#ifndef FLASHJIT_TILE_TYPES_TD
#define FLASHJIT_TILE_TYPES_TD

include "dialects/tile/TileBase.td"
include "mlir/IR/AttrTypeBase.td"

class Tile_Type<string name, string typeMnemonic, list<Trait> traits = []>
    : TypeDef<Tile_Dialect, name, traits> {
  let mnemonic = typeMnemonic;
}

def Tile_InputType : Tile_Type<"Input", "input"> {
  let summary = "the element type of Q, K and V, chosen when compiling";
  let description = [{
    Programs are generic over the input precision: Q, K and V tiles hold
    `!tile.input` elements, which the compiler instantiates as f16 or bf16.
    Inside a tile type it is written `input`.
  }];
}

def Tile_TileType : Tile_Type<"Tile", "tile"> {
  let summary = "a tile of values varying along a set of axes";
  let description = [{
    `!tile.tile<[axes], element>` where the axes are a subset of `q`, `kv`,
    `d` in that order and the element type is `input`, `f32`, `i32` or `i1`.
    `[]` is a scalar, uniform over the whole program instance.

    ```mlir
    !tile.tile<[q, kv], f32>     // a score tile
    !tile.tile<[q, d], input>    // the Q tile
    !tile.tile<[kv], i32>        // key indices
    !tile.tile<[], f32>          // a scalar
    ```
  }];
  let parameters = (ins "AxisSet":$axes, "::mlir::Type":$elementType);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    bool isScalar() const { return getAxes().empty(); }
    /// The same axes with another element type.
    TileType withElementType(::mlir::Type elementType) const {
      return get(getContext(), getAxes(), elementType);
    }
  }];
}

def Tile_BufferType : Tile_Type<"Buffer", "buffer"> {
  let summary = "a small auxiliary buffer in device memory";
  let description = [{
    `!tile.buffer<[dims], element>`: a buffer of rank 1 or 2 with `f32` or
    `i32` elements. Each dimension is a domain the runtime sizes from the
    problem (`batch`, `head`, `q`, `kv`, or `token`, indexed by either the
    query or the key index), a static extent (`127`), or `?`, an extent
    given with the buffer at launch. Loads clamp their index into the
    extent, so a program can never read outside a buffer.

    ```mlir
    !tile.buffer<[head], f32>          // per-head ALiBi slopes
    !tile.buffer<[batch, token], i32>  // document id of each token
    !tile.buffer<[head, ?], f32>       // relative position bias table
    ```
  }];
  let parameters = (ins ArrayRefParameter<"BufferDim">:$dims,
                        "::mlir::Type":$elementType);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    int64_t getRank() const { return getDims().size(); }
  }];
}

#endif // FLASHJIT_TILE_TYPES_TD
