// The built-in variant `prefix_lm`, the textual twin of kernels/prefix_lm.cpp.
// Prefix LM: the first `prefix` keys are visible to every query, the rest
// causally. Launch parameter: prefix (i32).

module {
  tile.program @prefix_lm {
    %q = tile.load_q : <[q, d], input>
    %k = tile.load_k : <[kv, d], input>
    %0 = tile.dot %q, %k transpose_rhs : <[q, d], input>, <[kv, d], input> -> <[q, kv], f32>
    %scale = tile.softmax_scale : <[], f32>
    %1 = tile.mul %0, %scale : <[q, kv], f32>, <[], f32> -> <[q, kv], f32>
    %kv_idx = tile.index kv : <[kv], i32>
    %q_idx = tile.index q : <[q], i32>
    %2 = tile.cmp le, %kv_idx, %q_idx : <[kv], i32>, <[q], i32> -> <[q, kv], i1>
    %prefix = tile.param "prefix" : <[], i32>
    %3 = tile.cmp lt, %kv_idx, %prefix : <[kv], i32>, <[], i32> -> <[kv], i1>
    %4 = tile.or %2, %3 : <[q, kv], i1>, <[kv], i1> -> <[q, kv], i1>
    %5 = tile.mask %1, %4 : <[q, kv], f32>, <[q, kv], i1>
    %probs, %lse = tile.softmax %5 : <[q, kv], f32>
    %v = tile.load_v : <[kv, d], input>
    %6 = tile.dot %probs, %v : <[q, kv], f32>, <[kv, d], input> -> <[q, d], f32>
    tile.store %6, %lse : <[q, d], f32>, <[q], f32>
  }
}
