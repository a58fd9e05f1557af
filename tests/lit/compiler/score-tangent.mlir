// RUN: flashjit-opt %kernels/softcap.mlir -tile-test-score-tangent | FileCheck %s --check-prefix=SOFTCAP
// RUN: flashjit-opt %kernels/alibi.mlir -tile-test-score-tangent | FileCheck %s --check-prefix=ALIBI
// RUN: flashjit-opt %kernels/causal.mlir -tile-test-score-tangent | FileCheck %s --check-prefix=SCALED
// RUN: flashjit-opt %kernels/sliding_window.mlir -tile-test-score-tangent | FileCheck %s --check-prefix=SCALED
// RUN: flashjit-opt %kernels/document.mlir -tile-test-score-tangent | FileCheck %s --check-prefix=SCALED
// RUN: flashjit-opt %s -tile-test-score-tangent | FileCheck %s
// The derivative of the modified score with respect to the raw score, at
// one element, as the backward kernels emit it (after the score's own code,
// whose values it reads). Zero and one stay symbolic: a scale or an added
// bias costs no code per element.

// softcap * tanh(s * scale / softcap): the chain rule through the division
// by a parameter (uniform), tanh (1 - tanh^2) and the product with the cap.
// SOFTCAP: func.func @softcap_tangent(%[[S:[a-z0-9_]+]]: f32, {{.*}}, %[[SCALE:[a-z0-9_]+]]: f32, %[[CAP:[a-z0-9_]+]]: f32) -> (f32, f32) attributes {tangent_kind = "value", tangent_uniform = false}
// SOFTCAP: %[[X:.*]] = arith.mulf %[[S]], %[[SCALE]] : f32
// SOFTCAP: %[[D:.*]] = arith.divf %[[X]], %[[CAP]] : f32
// SOFTCAP: %[[T:.*]] = math.tanh %[[D]] : f32
// SOFTCAP: %[[R:.*]] = arith.mulf %[[CAP]], %[[T]] : f32
// SOFTCAP: %[[DD:.*]] = arith.divf %[[SCALE]], %[[CAP]] : f32
// SOFTCAP-DAG: %[[T2:.*]] = arith.mulf %[[T]], %[[T]] : f32
// SOFTCAP-DAG: %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// SOFTCAP: %[[SLOPE:.*]] = arith.subf %[[ONE]], %[[T2]] : f32
// SOFTCAP: %[[DT:.*]] = arith.mulf %[[SLOPE]], %[[DD]] : f32
// SOFTCAP: %[[DR:.*]] = arith.mulf %[[DT]], %[[CAP]] : f32
// SOFTCAP: return %[[R]], %[[DR]] : f32, f32

// s * scale + slopes[head] * (kv - q): the bias does not depend on the
// score, so the derivative is the scale itself, with no code.
// ALIBI: func.func @alibi_tangent(%[[S:[a-z0-9_]+]]: f32, {{.*}}, %[[SCALE:[a-z0-9_]+]]: f32, %{{.*}}: memref<?xf32>) -> (f32, f32) attributes {tangent_kind = "value", tangent_uniform = true}
// ALIBI: %[[R:.*]] = arith.addf
// ALIBI-NEXT: return %[[R]], %[[SCALE]] : f32, f32

// s * scale, whatever the mask: the derivative is the scale.
// SCALED: func.func @{{.*}}_tangent(%[[S:[a-z0-9_]+]]: f32, %{{[a-z0-9_]+}}: i32, %{{[a-z0-9_]+}}: i32, %{{[a-z0-9_]+}}: i32, %{{[a-z0-9_]+}}: i32, %{{[a-z0-9_]+}}: i32, %{{[a-z0-9_]+}}: i32, %{{[a-z0-9_]+}}: i32, %{{[a-z0-9_]+}}: i32, %[[SCALE:[a-z0-9_]+]]: f32{{.*}}) -> (f32, f32) attributes {tangent_kind = "value", tangent_uniform = true}
// SCALED-NEXT: %[[R:.*]] = arith.mulf %[[S]], %[[SCALE]] : f32
// SCALED-NEXT: return %[[R]], %[[SCALE]] : f32, f32

// An added parameter leaves the derivative one: no code at all.
// CHECK-LABEL: func.func @add_bias_tangent
// CHECK-SAME: tangent_kind = "one", tangent_uniform = true
// CHECK: %[[R:.*]] = arith.addf
// CHECK-NEXT: %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK-NEXT: return %[[R]], %[[ONE]] : f32, f32
tile.program @add_bias {
  %q = tile.load_q : <[q, d], input>
  %k = tile.load_k : <[kv, d], input>
  %s = tile.dot %q, %k transpose_rhs : <[q, d], input>, <[kv, d], input> -> <[q, kv], f32>
  %b = tile.param "bias" : <[], f32>
  %m = tile.add %s, %b : <[q, kv], f32>, <[], f32> -> <[q, kv], f32>
  %p, %lse = tile.softmax %m : <[q, kv], f32>
  %v = tile.load_v : <[kv, d], input>
  %o = tile.dot %p, %v : <[q, kv], f32>, <[kv, d], input> -> <[q, d], f32>
  tile.store %o, %lse : <[q, d], f32>, <[q], f32>
}

// d(exp(s) + s) = exp(s) * 1 + 1.
// CHECK-LABEL: func.func @add_exp_tangent(
// CHECK-SAME: %[[S:[a-z0-9_]+]]: f32
// CHECK-SAME: tangent_kind = "value", tangent_uniform = false
// CHECK: %[[E:.*]] = math.exp %[[S]] : f32
// CHECK: %[[R:.*]] = arith.addf %[[E]], %[[S]] : f32
// CHECK: %[[DE:.*]] = arith.mulf %[[E]], %[[ONE:.*]] : f32
// CHECK: %[[ONE2:.*]] = arith.constant 1.000000e+00 : f32
// CHECK: %[[D:.*]] = arith.addf %[[DE]], %[[ONE2]] : f32
// CHECK: return %[[R]], %[[D]] : f32, f32
tile.program @add_exp {
  %q = tile.load_q : <[q, d], input>
  %k = tile.load_k : <[kv, d], input>
  %s = tile.dot %q, %k transpose_rhs : <[q, d], input>, <[kv, d], input> -> <[q, kv], f32>
  %e = tile.exp %s : <[q, kv], f32>
  %m = tile.add %e, %s : <[q, kv], f32>, <[q, kv], f32> -> <[q, kv], f32>
  %p, %lse = tile.softmax %m : <[q, kv], f32>
  %v = tile.load_v : <[kv, d], input>
  %o = tile.dot %p, %v : <[q, kv], f32>, <[kv, d], input> -> <[q, d], f32>
  tile.store %o, %lse : <[q, d], f32>, <[q], f32>
}

// d(c - s) = -1, uniform.
// CHECK-LABEL: func.func @sub_from_param_tangent(
// CHECK-SAME: %[[S:[a-z0-9_]+]]: f32
// CHECK-SAME: %[[C:[a-z0-9_]+]]: f32) -> (f32, f32) attributes {tangent_kind = "value", tangent_uniform = true}
// CHECK: %[[R:.*]] = arith.subf %[[C]], %[[S]] : f32
// CHECK: %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK: %[[D:.*]] = arith.negf %[[ONE]] : f32
// CHECK: return %[[R]], %[[D]] : f32, f32
tile.program @sub_from_param {
  %q = tile.load_q : <[q, d], input>
  %k = tile.load_k : <[kv, d], input>
  %s = tile.dot %q, %k transpose_rhs : <[q, d], input>, <[kv, d], input> -> <[q, kv], f32>
  %c = tile.param "c" : <[], f32>
  %m = tile.sub %c, %s : <[], f32>, <[q, kv], f32> -> <[q, kv], f32>
  %p, %lse = tile.softmax %m : <[q, kv], f32>
  %v = tile.load_v : <[kv, d], input>
  %o = tile.dot %p, %v : <[q, kv], f32>, <[kv, d], input> -> <[q, d], f32>
  tile.store %o, %lse : <[q, d], f32>, <[q], f32>
}

// d(s * s) = s + s: each side's derivative times the other's value.
// CHECK-LABEL: func.func @mul_self_tangent(
// CHECK-SAME: %[[S:[a-z0-9_]+]]: f32
// CHECK-SAME: tangent_kind = "value", tangent_uniform = false
// CHECK: %[[R:.*]] = arith.mulf %[[S]], %[[S]] : f32
// CHECK-NEXT: %[[D:.*]] = arith.addf %[[S]], %[[S]] : f32
// CHECK-NEXT: return %[[R]], %[[D]] : f32, f32
tile.program @mul_self {
  %q = tile.load_q : <[q, d], input>
  %k = tile.load_k : <[kv, d], input>
  %s = tile.dot %q, %k transpose_rhs : <[q, d], input>, <[kv, d], input> -> <[q, kv], f32>
  %m = tile.mul %s, %s : <[q, kv], f32>, <[q, kv], f32> -> <[q, kv], f32>
  %p, %lse = tile.softmax %m : <[q, kv], f32>
  %v = tile.load_v : <[kv, d], input>
  %o = tile.dot %p, %v : <[q, kv], f32>, <[kv, d], input> -> <[q, d], f32>
  tile.store %o, %lse : <[q, d], f32>, <[q], f32>
}

// d(s / c) = 1 / c, uniform: a parameter is the same at every element.
// CHECK-LABEL: func.func @div_by_param_tangent(
// CHECK-SAME: %[[S:[a-z0-9_]+]]: f32
// CHECK-SAME: %[[C:[a-z0-9_]+]]: f32) -> (f32, f32) attributes {tangent_kind = "value", tangent_uniform = true}
// CHECK: %[[R:.*]] = arith.divf %[[S]], %[[C]] : f32
// CHECK: %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK: %[[D:.*]] = arith.divf %[[ONE]], %[[C]] : f32
// CHECK: return %[[R]], %[[D]] : f32, f32
tile.program @div_by_param {
  %q = tile.load_q : <[q, d], input>
  %k = tile.load_k : <[kv, d], input>
  %s = tile.dot %q, %k transpose_rhs : <[q, d], input>, <[kv, d], input> -> <[q, kv], f32>
  %c = tile.param "c" : <[], f32>
  %m = tile.div %s, %c : <[q, kv], f32>, <[], f32> -> <[q, kv], f32>
  %p, %lse = tile.softmax %m : <[q, kv], f32>
  %v = tile.load_v : <[kv, d], input>
  %o = tile.dot %p, %v : <[q, kv], f32>, <[kv, d], input> -> <[q, d], f32>
  tile.store %o, %lse : <[q, d], f32>, <[q], f32>
}

// d(c / s) = (0 * s - c * 1) / (s * s): the quotient rule.
// CHECK-LABEL: func.func @div_of_param_tangent(
// CHECK-SAME: %[[S:[a-z0-9_]+]]: f32
// CHECK-SAME: %[[C:[a-z0-9_]+]]: f32) -> (f32, f32) attributes {tangent_kind = "value", tangent_uniform = false}
// CHECK: %[[R:.*]] = arith.divf %[[C]], %[[S]] : f32
// CHECK-DAG: %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-DAG: %[[ADB:.*]] = arith.mulf %[[C]], %[[ONE]] : f32
// CHECK-DAG: %[[DAB:.*]] = arith.mulf %[[ZERO]], %[[S]] : f32
// CHECK: %[[NUM:.*]] = arith.subf %[[DAB]], %[[ADB]] : f32
// CHECK: %[[SQ:.*]] = arith.mulf %[[S]], %[[S]] : f32
// CHECK: %[[D:.*]] = arith.divf %[[NUM]], %[[SQ]] : f32
// CHECK: return %[[R]], %[[D]] : f32, f32
tile.program @div_of_param {
  %q = tile.load_q : <[q, d], input>
  %k = tile.load_k : <[kv, d], input>
  %s = tile.dot %q, %k transpose_rhs : <[q, d], input>, <[kv, d], input> -> <[q, kv], f32>
  %c = tile.param "c" : <[], f32>
  %m = tile.div %c, %s : <[], f32>, <[q, kv], f32> -> <[q, kv], f32>
  %p, %lse = tile.softmax %m : <[q, kv], f32>
  %v = tile.load_v : <[kv, d], input>
  %o = tile.dot %p, %v : <[q, kv], f32>, <[kv, d], input> -> <[q, d], f32>
  tile.store %o, %lse : <[q, d], f32>, <[q], f32>
}

// max and min take the derivative of the side they pick, the first at a
// tie.
// CHECK-LABEL: func.func @max_tangent(
// CHECK-SAME: %[[S:[a-z0-9_]+]]: f32
// CHECK-SAME: tangent_kind = "value", tangent_uniform = false
// CHECK: %[[C:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[R:.*]] = arith.maximumf %[[S]], %[[C]] : f32
// CHECK: %[[FIRST:.*]] = arith.cmpf oge, %[[S]], %[[C]] : f32
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-DAG: %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK: %[[D:.*]] = arith.select %[[FIRST]], %[[ONE]], %[[ZERO]] : f32
// CHECK: return %[[R]], %[[D]] : f32, f32
tile.program @max {
  %q = tile.load_q : <[q, d], input>
  %k = tile.load_k : <[kv, d], input>
  %s = tile.dot %q, %k transpose_rhs : <[q, d], input>, <[kv, d], input> -> <[q, kv], f32>
  %c = tile.constant 0.0 : f32
  %m = tile.max %s, %c : <[q, kv], f32>, <[], f32> -> <[q, kv], f32>
  %p, %lse = tile.softmax %m : <[q, kv], f32>
  %v = tile.load_v : <[kv, d], input>
  %o = tile.dot %p, %v : <[q, kv], f32>, <[kv, d], input> -> <[q, d], f32>
  tile.store %o, %lse : <[q, d], f32>, <[q], f32>
}

// CHECK-LABEL: func.func @min_tangent(
// CHECK-SAME: %[[S:[a-z0-9_]+]]: f32
// CHECK: %[[C:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[R:.*]] = arith.minimumf %[[C]], %[[S]] : f32
// CHECK: %[[FIRST:.*]] = arith.cmpf ole, %[[C]], %[[S]] : f32
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-DAG: %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK: %[[D:.*]] = arith.select %[[FIRST]], %[[ZERO]], %[[ONE]] : f32
// CHECK: return %[[R]], %[[D]] : f32, f32
tile.program @min {
  %q = tile.load_q : <[q, d], input>
  %k = tile.load_k : <[kv, d], input>
  %s = tile.dot %q, %k transpose_rhs : <[q, d], input>, <[kv, d], input> -> <[q, kv], f32>
  %c = tile.constant 0.0 : f32
  %m = tile.min %c, %s : <[], f32>, <[q, kv], f32> -> <[q, kv], f32>
  %p, %lse = tile.softmax %m : <[q, kv], f32>
  %v = tile.load_v : <[kv, d], input>
  %o = tile.dot %p, %v : <[q, kv], f32>, <[kv, d], input> -> <[q, d], f32>
  tile.store %o, %lse : <[q, d], f32>, <[q], f32>
}

// d exp(s) = exp(s) ds, reusing the score's exp.
// CHECK-LABEL: func.func @exp_tangent(
// CHECK-SAME: %[[S:[a-z0-9_]+]]: f32
// CHECK-SAME: tangent_kind = "value", tangent_uniform = false
// CHECK: %[[E:.*]] = math.exp %[[S]] : f32
// CHECK: %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK: %[[D:.*]] = arith.mulf %[[E]], %[[ONE]] : f32
// CHECK: return %[[E]], %[[D]] : f32, f32
tile.program @exp {
  %q = tile.load_q : <[q, d], input>
  %k = tile.load_k : <[kv, d], input>
  %s = tile.dot %q, %k transpose_rhs : <[q, d], input>, <[kv, d], input> -> <[q, kv], f32>
  %m = tile.exp %s : <[q, kv], f32>
  %p, %lse = tile.softmax %m : <[q, kv], f32>
  %v = tile.load_v : <[kv, d], input>
  %o = tile.dot %p, %v : <[q, kv], f32>, <[kv, d], input> -> <[q, d], f32>
  tile.store %o, %lse : <[q, d], f32>, <[q], f32>
}

// d log(s) = ds / s.
// CHECK-LABEL: func.func @log_tangent(
// CHECK-SAME: %[[S:[a-z0-9_]+]]: f32
// CHECK: %[[L:.*]] = math.log %[[S]] : f32
// CHECK: %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK: %[[D:.*]] = arith.divf %[[ONE]], %[[S]] : f32
// CHECK: return %[[L]], %[[D]] : f32, f32
tile.program @log {
  %q = tile.load_q : <[q, d], input>
  %k = tile.load_k : <[kv, d], input>
  %s = tile.dot %q, %k transpose_rhs : <[q, d], input>, <[kv, d], input> -> <[q, kv], f32>
  %m = tile.log %s : <[q, kv], f32>
  %p, %lse = tile.softmax %m : <[q, kv], f32>
  %v = tile.load_v : <[kv, d], input>
  %o = tile.dot %p, %v : <[q, kv], f32>, <[kv, d], input> -> <[q, d], f32>
  tile.store %o, %lse : <[q, d], f32>, <[q], f32>
}

// d tanh(s) = (1 - tanh(s)^2) ds.
// CHECK-LABEL: func.func @tanh_tangent(
// CHECK-SAME: %[[S:[a-z0-9_]+]]: f32
// CHECK: %[[T:.*]] = math.tanh %[[S]] : f32
// CHECK-DAG: %[[T2:.*]] = arith.mulf %[[T]], %[[T]] : f32
// CHECK-DAG: %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK: %[[SLOPE:.*]] = arith.subf %[[ONE]], %[[T2]] : f32
// CHECK: %[[DS:.*]] = arith.constant 1.000000e+00 : f32
// CHECK: %[[D:.*]] = arith.mulf %[[SLOPE]], %[[DS]] : f32
// CHECK: return %[[T]], %[[D]] : f32, f32
tile.program @tanh {
  %q = tile.load_q : <[q, d], input>
  %k = tile.load_k : <[kv, d], input>
  %s = tile.dot %q, %k transpose_rhs : <[q, d], input>, <[kv, d], input> -> <[q, kv], f32>
  %m = tile.tanh %s : <[q, kv], f32>
  %p, %lse = tile.softmax %m : <[q, kv], f32>
  %v = tile.load_v : <[kv, d], input>
  %o = tile.dot %p, %v : <[q, kv], f32>, <[kv, d], input> -> <[q, d], f32>
  tile.store %o, %lse : <[q, d], f32>, <[q], f32>
}

// d sigmoid(s) = sigmoid(s) (1 - sigmoid(s)) ds, sigmoid being
// 1 / (1 + exp(-s)).
// CHECK-LABEL: func.func @sigmoid_tangent(
// CHECK-SAME: %[[S:[a-z0-9_]+]]: f32
// CHECK: %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK: %[[N:.*]] = arith.negf %[[S]] : f32
// CHECK: %[[E:.*]] = math.exp %[[N]] : f32
// CHECK: %[[DEN:.*]] = arith.addf %[[ONE]], %[[E]] : f32
// CHECK: %[[G:.*]] = arith.divf %[[ONE]], %[[DEN]] : f32
// CHECK: %[[ONE2:.*]] = arith.constant 1.000000e+00 : f32
// CHECK: %[[REST:.*]] = arith.subf %[[ONE2]], %[[G]] : f32
// CHECK: %[[SLOPE:.*]] = arith.mulf %[[G]], %[[REST]] : f32
// CHECK: %[[DS:.*]] = arith.constant 1.000000e+00 : f32
// CHECK: %[[D:.*]] = arith.mulf %[[SLOPE]], %[[DS]] : f32
// CHECK: return %[[G]], %[[D]] : f32, f32
tile.program @sigmoid {
  %q = tile.load_q : <[q, d], input>
  %k = tile.load_k : <[kv, d], input>
  %s = tile.dot %q, %k transpose_rhs : <[q, d], input>, <[kv, d], input> -> <[q, kv], f32>
  %m = tile.sigmoid %s : <[q, kv], f32>
  %p, %lse = tile.softmax %m : <[q, kv], f32>
  %v = tile.load_v : <[kv, d], input>
  %o = tile.dot %p, %v : <[q, kv], f32>, <[kv, d], input> -> <[q, d], f32>
  tile.store %o, %lse : <[q, d], f32>, <[q], f32>
}

// d sqrt(s) = ds / (2 sqrt(s)).
// CHECK-LABEL: func.func @sqrt_tangent(
// CHECK-SAME: %[[S:[a-z0-9_]+]]: f32
// CHECK: %[[R:.*]] = math.sqrt %[[S]] : f32
// CHECK: %[[TWO:.*]] = arith.constant 2.000000e+00 : f32
// CHECK: %[[DEN:.*]] = arith.mulf %[[TWO]], %[[R]] : f32
// CHECK: %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK: %[[D:.*]] = arith.divf %[[ONE]], %[[DEN]] : f32
// CHECK: return %[[R]], %[[D]] : f32, f32
tile.program @sqrt {
  %q = tile.load_q : <[q, d], input>
  %k = tile.load_k : <[kv, d], input>
  %s = tile.dot %q, %k transpose_rhs : <[q, d], input>, <[kv, d], input> -> <[q, kv], f32>
  %m = tile.sqrt %s : <[q, kv], f32>
  %p, %lse = tile.softmax %m : <[q, kv], f32>
  %v = tile.load_v : <[kv, d], input>
  %o = tile.dot %p, %v : <[q, kv], f32>, <[kv, d], input> -> <[q, d], f32>
  tile.store %o, %lse : <[q, d], f32>, <[q], f32>
}

// d(-s) = -1, uniform.
// CHECK-LABEL: func.func @neg_tangent(
// CHECK-SAME: %[[S:[a-z0-9_]+]]: f32
// CHECK-SAME: tangent_kind = "value", tangent_uniform = true
// CHECK: %[[R:.*]] = arith.negf %[[S]] : f32
// CHECK: %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK: %[[D:.*]] = arith.negf %[[ONE]] : f32
// CHECK: return %[[R]], %[[D]] : f32, f32
tile.program @neg {
  %q = tile.load_q : <[q, d], input>
  %k = tile.load_k : <[kv, d], input>
  %s = tile.dot %q, %k transpose_rhs : <[q, d], input>, <[kv, d], input> -> <[q, kv], f32>
  %m = tile.neg %s : <[q, kv], f32>
  %p, %lse = tile.softmax %m : <[q, kv], f32>
  %v = tile.load_v : <[kv, d], input>
  %o = tile.dot %p, %v : <[q, kv], f32>, <[kv, d], input> -> <[q, d], f32>
  tile.store %o, %lse : <[q, d], f32>, <[q], f32>
}

// d|s| = -ds where s < 0, else ds.
// CHECK-LABEL: func.func @abs_tangent(
// CHECK-SAME: %[[S:[a-z0-9_]+]]: f32
// CHECK-SAME: tangent_kind = "value", tangent_uniform = false
// CHECK: %[[R:.*]] = math.absf %[[S]] : f32
// CHECK: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[NEG:.*]] = arith.cmpf olt, %[[S]], %[[ZERO]] : f32
// CHECK: %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK: %[[MINUS:.*]] = arith.negf %[[ONE]] : f32
// CHECK: %[[D:.*]] = arith.select %[[NEG]], %[[MINUS]], %[[ONE]] : f32
// CHECK: return %[[R]], %[[D]] : f32, f32
tile.program @abs {
  %q = tile.load_q : <[q, d], input>
  %k = tile.load_k : <[kv, d], input>
  %s = tile.dot %q, %k transpose_rhs : <[q, d], input>, <[kv, d], input> -> <[q, kv], f32>
  %m = tile.abs %s : <[q, kv], f32>
  %p, %lse = tile.softmax %m : <[q, kv], f32>
  %v = tile.load_v : <[kv, d], input>
  %o = tile.dot %p, %v : <[q, kv], f32>, <[kv, d], input> -> <[q, d], f32>
  tile.store %o, %lse : <[q, d], f32>, <[q], f32>
}

// The chosen side's derivative, under the score's own condition; the
// parameter side has none.
// CHECK-LABEL: func.func @select_tangent(
// CHECK-SAME: %[[S:[a-z0-9_]+]]: f32, %{{[a-z0-9_]+}}: i32, %{{[a-z0-9_]+}}: i32, %[[Q:[a-z0-9_]+]]: i32, %[[KV:[a-z0-9_]+]]: i32
// CHECK-SAME: %[[B:[a-z0-9_]+]]: f32) -> (f32, f32) attributes {tangent_kind = "value", tangent_uniform = false}
// CHECK: %[[C:.*]] = arith.cmpi sle, %[[KV]], %[[Q]] : i32
// CHECK: %[[R:.*]] = arith.select %[[C]], %[[S]], %[[B]] : f32
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-DAG: %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK: %[[D:.*]] = arith.select %[[C]], %[[ONE]], %[[ZERO]] : f32
// CHECK: return %[[R]], %[[D]] : f32, f32
tile.program @select {
  %q = tile.load_q : <[q, d], input>
  %k = tile.load_k : <[kv, d], input>
  %s = tile.dot %q, %k transpose_rhs : <[q, d], input>, <[kv, d], input> -> <[q, kv], f32>
  %qi = tile.index q : <[q], i32>
  %ki = tile.index kv : <[kv], i32>
  %c = tile.cmp le, %ki, %qi : <[kv], i32>, <[q], i32> -> <[q, kv], i1>
  %b = tile.param "bias" : <[], f32>
  %m = tile.select %c, %s, %b : <[q, kv], i1>, <[q, kv], f32>, <[], f32> -> <[q, kv], f32>
  %p, %lse = tile.softmax %m : <[q, kv], f32>
  %v = tile.load_v : <[kv, d], input>
  %o = tile.dot %p, %v : <[q, kv], f32>, <[kv, d], input> -> <[q, d], f32>
  tile.store %o, %lse : <[q, d], f32>, <[q], f32>
}
