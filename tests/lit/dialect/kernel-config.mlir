// RUN: flashjit-opt %s -split-input-file | FileCheck %s
// RUN: flashjit-opt %s -split-input-file | flashjit-opt -split-input-file | FileCheck %s
// RUN: flashjit-opt %s -split-input-file --mlir-print-op-generic | flashjit-opt -split-input-file | FileCheck %s
// #tile.kernel_config prints and parses back, on a program as the
// configuration pass leaves it.

// CHECK-LABEL: tile.program @configured
// CHECK-SAME: tile.kernel_configs = [#tile.kernel_config<kind = forward, head_dim = 128, element_type = bf16, block_m = 128, block_n = 64, warps = 8, stages = 2, head_dim_split = 1, row_tiles_per_warp = 1, mma = wgmma, shared_memory = 98304, compute_capability = 90, registers = 168>]
tile.program @configured attributes {tile.kernel_configs = [#tile.kernel_config<kind = forward, head_dim = 128, element_type = bf16, block_m = 128, block_n = 64, warps = 8, stages = 2, head_dim_split = 1, row_tiles_per_warp = 1, mma = wgmma, shared_memory = 98304, compute_capability = 90, registers = 168>]} {
  %q = tile.load_q : !tile.tile<[q, d], input>
  %k = tile.load_k : !tile.tile<[kv, d], input>
  %s = tile.dot %q, %k transpose_rhs : !tile.tile<[q, d], input>, !tile.tile<[kv, d], input> -> !tile.tile<[q, kv], f32>
  %p, %lse = tile.softmax %s : !tile.tile<[q, kv], f32>
  %v = tile.load_v : !tile.tile<[kv, d], input>
  %o = tile.dot %p, %v : !tile.tile<[q, kv], f32>, !tile.tile<[kv, d], input> -> !tile.tile<[q, d], f32>
  tile.store %o, %lse : !tile.tile<[q, d], f32>, !tile.tile<[q], f32>
}

// -----

// CHECK-LABEL: tile.program @backward
// CHECK-SAME: kind = backward_delta
// CHECK-SAME: kind = backward_dkdvdq, head_dim = 64, element_type = bf16, block_m = 64, block_n = 128, warps = 4, stages = 2, head_dim_split = 2, row_tiles_per_warp = 1, mma = mma_sync
tile.program @backward attributes {tile.kernel_configs = [
    #tile.kernel_config<kind = backward_delta, head_dim = 64, element_type = bf16, block_m = 128, block_n = 0, warps = 4, stages = 1, head_dim_split = 1, row_tiles_per_warp = 1, mma = mma_sync, shared_memory = 0, compute_capability = 80, registers = 48>,
    #tile.kernel_config<kind = backward_dkdvdq, head_dim = 64, element_type = bf16, block_m = 64, block_n = 128, warps = 4, stages = 2, head_dim_split = 2, row_tiles_per_warp = 1, mma = mma_sync, shared_memory = 73728, compute_capability = 80, registers = 255>]} {
  %q = tile.load_q : !tile.tile<[q, d], input>
  %k = tile.load_k : !tile.tile<[kv, d], input>
  %s = tile.dot %q, %k transpose_rhs : !tile.tile<[q, d], input>, !tile.tile<[kv, d], input> -> !tile.tile<[q, kv], f32>
  %p, %lse = tile.softmax %s : !tile.tile<[q, kv], f32>
  %v = tile.load_v : !tile.tile<[kv, d], input>
  %o = tile.dot %p, %v : !tile.tile<[q, kv], f32>, !tile.tile<[kv, d], input> -> !tile.tile<[q, d], f32>
  tile.store %o, %lse : !tile.tile<[q, d], f32>, !tile.tile<[q], f32>
}
