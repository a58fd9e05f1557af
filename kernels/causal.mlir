// The built-in variant `causal`, the textual twin of kernels/causal.cpp.
// Causal attention, aligned top-left: query i sees keys 0..i.
// With len_q != len_kv see causal_bottom_right.

module {
  tile.program @causal {
    %q = tile.load_q : <[q, d], input>
    %k = tile.load_k : <[kv, d], input>
    %0 = tile.dot %q, %k transpose_rhs : <[q, d], input>, <[kv, d], input> -> <[q, kv], f32>
    %scale = tile.softmax_scale : <[], f32>
    %1 = tile.mul %0, %scale : <[q, kv], f32>, <[], f32> -> <[q, kv], f32>
    %kv_idx = tile.index kv : <[kv], i32>
    %q_idx = tile.index q : <[q], i32>
    %2 = tile.cmp le, %kv_idx, %q_idx : <[kv], i32>, <[q], i32> -> <[q, kv], i1>
    %3 = tile.mask %1, %2 : <[q, kv], f32>, <[q, kv], i1>
    %probs, %lse = tile.softmax %3 : <[q, kv], f32>
    %v = tile.load_v : <[kv, d], input>
    %4 = tile.dot %probs, %v : <[q, kv], f32>, <[kv, d], input> -> <[q, d], f32>
    tile.store %4, %lse : <[q, d], f32>, <[q], f32>
  }
}
