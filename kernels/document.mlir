// The built-in variant `document`, the textual twin of kernels/document.cpp.
// Document masking for packed sequences: a token attends only to tokens of
// the same document. Launch buffer: doc_ids (i32, [batch, token]).

module {
  tile.program @document {
    %q = tile.load_q : <[q, d], input>
    %k = tile.load_k : <[kv, d], input>
    %0 = tile.dot %q, %k transpose_rhs : <[q, d], input>, <[kv, d], input> -> <[q, kv], f32>
    %scale = tile.softmax_scale : <[], f32>
    %1 = tile.mul %0, %scale : <[q, kv], f32>, <[], f32> -> <[q, kv], f32>
    %doc_ids = tile.buffer "doc_ids" : <[batch, token], i32>
    %batch_idx = tile.index batch : <[], i32>
    %q_idx = tile.index q : <[q], i32>
    %2 = tile.load %doc_ids[%batch_idx, %q_idx] : <[batch, token], i32>, !tile.tile<[], i32>, !tile.tile<[q], i32> -> <[q], i32>
    %kv_idx = tile.index kv : <[kv], i32>
    %3 = tile.load %doc_ids[%batch_idx, %kv_idx] : <[batch, token], i32>, !tile.tile<[], i32>, !tile.tile<[kv], i32> -> <[kv], i32>
    %4 = tile.cmp eq, %2, %3 : <[q], i32>, <[kv], i32> -> <[q, kv], i1>
    %5 = tile.mask %1, %4 : <[q, kv], f32>, <[q, kv], i1>
    %probs, %lse = tile.softmax %5 : <[q, kv], f32>
    %v = tile.load_v : <[kv, d], input>
    %6 = tile.dot %probs, %v : <[q, kv], f32>, <[kv, d], input> -> <[q, d], f32>
    tile.store %6, %lse : <[q, d], f32>, <[q], f32>
  }
}
