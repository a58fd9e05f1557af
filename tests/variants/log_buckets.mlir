// Distance buckets on a log scale, T5-style: bucket = trunc(4 log(1 + |q -
// kv|)) indexes a shared table (clamped to its length). Near keys (|q - kv|
// < 4) keep their score, far ones get s * sigmoid(s). The first `first`
// queries do not see keys with kv % 3 == 2.
// Launch parameter: first (i32); buffer: buckets (f32, [?]).

module {
  tile.program @log_buckets {
    %q = tile.load_q : <[q, d], input>
    %k = tile.load_k : <[kv, d], input>
    %0 = tile.dot %q, %k transpose_rhs : <[q, d], input>, <[kv, d], input> -> <[q, kv], f32>
    %scale = tile.softmax_scale : <[], f32>
    %1 = tile.mul %0, %scale : <[q, kv], f32>, <[], f32> -> <[q, kv], f32>
    %q_idx = tile.index q : <[q], i32>
    %kv_idx = tile.index kv : <[kv], i32>
    %2 = tile.sub %q_idx, %kv_idx : <[q], i32>, <[kv], i32> -> <[q, kv], i32>
    %3 = tile.abs %2 : <[q, kv], i32>
    %4 = tile.cast %3 : <[q, kv], i32> -> <[q, kv], f32>
    %one = tile.constant 1.000000e+00 : f32
    %5 = tile.add %4, %one : <[q, kv], f32>, <[], f32> -> <[q, kv], f32>
    %6 = tile.log %5 : <[q, kv], f32>
    %four = tile.constant 4.000000e+00 : f32
    %7 = tile.mul %6, %four : <[q, kv], f32>, <[], f32> -> <[q, kv], f32>
    %8 = tile.cast %7 : <[q, kv], f32> -> <[q, kv], i32>
    %buckets = tile.buffer "buckets" : <[?], f32>
    %9 = tile.load %buckets[%8] : <[?], f32>, !tile.tile<[q, kv], i32> -> <[q, kv], f32>
    %near = tile.constant 4 : i32
    %10 = tile.cmp lt, %3, %near : <[q, kv], i32>, <[], i32> -> <[q, kv], i1>
    %11 = tile.sigmoid %1 : <[q, kv], f32>
    %12 = tile.mul %1, %11 : <[q, kv], f32>, <[q, kv], f32> -> <[q, kv], f32>
    %13 = tile.select %10, %1, %12 : <[q, kv], i1>, <[q, kv], f32>, <[q, kv], f32> -> <[q, kv], f32>
    %14 = tile.add %13, %9 : <[q, kv], f32>, <[q, kv], f32> -> <[q, kv], f32>
    %three = tile.constant 3 : i32
    %two = tile.constant 2 : i32
    %15 = tile.rem %kv_idx, %three : <[kv], i32>, <[], i32> -> <[kv], i32>
    %16 = tile.cmp eq, %15, %two : <[kv], i32>, <[], i32> -> <[kv], i1>
    %first = tile.param "first" : <[], i32>
    %17 = tile.cmp lt, %q_idx, %first : <[q], i32>, <[], i32> -> <[q], i1>
    %18 = tile.and %16, %17 : <[kv], i1>, <[q], i1> -> <[q, kv], i1>
    %19 = tile.not %18 : <[q, kv], i1>
    %20 = tile.mask %14, %19 : <[q, kv], f32>, <[q, kv], i1>
    %probs, %lse = tile.softmax %20 : <[q, kv], f32>
    %v = tile.load_v : <[kv, d], input>
    %21 = tile.dot %probs, %v : <[q, kv], f32>, <[kv, d], input> -> <[q, d], f32>
    tile.store %21, %lse : <[q, d], f32>, <[q], f32>
  }
}
