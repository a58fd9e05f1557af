// RUN: flashjit-opt %s | FileCheck %s
// RUN: flashjit-opt %s | flashjit-opt | FileCheck %s
// RUN: flashjit-opt %s --mlir-print-op-generic | flashjit-opt | FileCheck %s
// Every op and type of the tile dialect prints and parses back.

// CHECK-LABEL: tile.program @every_op
tile.program @every_op {
  // CHECK: %q = tile.load_q : <[q, d], input>
  %q = tile.load_q : !tile.tile<[q, d], input>
  // CHECK: %k = tile.load_k : <[kv, d], input>
  %k = tile.load_k : !tile.tile<[kv, d], input>
  // CHECK: %v = tile.load_v : <[kv, d], input>
  %v = tile.load_v : !tile.tile<[kv, d], input>
  // CHECK: %[[S:.*]] = tile.dot %q, %k transpose_rhs : <[q, d], input>, <[kv, d], input> -> <[q, kv], f32>
  %s = tile.dot %q, %k transpose_rhs : !tile.tile<[q, d], input>, !tile.tile<[kv, d], input> -> !tile.tile<[q, kv], f32>
  // CHECK: %scale = tile.softmax_scale : <[], f32>
  %scale = tile.softmax_scale : !tile.tile<[], f32>
  // CHECK: %batch_idx = tile.index batch : <[], i32>
  %b = tile.index batch : !tile.tile<[], i32>
  // CHECK: %head_idx = tile.index head : <[], i32>
  %h = tile.index head : !tile.tile<[], i32>
  // CHECK: %q_idx = tile.index q : <[q], i32>
  %qi = tile.index q : !tile.tile<[q], i32>
  // CHECK: %kv_idx = tile.index kv : <[kv], i32>
  %ki = tile.index kv : !tile.tile<[kv], i32>
  // CHECK: %len_q = tile.extent q : <[], i32>
  %nq = tile.extent q : !tile.tile<[], i32>
  // CHECK: %len_kv = tile.extent kv : <[], i32>
  %nk = tile.extent kv : !tile.tile<[], i32>
  // CHECK: %len_batch = tile.extent batch : <[], i32>
  %nb = tile.extent batch : !tile.tile<[], i32>
  // CHECK: %len_head = tile.extent head : <[], i32>
  %nh = tile.extent head : !tile.tile<[], i32>
  // CHECK: %cap = tile.param "cap" : <[], f32>
  %cap = tile.param "cap" : !tile.tile<[], f32>
  // CHECK: %window = tile.param "window" : <[], i32>
  %window = tile.param "window" : !tile.tile<[], i32>
  // CHECK: %slopes = tile.buffer "slopes" : <[head], f32>
  %slopes = tile.buffer "slopes" : !tile.buffer<[head], f32>
  // CHECK: %docs = tile.buffer "docs" : <[batch, token], i32>
  %docs = tile.buffer "docs" : !tile.buffer<[batch, token], i32>
  // CHECK: %table = tile.buffer "table" : <[head, ?], f32>
  %table = tile.buffer "table" : !tile.buffer<[head, ?], f32>
  // CHECK: %fixed = tile.buffer "fixed" : <[q, 127], f32>
  %fixed = tile.buffer "fixed" : !tile.buffer<[q, 127], f32>
  // CHECK: %per_kv = tile.buffer "per_kv" : <[kv], i32>
  %per_kv = tile.buffer "per_kv" : !tile.buffer<[kv], i32>
  // CHECK: tile.constant 3.000000e+01 : f32
  %c30 = tile.constant 30.0 : f32
  // CHECK: tile.constant 7 : i32
  %c7 = tile.constant 7 : i32
  // CHECK: tile.constant true
  %true = tile.constant true
  // CHECK: tile.load %slopes[%head_idx] : <[head], f32>, !tile.tile<[], i32> -> <[], f32>
  %slope = tile.load %slopes[%h] : !tile.buffer<[head], f32>, !tile.tile<[], i32> -> !tile.tile<[], f32>
  // CHECK: tile.load %docs[%batch_idx, %q_idx] : <[batch, token], i32>, !tile.tile<[], i32>, !tile.tile<[q], i32> -> <[q], i32>
  %dq = tile.load %docs[%b, %qi] : !tile.buffer<[batch, token], i32>, !tile.tile<[], i32>, !tile.tile<[q], i32> -> !tile.tile<[q], i32>
  %dk = tile.load %docs[%b, %ki] : !tile.buffer<[batch, token], i32>, !tile.tile<[], i32>, !tile.tile<[kv], i32> -> !tile.tile<[kv], i32>
  %bias = tile.load %table[%h, %c7] : !tile.buffer<[head, ?], f32>, !tile.tile<[], i32>, !tile.tile<[], i32> -> !tile.tile<[], f32>
  %fx = tile.load %fixed[%qi, %c7] : !tile.buffer<[q, 127], f32>, !tile.tile<[q], i32>, !tile.tile<[], i32> -> !tile.tile<[q], f32>
  %pk = tile.load %per_kv[%ki] : !tile.buffer<[kv], i32>, !tile.tile<[kv], i32> -> !tile.tile<[kv], i32>
  // CHECK: tile.add %{{.*}}, %{{.*}} : <[q, kv], f32>, <[], f32> -> <[q, kv], f32>
  %s1 = tile.mul %s, %scale : !tile.tile<[q, kv], f32>, !tile.tile<[], f32> -> !tile.tile<[q, kv], f32>
  %s2 = tile.add %s1, %slope : !tile.tile<[q, kv], f32>, !tile.tile<[], f32> -> !tile.tile<[q, kv], f32>
  // CHECK: tile.sub %kv_idx, %q_idx : <[kv], i32>, <[q], i32> -> <[q, kv], i32>
  %dist = tile.sub %ki, %qi : !tile.tile<[kv], i32>, !tile.tile<[q], i32> -> !tile.tile<[q, kv], i32>
  // CHECK: tile.div
  %half = tile.div %dist, %c7 : !tile.tile<[q, kv], i32>, !tile.tile<[], i32> -> !tile.tile<[q, kv], i32>
  // CHECK: tile.rem
  %rem = tile.rem %half, %c7 : !tile.tile<[q, kv], i32>, !tile.tile<[], i32> -> !tile.tile<[q, kv], i32>
  // CHECK: tile.max
  %mx = tile.max %rem, %window : !tile.tile<[q, kv], i32>, !tile.tile<[], i32> -> !tile.tile<[q, kv], i32>
  // CHECK: tile.min
  %mn = tile.min %mx, %nk : !tile.tile<[q, kv], i32>, !tile.tile<[], i32> -> !tile.tile<[q, kv], i32>
  // CHECK: tile.neg %{{.*}} : <[q, kv], i32>
  %neg = tile.neg %mn : !tile.tile<[q, kv], i32>
  // CHECK: tile.abs %{{.*}} : <[q, kv], i32>
  %abs = tile.abs %neg : !tile.tile<[q, kv], i32>
  // CHECK: tile.cast %{{.*}} : <[q, kv], i32> -> <[q, kv], f32>
  %absf = tile.cast %abs : !tile.tile<[q, kv], i32> -> !tile.tile<[q, kv], f32>
  // CHECK: tile.exp %{{.*}} : <[q, kv], f32>
  %e = tile.exp %absf : !tile.tile<[q, kv], f32>
  // CHECK: tile.log
  %l = tile.log %e : !tile.tile<[q, kv], f32>
  // CHECK: tile.sqrt
  %r = tile.sqrt %l : !tile.tile<[q, kv], f32>
  // CHECK: tile.sigmoid
  %sg = tile.sigmoid %r : !tile.tile<[q, kv], f32>
  // CHECK: tile.tanh
  %t = tile.tanh %sg : !tile.tile<[q, kv], f32>
  %capped = tile.mul %t, %cap : !tile.tile<[q, kv], f32>, !tile.tile<[], f32> -> !tile.tile<[q, kv], f32>
  %s3 = tile.add %s2, %capped : !tile.tile<[q, kv], f32>, !tile.tile<[q, kv], f32> -> !tile.tile<[q, kv], f32>
  %s4 = tile.add %s3, %bias : !tile.tile<[q, kv], f32>, !tile.tile<[], f32> -> !tile.tile<[q, kv], f32>
  %s5 = tile.add %s4, %fx : !tile.tile<[q, kv], f32>, !tile.tile<[q], f32> -> !tile.tile<[q, kv], f32>
  // CHECK: tile.cmp le, %kv_idx, %q_idx : <[kv], i32>, <[q], i32> -> <[q, kv], i1>
  %causal = tile.cmp le, %ki, %qi : !tile.tile<[kv], i32>, !tile.tile<[q], i32> -> !tile.tile<[q, kv], i1>
  // CHECK: tile.cmp eq
  %same = tile.cmp eq, %dq, %dk : !tile.tile<[q], i32>, !tile.tile<[kv], i32> -> !tile.tile<[q, kv], i1>
  // CHECK: tile.cmp ne
  %pkne = tile.cmp ne, %pk, %c7 : !tile.tile<[kv], i32>, !tile.tile<[], i32> -> !tile.tile<[kv], i1>
  %lenok = tile.cmp ge, %nq, %nb : !tile.tile<[], i32>, !tile.tile<[], i32> -> !tile.tile<[], i1>
  %hok = tile.cmp gt, %nh, %h : !tile.tile<[], i32>, !tile.tile<[], i32> -> !tile.tile<[], i1>
  %wok = tile.cmp lt, %dist, %window : !tile.tile<[q, kv], i32>, !tile.tile<[], i32> -> !tile.tile<[q, kv], i1>
  // CHECK: tile.and
  %m1 = tile.and %causal, %same : !tile.tile<[q, kv], i1>, !tile.tile<[q, kv], i1> -> !tile.tile<[q, kv], i1>
  // CHECK: tile.or
  %m2 = tile.or %m1, %pkne : !tile.tile<[q, kv], i1>, !tile.tile<[kv], i1> -> !tile.tile<[q, kv], i1>
  // CHECK: tile.xor
  %m3 = tile.xor %m2, %true : !tile.tile<[q, kv], i1>, !tile.tile<[], i1> -> !tile.tile<[q, kv], i1>
  // CHECK: tile.not
  %m4 = tile.not %m3 : !tile.tile<[q, kv], i1>
  %m5 = tile.and %m4, %lenok : !tile.tile<[q, kv], i1>, !tile.tile<[], i1> -> !tile.tile<[q, kv], i1>
  %m6 = tile.and %m5, %hok : !tile.tile<[q, kv], i1>, !tile.tile<[], i1> -> !tile.tile<[q, kv], i1>
  %m7 = tile.or %m6, %wok : !tile.tile<[q, kv], i1>, !tile.tile<[q, kv], i1> -> !tile.tile<[q, kv], i1>
  // CHECK: tile.select %{{.*}}, %{{.*}}, %{{.*}} : <[q, kv], i1>, <[q, kv], f32>, <[], f32> -> <[q, kv], f32>
  %sel = tile.select %m7, %s5, %c30 : !tile.tile<[q, kv], i1>, !tile.tile<[q, kv], f32>, !tile.tile<[], f32> -> !tile.tile<[q, kv], f32>
  // CHECK: %[[M:.*]] = tile.mask %{{.*}}, %{{.*}} : <[q, kv], f32>, <[q, kv], i1>
  %masked = tile.mask %sel, %m7 : !tile.tile<[q, kv], f32>, !tile.tile<[q, kv], i1>
  // CHECK: %probs, %lse = tile.softmax %[[M]] : <[q, kv], f32>
  %p, %lse = tile.softmax %masked : !tile.tile<[q, kv], f32>
  // CHECK: %[[P:.*]] = tile.dropout %probs rate = 1.250000e-01 : <[q, kv], f32>
  %pd = tile.dropout %p rate = 0.125 : !tile.tile<[q, kv], f32>
  // CHECK: %[[O:.*]] = tile.dot %[[P]], %v : <[q, kv], f32>, <[kv, d], input> -> <[q, d], f32>
  %o = tile.dot %pd, %v : !tile.tile<[q, kv], f32>, !tile.tile<[kv, d], input> -> !tile.tile<[q, d], f32>
  // CHECK: tile.store %[[O]], %lse : <[q, d], f32>, <[q], f32>
  tile.store %o, %lse : !tile.tile<[q, d], f32>, !tile.tile<[q], f32>
}
