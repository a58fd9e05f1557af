// RUN: flashjit-opt %s -split-input-file -tile-check-attention-chain -verify-diagnostics | FileCheck %s
// Programs that are one fused chain pass unchanged; every other program
// fails on the op that breaks the chain.

// CHECK-LABEL: tile.program @softcap_causal
tile.program @softcap_causal {
  %q = tile.load_q : !tile.tile<[q, d], input>
  %k = tile.load_k : !tile.tile<[kv, d], input>
  %s = tile.dot %q, %k transpose_rhs : !tile.tile<[q, d], input>, !tile.tile<[kv, d], input> -> !tile.tile<[q, kv], f32>
  %cap = tile.param "cap" : !tile.tile<[], f32>
  %a = tile.div %s, %cap : !tile.tile<[q, kv], f32>, !tile.tile<[], f32> -> !tile.tile<[q, kv], f32>
  %t = tile.tanh %a : !tile.tile<[q, kv], f32>
  %b = tile.mul %t, %cap : !tile.tile<[q, kv], f32>, !tile.tile<[], f32> -> !tile.tile<[q, kv], f32>
  %qi = tile.index q : !tile.tile<[q], i32>
  %ki = tile.index kv : !tile.tile<[kv], i32>
  %keep = tile.cmp le, %ki, %qi : !tile.tile<[kv], i32>, !tile.tile<[q], i32> -> !tile.tile<[q, kv], i1>
  %near = tile.cmp lt, %qi, %ki : !tile.tile<[q], i32>, !tile.tile<[kv], i32> -> !tile.tile<[q, kv], i1>
  %m1 = tile.mask %b, %keep : !tile.tile<[q, kv], f32>, !tile.tile<[q, kv], i1>
  %m2 = tile.mask %m1, %near : !tile.tile<[q, kv], f32>, !tile.tile<[q, kv], i1>
  %p, %lse = tile.softmax %m2 : !tile.tile<[q, kv], f32>
  %pd = tile.dropout %p rate = 0.1 : !tile.tile<[q, kv], f32>
  %v = tile.load_v : !tile.tile<[kv, d], input>
  %o = tile.dot %pd, %v : !tile.tile<[q, kv], f32>, !tile.tile<[kv, d], input> -> !tile.tile<[q, d], f32>
  // CHECK: tile.store
  tile.store %o, %lse : !tile.tile<[q, d], f32>, !tile.tile<[q], f32>
}

// -----

tile.program @output_not_a_product {
  %q = tile.load_q : !tile.tile<[q, d], input>
  %k = tile.load_k : !tile.tile<[kv, d], input>
  %s = tile.dot %q, %k transpose_rhs : !tile.tile<[q, d], input>, !tile.tile<[kv, d], input> -> !tile.tile<[q, kv], f32>
  %p, %lse = tile.softmax %s : !tile.tile<[q, kv], f32>
  %v = tile.load_v : !tile.tile<[kv, d], input>
  %o = tile.dot %p, %v : !tile.tile<[q, kv], f32>, !tile.tile<[kv, d], input> -> !tile.tile<[q, d], f32>
  // expected-error @+1 {{'tile.exp' op breaks the attention chain: O must be the product of the probabilities and V (tile.dot)}}
  %e = tile.exp %o : !tile.tile<[q, d], f32>
  tile.store %e, %lse : !tile.tile<[q, d], f32>, !tile.tile<[q], f32>
}

// -----

tile.program @output_reads_q {
  %q = tile.load_q : !tile.tile<[q, d], input>
  // expected-error @+1 {{'tile.load_k' op breaks the attention chain: the output product's right side must be the V tile (tile.load_v)}}
  %k = tile.load_k : !tile.tile<[kv, d], input>
  %s = tile.dot %q, %k transpose_rhs : !tile.tile<[q, d], input>, !tile.tile<[kv, d], input> -> !tile.tile<[q, kv], f32>
  %p, %lse = tile.softmax %s : !tile.tile<[q, kv], f32>
  %o = tile.dot %p, %k : !tile.tile<[q, kv], f32>, !tile.tile<[kv, d], input> -> !tile.tile<[q, d], f32>
  tile.store %o, %lse : !tile.tile<[q, d], f32>, !tile.tile<[q], f32>
}

// -----

tile.program @probs_modified_after_softmax {
  %q = tile.load_q : !tile.tile<[q, d], input>
  %k = tile.load_k : !tile.tile<[kv, d], input>
  %s = tile.dot %q, %k transpose_rhs : !tile.tile<[q, d], input>, !tile.tile<[kv, d], input> -> !tile.tile<[q, kv], f32>
  %p, %lse = tile.softmax %s : !tile.tile<[q, kv], f32>
  // expected-error @+1 {{'tile.sqrt' op breaks the attention chain: the output product's left side must be the softmax probabilities, optionally through tile.dropout}}
  %r = tile.sqrt %p : !tile.tile<[q, kv], f32>
  %v = tile.load_v : !tile.tile<[kv, d], input>
  %o = tile.dot %r, %v : !tile.tile<[q, kv], f32>, !tile.tile<[kv, d], input> -> !tile.tile<[q, d], f32>
  tile.store %o, %lse : !tile.tile<[q, d], f32>, !tile.tile<[q], f32>
}

// -----

tile.program @lse_of_another_softmax {
  %q = tile.load_q : !tile.tile<[q, d], input>
  %k = tile.load_k : !tile.tile<[kv, d], input>
  %s = tile.dot %q, %k transpose_rhs : !tile.tile<[q, d], input>, !tile.tile<[kv, d], input> -> !tile.tile<[q, kv], f32>
  %p, %lse = tile.softmax %s : !tile.tile<[q, kv], f32>
  %c = tile.constant 2.0 : f32
  %s2 = tile.mul %s, %c : !tile.tile<[q, kv], f32>, !tile.tile<[], f32> -> !tile.tile<[q, kv], f32>
  %p2, %lse2 = tile.softmax %s2 : !tile.tile<[q, kv], f32>
  %v = tile.load_v : !tile.tile<[kv, d], input>
  %o = tile.dot %p, %v : !tile.tile<[q, kv], f32>, !tile.tile<[kv, d], input> -> !tile.tile<[q, d], f32>
  // expected-error @+1 {{'tile.store' op breaks the attention chain: the stored log-sum-exp must be the one of the softmax that gives the probabilities}}
  tile.store %o, %lse2 : !tile.tile<[q, d], f32>, !tile.tile<[q], f32>
}

// -----

tile.program @probs_read_twice {
  %q = tile.load_q : !tile.tile<[q, d], input>
  %k = tile.load_k : !tile.tile<[kv, d], input>
  %s = tile.dot %q, %k transpose_rhs : !tile.tile<[q, d], input>, !tile.tile<[kv, d], input> -> !tile.tile<[q, kv], f32>
  %p, %lse = tile.softmax %s : !tile.tile<[q, kv], f32>
  // expected-error @+1 {{'tile.exp' op breaks the attention chain: it reads the probabilities, which only dropout and the output product may read}}
  %unused = tile.exp %p : !tile.tile<[q, kv], f32>
  %v = tile.load_v : !tile.tile<[kv, d], input>
  %o = tile.dot %p, %v : !tile.tile<[q, kv], f32>, !tile.tile<[kv, d], input> -> !tile.tile<[q, d], f32>
  tile.store %o, %lse : !tile.tile<[q, d], f32>, !tile.tile<[q], f32>
}

// -----

tile.program @mask_before_modification {
  %q = tile.load_q : !tile.tile<[q, d], input>
  %k = tile.load_k : !tile.tile<[kv, d], input>
  %s = tile.dot %q, %k transpose_rhs : !tile.tile<[q, d], input>, !tile.tile<[kv, d], input> -> !tile.tile<[q, kv], f32>
  %qi = tile.index q : !tile.tile<[q], i32>
  %ki = tile.index kv : !tile.tile<[kv], i32>
  %keep = tile.cmp le, %ki, %qi : !tile.tile<[kv], i32>, !tile.tile<[q], i32> -> !tile.tile<[q, kv], i1>
  // expected-error @+1 {{'tile.mask' op breaks the attention chain: a mask must come after the score modification, directly before the softmax}}
  %m = tile.mask %s, %keep : !tile.tile<[q, kv], f32>, !tile.tile<[q, kv], i1>
  %e = tile.exp %m : !tile.tile<[q, kv], f32>
  %p, %lse = tile.softmax %e : !tile.tile<[q, kv], f32>
  %v = tile.load_v : !tile.tile<[kv, d], input>
  %o = tile.dot %p, %v : !tile.tile<[q, kv], f32>, !tile.tile<[kv, d], input> -> !tile.tile<[q, d], f32>
  tile.store %o, %lse : !tile.tile<[q, d], f32>, !tile.tile<[q], f32>
}

// -----

tile.program @two_score_products {
  %q = tile.load_q : !tile.tile<[q, d], input>
  %k = tile.load_k : !tile.tile<[kv, d], input>
  // expected-error @+1 {{'tile.dot' op breaks the attention chain: the scores come from a second product; only one q·kᵀ may feed the softmax}}
  %s = tile.dot %q, %k transpose_rhs : !tile.tile<[q, d], input>, !tile.tile<[kv, d], input> -> !tile.tile<[q, kv], f32>
  %s2 = tile.dot %q, %k transpose_rhs : !tile.tile<[q, d], input>, !tile.tile<[kv, d], input> -> !tile.tile<[q, kv], f32>
  %sum = tile.add %s, %s2 : !tile.tile<[q, kv], f32>, !tile.tile<[q, kv], f32> -> !tile.tile<[q, kv], f32>
  %p, %lse = tile.softmax %sum : !tile.tile<[q, kv], f32>
  %v = tile.load_v : !tile.tile<[kv, d], input>
  %o = tile.dot %p, %v : !tile.tile<[q, kv], f32>, !tile.tile<[kv, d], input> -> !tile.tile<[q, d], f32>
  tile.store %o, %lse : !tile.tile<[q, d], f32>, !tile.tile<[q], f32>
}

// -----

tile.program @probs_read_by_a_second_product {
  %q = tile.load_q : !tile.tile<[q, d], input>
  %p0 = tile.param "x" : !tile.tile<[], f32>
  %k = tile.load_k : !tile.tile<[kv, d], input>
  %v = tile.load_v : !tile.tile<[kv, d], input>
  %s = tile.dot %q, %k transpose_rhs : !tile.tile<[q, d], input>, !tile.tile<[kv, d], input> -> !tile.tile<[q, kv], f32>
  %p, %lse = tile.softmax %s : !tile.tile<[q, kv], f32>
  // expected-error @+1 {{'tile.dot' op breaks the attention chain: it reads the probabilities, which only dropout and the output product may read}}
  %pv = tile.dot %p, %v : !tile.tile<[q, kv], f32>, !tile.tile<[kv, d], input> -> !tile.tile<[q, d], f32>
  %o = tile.dot %p, %v : !tile.tile<[q, kv], f32>, !tile.tile<[kv, d], input> -> !tile.tile<[q, d], f32>
  tile.store %o, %lse : !tile.tile<[q, d], f32>, !tile.tile<[q], f32>
}

// -----

tile.program @scores_reused_outside {
  %q = tile.load_q : !tile.tile<[q, d], input>
  %k = tile.load_k : !tile.tile<[kv, d], input>
  %s = tile.dot %q, %k transpose_rhs : !tile.tile<[q, d], input>, !tile.tile<[kv, d], input> -> !tile.tile<[q, kv], f32>
  %p, %lse = tile.softmax %s : !tile.tile<[q, kv], f32>
  // expected-error @+1 {{'tile.tanh' op breaks the attention chain: it reads the scores outside the score modification}}
  %t = tile.tanh %s : !tile.tile<[q, kv], f32>
  %v = tile.load_v : !tile.tile<[kv, d], input>
  %o = tile.dot %p, %v : !tile.tile<[q, kv], f32>, !tile.tile<[kv, d], input> -> !tile.tile<[q, d], f32>
  tile.store %o, %lse : !tile.tile<[q, d], f32>, !tile.tile<[q], f32>
}

// -----

tile.program @softmax_of_no_scores {
  %c = tile.constant 1.0 : f32
  %qi = tile.index q : !tile.tile<[q], i32>
  %ki = tile.index kv : !tile.tile<[kv], i32>
  %d = tile.sub %ki, %qi : !tile.tile<[kv], i32>, !tile.tile<[q], i32> -> !tile.tile<[q, kv], i32>
  %f = tile.cast %d : !tile.tile<[q, kv], i32> -> !tile.tile<[q, kv], f32>
  // expected-error @+1 {{'tile.softmax' op breaks the attention chain: its scores do not come from q·kᵀ}}
  %p, %lse = tile.softmax %f : !tile.tile<[q, kv], f32>
  %v = tile.load_v : !tile.tile<[kv, d], input>
  %o = tile.dot %p, %v : !tile.tile<[q, kv], f32>, !tile.tile<[kv, d], input> -> !tile.tile<[q, d], f32>
  tile.store %o, %lse : !tile.tile<[q, d], f32>, !tile.tile<[q], f32>
}

