// The built-in variant `softcap`, the textual twin of kernels/softcap.cpp.
// Logit soft-capping (Gemma 2): softcap * tanh(s / softcap), on the scaled
// scores. Launch parameter: softcap (f32).

module {
  tile.program @softcap {
    %softcap = tile.param "softcap" : <[], f32>
    %q = tile.load_q : <[q, d], input>
    %k = tile.load_k : <[kv, d], input>
    %0 = tile.dot %q, %k transpose_rhs : <[q, d], input>, <[kv, d], input> -> <[q, kv], f32>
    %scale = tile.softmax_scale : <[], f32>
    %1 = tile.mul %0, %scale : <[q, kv], f32>, <[], f32> -> <[q, kv], f32>
    %2 = tile.div %1, %softcap : <[q, kv], f32>, <[], f32> -> <[q, kv], f32>
    %3 = tile.tanh %2 : <[q, kv], f32>
    %4 = tile.mul %softcap, %3 : <[], f32>, <[q, kv], f32> -> <[q, kv], f32>
    %probs, %lse = tile.softmax %4 : <[q, kv], f32>
    %v = tile.load_v : <[kv, d], input>
    %5 = tile.dot %probs, %v : <[q, kv], f32>, <[kv, d], input> -> <[q, d], f32>
    tile.store %5, %lse : <[q, d], f32>, <[q], f32>
  }
}
