// The built-in variant `causal_bottom_right`, the textual twin of kernels/causal_bottom_right.cpp.
// Causal attention aligned bottom-right (FlashAttention-2's convention for
// len_q != len_kv): query i sees keys 0..i + (len_kv - len_q).

module {
  tile.program @causal_bottom_right {
    %q = tile.load_q : <[q, d], input>
    %k = tile.load_k : <[kv, d], input>
    %0 = tile.dot %q, %k transpose_rhs : <[q, d], input>, <[kv, d], input> -> <[q, kv], f32>
    %scale = tile.softmax_scale : <[], f32>
    %1 = tile.mul %0, %scale : <[q, kv], f32>, <[], f32> -> <[q, kv], f32>
    %kv_idx = tile.index kv : <[kv], i32>
    %q_idx = tile.index q : <[q], i32>
    %len_kv = tile.extent kv : <[], i32>
    %len_q = tile.extent q : <[], i32>
    %2 = tile.sub %len_kv, %len_q : <[], i32>, <[], i32> -> <[], i32>
    %3 = tile.add %q_idx, %2 : <[q], i32>, <[], i32> -> <[q], i32>
    %4 = tile.cmp le, %kv_idx, %3 : <[kv], i32>, <[q], i32> -> <[q, kv], i1>
    %5 = tile.mask %1, %4 : <[q, kv], f32>, <[q, kv], i1>
    %probs, %lse = tile.softmax %5 : <[q, kv], f32>
    %v = tile.load_v : <[kv, d], input>
    %6 = tile.dot %probs, %v : <[q, kv], f32>, <[kv, d], input> -> <[q, d], f32>
    tile.store %6, %lse : <[q, d], f32>, <[q], f32>
  }
}
