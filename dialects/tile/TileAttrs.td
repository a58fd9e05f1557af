//===- TileAttrs.td - the compiler's configuration as IR --*- tablegen -*-===//
//
// `#tile.kernel_config` is one kernel's configuration: everything the
// kernel builder takes besides the program (kind, block shape, warps,
// stages, the MMA engine, shared memory, ...). tile-select-kernel-configs
// writes a list of them onto a tile.program from the target; the kernel
// builder only reads them, as IREE's lowering_config is written once and
// read by later passes.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHJIT_TILE_ATTRS_TD
#define FLASHJIT_TILE_ATTRS_TD

include "dialects/tile/TileBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

def Tile_KernelConfigAttr : AttrDef<Tile_Dialect, "KernelConfig"> {
  let mnemonic = "kernel_config";
  let summary = "one kernel's configuration: block shape, warps, stages, MMA engine";
  let description = [{
    Every choice the kernel builder takes from outside the program:

    ```mlir
    #tile.kernel_config<kind = forward, head_dim = 128, element_type = bf16,
        block_m = 128, block_n = 64, warps = 8, stages = 2,
        head_dim_split = 1, row_tiles_per_warp = 1, mma = wgmma,
        shared_memory = 98304, compute_capability = 90, registers = 168>
    ```

    `element_type` is the inputs' type (f16 or bf16), `block_m` query rows and `block_n` key rows per step, `warps` sharing
    them, `stages` buffers of the streamed tiles in shared memory;
    `head_dim_split` thread blocks per key block (dK/dV of large head
    dims); `row_tiles_per_warp` 16-row tiles per forward warp; `mma` the
    instruction of the products (`wgmma` needs compute capability 90);
    `shared_memory` the dynamic shared memory in bytes; `registers` the
    compiler's estimate per thread.
  }];
  let parameters = (ins
    EnumParameter<Tile_KernelKind>:$kind,
    "int":$head_dim,
    "::mlir::Type":$element_type,
    "int":$block_m,
    "int":$block_n,
    "int":$warps,
    "int":$stages,
    "int":$head_dim_split,
    "int":$row_tiles_per_warp,
    EnumParameter<Tile_MmaEngine>:$mma,
    "int":$shared_memory,
    "int":$compute_capability,
    "int":$registers
  );
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

#endif // FLASHJIT_TILE_ATTRS_TD
