// The built-in variant `causal_window_alibi_dropout`, the textual twin of kernels/causal_window_alibi_dropout.cpp.
// Causal sliding window with ALiBi and dropout 0.1.
// Launch parameter: window (i32); buffer: slopes (f32, one per query head).

module {
  tile.program @causal_window_alibi_dropout {
    %q = tile.load_q : <[q, d], input>
    %k = tile.load_k : <[kv, d], input>
    %0 = tile.dot %q, %k transpose_rhs : <[q, d], input>, <[kv, d], input> -> <[q, kv], f32>
    %scale = tile.softmax_scale : <[], f32>
    %1 = tile.mul %0, %scale : <[q, kv], f32>, <[], f32> -> <[q, kv], f32>
    %slopes = tile.buffer "slopes" : <[head], f32>
    %head_idx = tile.index head : <[], i32>
    %2 = tile.load %slopes[%head_idx] : <[head], f32>, !tile.tile<[], i32> -> <[], f32>
    %kv_idx = tile.index kv : <[kv], i32>
    %q_idx = tile.index q : <[q], i32>
    %3 = tile.sub %kv_idx, %q_idx : <[kv], i32>, <[q], i32> -> <[q, kv], i32>
    %4 = tile.cast %3 : <[q, kv], i32> -> <[q, kv], f32>
    %5 = tile.mul %2, %4 : <[], f32>, <[q, kv], f32> -> <[q, kv], f32>
    %6 = tile.add %1, %5 : <[q, kv], f32>, <[q, kv], f32> -> <[q, kv], f32>
    %7 = tile.cmp le, %kv_idx, %q_idx : <[kv], i32>, <[q], i32> -> <[q, kv], i1>
    %8 = tile.sub %q_idx, %kv_idx : <[q], i32>, <[kv], i32> -> <[q, kv], i32>
    %window = tile.param "window" : <[], i32>
    %9 = tile.cmp lt, %8, %window : <[q, kv], i32>, <[], i32> -> <[q, kv], i1>
    %10 = tile.and %7, %9 : <[q, kv], i1>, <[q, kv], i1> -> <[q, kv], i1>
    %11 = tile.mask %6, %10 : <[q, kv], f32>, <[q, kv], i1>
    %probs, %lse = tile.softmax %11 : <[q, kv], f32>
    %12 = tile.dropout %probs rate = 1.000000e-01 : <[q, kv], f32>
    %v = tile.load_v : <[kv, d], input>
    %13 = tile.dot %12, %v : <[q, kv], f32>, <[kv, d], input> -> <[q, d], f32>
    tile.store %13, %lse : <[q, d], f32>, <[q], f32>
  }
}
