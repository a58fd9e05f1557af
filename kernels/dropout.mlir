// The built-in variant `dropout`, the textual twin of kernels/dropout.cpp.
// Plain attention with dropout 0.1 on the probabilities (Philox4x32-10,
// seed and offset given at launch).

module {
  tile.program @dropout {
    %q = tile.load_q : <[q, d], input>
    %k = tile.load_k : <[kv, d], input>
    %0 = tile.dot %q, %k transpose_rhs : <[q, d], input>, <[kv, d], input> -> <[q, kv], f32>
    %scale = tile.softmax_scale : <[], f32>
    %1 = tile.mul %0, %scale : <[q, kv], f32>, <[], f32> -> <[q, kv], f32>
    %probs, %lse = tile.softmax %1 : <[q, kv], f32>
    %2 = tile.dropout %probs rate = 1.000000e-01 : <[q, kv], f32>
    %v = tile.load_v : <[kv, d], input>
    %3 = tile.dot %2, %v : <[q, kv], f32>, <[kv, d], input> -> <[q, d], f32>
    tile.store %3, %lse : <[q, d], f32>, <[q], f32>
  }
}
