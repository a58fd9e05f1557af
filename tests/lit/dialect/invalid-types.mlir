// RUN: flashjit-opt %s -split-input-file -verify-diagnostics
// Errors in spelling tile and buffer types.

// expected-error @+1 {{unknown axis 'h', expected q, kv or d}}
func.func private @unknown_axis(!tile.tile<[q, h], f32>)

// -----

// expected-error @+1 {{axes must be distinct and in the order q, kv, d}}
func.func private @axes_out_of_order(!tile.tile<[kv, q], f32>)

// -----

// expected-error @+1 {{axes must be distinct and in the order q, kv, d}}
func.func private @repeated_axis(!tile.tile<[q, q], f32>)

// -----

// expected-error @+1 {{tile element type must be input, f32, i32 or i1, got 'f16'}}
func.func private @f16_tile(!tile.tile<[q], f16>)

// -----

// expected-error @+1 {{unknown buffer dimension 'seq', expected batch, head, q, kv, token, an extent or ?}}
func.func private @unknown_buffer_dim(!tile.buffer<[seq], f32>)

// -----

// expected-error @+1 {{buffer must have rank 1 or 2, got 3}}
func.func private @rank3_buffer(!tile.buffer<[batch, head, token], f32>)

// -----

// expected-error @+1 {{buffer must have rank 1 or 2, got 0}}
func.func private @rank0_buffer(!tile.buffer<[], f32>)

// -----

// expected-error @+1 {{buffer extent must be positive, got 0}}
func.func private @empty_table(!tile.buffer<[0], f32>)

// -----

// expected-error @+1 {{buffer element type must be f32 or i32, got 'i1'}}
func.func private @bool_buffer(!tile.buffer<[head], i1>)
