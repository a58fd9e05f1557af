// RUN: flashjit-opt %s -split-input-file -verify-diagnostics
// Every verifier error of #tile.kernel_config, with its message.

// expected-error @+1 {{head_dim 100 is not a positive multiple of 8}}
tile.program @a attributes {c = #tile.kernel_config<kind = forward, head_dim = 100, element_type = bf16, block_m = 128, block_n = 64, warps = 8, stages = 2, head_dim_split = 1, row_tiles_per_warp = 1, mma = mma_sync, shared_memory = 0, compute_capability = 80, registers = 0>} {
}

// -----

// expected-error @+1 {{element_type 'f32': the kernels take f16 or bf16 inputs}}
tile.program @a attributes {c = #tile.kernel_config<kind = forward, head_dim = 128, element_type = f32, block_m = 128, block_n = 64, warps = 8, stages = 2, head_dim_split = 1, row_tiles_per_warp = 1, mma = mma_sync, shared_memory = 0, compute_capability = 80, registers = 0>} {
}

// -----

// expected-error @+1 {{block 128 x 40 is not made of 16-row tensor-core tiles}}
tile.program @a attributes {c = #tile.kernel_config<kind = forward, head_dim = 128, element_type = bf16, block_m = 128, block_n = 40, warps = 8, stages = 2, head_dim_split = 1, row_tiles_per_warp = 1, mma = mma_sync, shared_memory = 0, compute_capability = 80, registers = 0>} {
}

// -----

// A forward streams key blocks: it needs block_n.
// expected-error @+1 {{block 128 x 0 is not made of 16-row tensor-core tiles}}
tile.program @a attributes {c = #tile.kernel_config<kind = forward, head_dim = 128, element_type = bf16, block_m = 128, block_n = 0, warps = 8, stages = 2, head_dim_split = 1, row_tiles_per_warp = 1, mma = mma_sync, shared_memory = 0, compute_capability = 80, registers = 0>} {
}

// -----

// expected-error @+1 {{warps, stages, head_dim_split and row_tiles_per_warp must be positive}}
tile.program @a attributes {c = #tile.kernel_config<kind = forward, head_dim = 128, element_type = bf16, block_m = 128, block_n = 64, warps = 0, stages = 2, head_dim_split = 1, row_tiles_per_warp = 1, mma = mma_sync, shared_memory = 0, compute_capability = 80, registers = 0>} {
}

// -----

// expected-error @+1 {{head_dim_split 3 does not divide head_dim 128}}
tile.program @a attributes {c = #tile.kernel_config<kind = backward_dkdv, head_dim = 128, element_type = bf16, block_m = 64, block_n = 128, warps = 8, stages = 2, head_dim_split = 3, row_tiles_per_warp = 1, mma = mma_sync, shared_memory = 0, compute_capability = 80, registers = 0>} {
}

// -----

// expected-error @+1 {{mma = wgmma needs compute capability 90 (sm_90a), not 80}}
tile.program @a attributes {c = #tile.kernel_config<kind = forward, head_dim = 128, element_type = bf16, block_m = 128, block_n = 64, warps = 8, stages = 2, head_dim_split = 1, row_tiles_per_warp = 1, mma = wgmma, shared_memory = 0, compute_capability = 80, registers = 0>} {
}

// -----

// expected-error @+1 {{shared_memory and registers cannot be negative}}
tile.program @a attributes {c = #tile.kernel_config<kind = forward, head_dim = 128, element_type = bf16, block_m = 128, block_n = 64, warps = 8, stages = 2, head_dim_split = 1, row_tiles_per_warp = 1, mma = mma_sync, shared_memory = -1, compute_capability = 80, registers = 0>} {
}

// -----

// The configuration attributes the kernel passes leave, where they belong.
// expected-error @+1 {{'tile.kernel_configs' must be an array of #tile.kernel_config}}
tile.program @a attributes {tile.kernel_configs = [1 : i32]} {
}

// -----

// expected-error @+1 {{'tile.kernel_configs' belongs on a tile.program}}
func.func @f() attributes {tile.kernel_configs = []} {
  return
}

// -----

// expected-error @+1 {{'tile.kernel_config' must be a #tile.kernel_config}}
func.func @f() attributes {tile.kernel_config = 1 : i32} {
  return
}

// -----

// expected-error @+1 {{'tile.kernel_args' names 2 parameters of a function that takes 1}}
func.func @f(%a: i32) attributes {tile.kernel_args = ["a", "b"]} {
  return
}

// -----

// expected-error @+1 {{'tile.kernel_args' must be an array of parameter names}}
func.func @f(%a: i32) attributes {tile.kernel_args = [1]} {
  return
}

// -----

// expected-error @+1 {{unknown tile dialect attribute 'tile.kernel_setup'}}
func.func @f() attributes {tile.kernel_setup = 1} {
  return
}
