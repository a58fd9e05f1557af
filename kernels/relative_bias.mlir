// The built-in variant `relative_bias`, the textual twin of kernels/relative_bias.cpp.
// Learned relative-position bias (T5 / Swin style):
// s + bias[head, clamp(kv - q, -R, R) + R] with R = max_distance.
// Launch parameter: max_distance (i32); buffer: bias (f32, [head, 2R + 1]).

module {
  tile.program @relative_bias {
    %q = tile.load_q : <[q, d], input>
    %k = tile.load_k : <[kv, d], input>
    %0 = tile.dot %q, %k transpose_rhs : <[q, d], input>, <[kv, d], input> -> <[q, kv], f32>
    %scale = tile.softmax_scale : <[], f32>
    %1 = tile.mul %0, %scale : <[q, kv], f32>, <[], f32> -> <[q, kv], f32>
    %bias = tile.buffer "bias" : <[head, ?], f32>
    %head_idx = tile.index head : <[], i32>
    %kv_idx = tile.index kv : <[kv], i32>
    %q_idx = tile.index q : <[q], i32>
    %2 = tile.sub %kv_idx, %q_idx : <[kv], i32>, <[q], i32> -> <[q, kv], i32>
    %max_distance = tile.param "max_distance" : <[], i32>
    %3 = tile.neg %max_distance : <[], i32>
    %4 = tile.max %2, %3 : <[q, kv], i32>, <[], i32> -> <[q, kv], i32>
    %5 = tile.min %4, %max_distance : <[q, kv], i32>, <[], i32> -> <[q, kv], i32>
    %6 = tile.add %5, %max_distance : <[q, kv], i32>, <[], i32> -> <[q, kv], i32>
    %7 = tile.load %bias[%head_idx, %6] : <[head, ?], f32>, !tile.tile<[], i32>, !tile.tile<[q, kv], i32> -> <[q, kv], f32>
    %8 = tile.add %1, %7 : <[q, kv], f32>, <[q, kv], f32> -> <[q, kv], f32>
    %probs, %lse = tile.softmax %8 : <[q, kv], f32>
    %v = tile.load_v : <[kv, d], input>
    %9 = tile.dot %probs, %v : <[q, kv], f32>, <[kv, d], input> -> <[q, d], f32>
    tile.store %9, %lse : <[q, d], f32>, <[q], f32>
  }
}
