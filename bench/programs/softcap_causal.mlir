// Logit soft-capping under a causal mask, written as a user program: the
// benchmark's counterpart of FlexAttention's softcap score_mod + causal
// block mask. Launch parameter: softcap (f32).

module {
  tile.program @softcap_causal {
    %softcap = tile.param "softcap" : <[], f32>
    %q = tile.load_q : <[q, d], input>
    %k = tile.load_k : <[kv, d], input>
    %0 = tile.dot %q, %k transpose_rhs : <[q, d], input>, <[kv, d], input> -> <[q, kv], f32>
    %scale = tile.softmax_scale : <[], f32>
    %1 = tile.mul %0, %scale : <[q, kv], f32>, <[], f32> -> <[q, kv], f32>
    %2 = tile.div %1, %softcap : <[q, kv], f32>, <[], f32> -> <[q, kv], f32>
    %3 = tile.tanh %2 : <[q, kv], f32>
    %4 = tile.mul %softcap, %3 : <[], f32>, <[q, kv], f32> -> <[q, kv], f32>
    %kv_idx = tile.index kv : <[kv], i32>
    %q_idx = tile.index q : <[q], i32>
    %5 = tile.cmp le, %kv_idx, %q_idx : <[kv], i32>, <[q], i32> -> <[q, kv], i1>
    %6 = tile.mask %4, %5 : <[q, kv], f32>, <[q, kv], i1>
    %probs, %lse = tile.softmax %6 : <[q, kv], f32>
    %v = tile.load_v : <[kv, d], input>
    %7 = tile.dot %probs, %v : <[q, kv], f32>, <[kv, d], input> -> <[q, d], f32>
    tile.store %7, %lse : <[q, d], f32>, <[q], f32>
  }
}
