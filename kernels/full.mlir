// The built-in variant `full`, the textual twin of kernels/full.cpp.
// Plain attention: softmax(q k^T * scale) v.

module {
  tile.program @full {
    %q = tile.load_q : <[q, d], input>
    %k = tile.load_k : <[kv, d], input>
    %0 = tile.dot %q, %k transpose_rhs : <[q, d], input>, <[kv, d], input> -> <[q, kv], f32>
    %scale = tile.softmax_scale : <[], f32>
    %1 = tile.mul %0, %scale : <[q, kv], f32>, <[], f32> -> <[q, kv], f32>
    %probs, %lse = tile.softmax %1 : <[q, kv], f32>
    %v = tile.load_v : <[kv, d], input>
    %2 = tile.dot %probs, %v : <[q, kv], f32>, <[kv, d], input> -> <[q, d], f32>
    tile.store %2, %lse : <[q, d], f32>, <[q], f32>
  }
}
