// ALiBi under a causal mask, written as a user program (not a built-in):
// the benchmark loads it with flashjit_attention_create_from_text to
// compare with FlexAttention's alibi score_mod + causal block mask.
// Launch buffer: slopes (f32, one per query head).

module {
  tile.program @alibi_causal {
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
    %8 = tile.mask %6, %7 : <[q, kv], f32>, <[q, kv], i1>
    %probs, %lse = tile.softmax %8 : <[q, kv], f32>
    %v = tile.load_v : <[kv, d], input>
    %9 = tile.dot %probs, %v : <[q, kv], f32>, <[kv, d], input> -> <[q, d], f32>
    tile.store %9, %lse : <[q, d], f32>, <[q], f32>
  }
}
