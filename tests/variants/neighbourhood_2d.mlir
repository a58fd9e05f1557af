// A 2-D neighbourhood mask (NATTEN-style) over tokens laid out row-major on
// a grid `width` tokens wide: the query at (row, column) sees the keys
// within `radius` rows and `radius` columns of it.
// Launch parameters: width, radius (i32).

module {
  tile.program @neighbourhood_2d {
    %q = tile.load_q : <[q, d], input>
    %k = tile.load_k : <[kv, d], input>
    %0 = tile.dot %q, %k transpose_rhs : <[q, d], input>, <[kv, d], input> -> <[q, kv], f32>
    %scale = tile.softmax_scale : <[], f32>
    %1 = tile.mul %0, %scale : <[q, kv], f32>, <[], f32> -> <[q, kv], f32>
    %width = tile.param "width" : <[], i32>
    %radius = tile.param "radius" : <[], i32>
    %q_idx = tile.index q : <[q], i32>
    %kv_idx = tile.index kv : <[kv], i32>
    %q_row = tile.div %q_idx, %width : <[q], i32>, <[], i32> -> <[q], i32>
    %q_col = tile.rem %q_idx, %width : <[q], i32>, <[], i32> -> <[q], i32>
    %kv_row = tile.div %kv_idx, %width : <[kv], i32>, <[], i32> -> <[kv], i32>
    %kv_col = tile.rem %kv_idx, %width : <[kv], i32>, <[], i32> -> <[kv], i32>
    %2 = tile.sub %q_row, %kv_row : <[q], i32>, <[kv], i32> -> <[q, kv], i32>
    %3 = tile.sub %q_col, %kv_col : <[q], i32>, <[kv], i32> -> <[q, kv], i32>
    %4 = tile.abs %2 : <[q, kv], i32>
    %5 = tile.abs %3 : <[q, kv], i32>
    %6 = tile.cmp le, %4, %radius : <[q, kv], i32>, <[], i32> -> <[q, kv], i1>
    %7 = tile.cmp le, %5, %radius : <[q, kv], i32>, <[], i32> -> <[q, kv], i1>
    %8 = tile.and %6, %7 : <[q, kv], i1>, <[q, kv], i1> -> <[q, kv], i1>
    %9 = tile.mask %1, %8 : <[q, kv], f32>, <[q, kv], i1>
    %probs, %lse = tile.softmax %9 : <[q, kv], f32>
    %v = tile.load_v : <[kv, d], input>
    %10 = tile.dot %probs, %v : <[q, kv], f32>, <[kv, d], input> -> <[q, d], f32>
    tile.store %10, %lse : <[q, d], f32>, <[q], f32>
  }
}
