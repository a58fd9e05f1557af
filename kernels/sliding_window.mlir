// The built-in variant `sliding_window`, the textual twin of kernels/sliding_window.cpp.
// Causal sliding window: query i sees keys i - window + 1 .. i.
// Launch parameter: window (i32).

module {
  tile.program @sliding_window {
    %q = tile.load_q : <[q, d], input>
    %k = tile.load_k : <[kv, d], input>
    %0 = tile.dot %q, %k transpose_rhs : <[q, d], input>, <[kv, d], input> -> <[q, kv], f32>
    %scale = tile.softmax_scale : <[], f32>
    %1 = tile.mul %0, %scale : <[q, kv], f32>, <[], f32> -> <[q, kv], f32>
    %kv_idx = tile.index kv : <[kv], i32>
    %q_idx = tile.index q : <[q], i32>
    %2 = tile.cmp le, %kv_idx, %q_idx : <[kv], i32>, <[q], i32> -> <[q, kv], i1>
    %3 = tile.sub %q_idx, %kv_idx : <[q], i32>, <[kv], i32> -> <[q, kv], i32>
    %window = tile.param "window" : <[], i32>
    %4 = tile.cmp lt, %3, %window : <[q, kv], i32>, <[], i32> -> <[q, kv], i1>
    %5 = tile.and %2, %4 : <[q, kv], i1>, <[q, kv], i1> -> <[q, kv], i1>
    %6 = tile.mask %1, %5 : <[q, kv], f32>, <[q, kv], i1>
    %probs, %lse = tile.softmax %6 : <[q, kv], f32>
    %v = tile.load_v : <[kv, d], input>
    %7 = tile.dot %probs, %v : <[q, kv], f32>, <[kv, d], input> -> <[q, d], f32>
    tile.store %7, %lse : <[q, d], f32>, <[q], f32>
  }
}
