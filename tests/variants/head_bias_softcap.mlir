// A per-head relative-position bias table gathered at kv - q + center,
// left to tile.load's clamping for distances beyond the table, then
// soft-capped: softcap * tanh((s + bias[head, kv - q + center]) / softcap).
// Launch parameters: center (i32), softcap (f32); buffer: bias (f32,
// [head, ?]).

module {
  tile.program @head_bias_softcap {
    %q = tile.load_q : <[q, d], input>
    %k = tile.load_k : <[kv, d], input>
    %0 = tile.dot %q, %k transpose_rhs : <[q, d], input>, <[kv, d], input> -> <[q, kv], f32>
    %scale = tile.softmax_scale : <[], f32>
    %1 = tile.mul %0, %scale : <[q, kv], f32>, <[], f32> -> <[q, kv], f32>
    %bias = tile.buffer "bias" : <[head, ?], f32>
    %center = tile.param "center" : <[], i32>
    %softcap = tile.param "softcap" : <[], f32>
    %head_idx = tile.index head : <[], i32>
    %kv_idx = tile.index kv : <[kv], i32>
    %q_idx = tile.index q : <[q], i32>
    %2 = tile.sub %kv_idx, %q_idx : <[kv], i32>, <[q], i32> -> <[q, kv], i32>
    %3 = tile.add %2, %center : <[q, kv], i32>, <[], i32> -> <[q, kv], i32>
    %4 = tile.load %bias[%head_idx, %3] : <[head, ?], f32>, !tile.tile<[], i32>, !tile.tile<[q, kv], i32> -> <[q, kv], f32>
    %5 = tile.add %1, %4 : <[q, kv], f32>, <[q, kv], f32> -> <[q, kv], f32>
    %6 = tile.div %5, %softcap : <[q, kv], f32>, <[], f32> -> <[q, kv], f32>
    %7 = tile.tanh %6 : <[q, kv], f32>
    %8 = tile.mul %softcap, %7 : <[], f32>, <[q, kv], f32> -> <[q, kv], f32>
    %probs, %lse = tile.softmax %8 : <[q, kv], f32>
    %v = tile.load_v : <[kv, d], input>
    %9 = tile.dot %probs, %v : <[q, kv], f32>, <[kv, d], input> -> <[q, d], f32>
    tile.store %9, %lse : <[q, d], f32>, <[q], f32>
  }
}
