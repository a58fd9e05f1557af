// RUN: flashjit-opt %kernels/softcap.mlir -tile-test-element-function | FileCheck %s --check-prefix=SOFTCAP
// RUN: flashjit-opt %kernels/causal.mlir -tile-test-element-function | FileCheck %s --check-prefix=CAUSAL
// RUN: flashjit-opt %kernels/document.mlir -tile-test-element-function | FileCheck %s --check-prefix=DOC
// RUN: flashjit-opt %kernels/alibi.mlir -tile-test-element-function | FileCheck %s --check-prefix=ALIBI
// RUN: flashjit-opt %s -tile-test-element-function | FileCheck %s --check-prefix=MATH
// The per-element code of score modifications and masks: the score is
// scaled, then modified; masks become one i1.

// SOFTCAP: func.func @softcap_element(%[[S:[a-z0-9_]+]]: f32, {{.*}}, %[[SCALE:[a-z0-9_]+]]: f32, %[[CAP:[a-z0-9_]+]]: f32) -> (f32, i1)
// SOFTCAP: %[[X:.*]] = arith.mulf %[[S]], %[[SCALE]] : f32
// SOFTCAP: %[[D:.*]] = arith.divf %[[X]], %[[CAP]] : f32
// SOFTCAP: %[[T:.*]] = math.tanh %[[D]] : f32
// SOFTCAP: %[[R:.*]] = arith.mulf %[[CAP]], %[[T]] : f32
// SOFTCAP: %[[TRUE:.*]] = arith.constant true
// SOFTCAP: return %[[R]], %[[TRUE]] : f32, i1

// Arguments: score, batch, head, q, kv, ...
// CAUSAL: func.func @causal_element(%arg0: f32, %arg1: i32, %arg2: i32, %arg3: i32, %arg4: i32,
// CAUSAL: %[[K:.*]] = arith.cmpi sle, %arg4, %arg3 : i32
// CAUSAL: %[[KEEP:.*]] = arith.andi %{{.*}}, %[[K]] : i1
// CAUSAL: return %{{.*}}, %[[KEEP]] : f32, i1

// A document gather clamps its index into the buffer.
// DOC: func.func @document_element({{.*}}%[[DOC:[a-z0-9_]+]]: memref<?x?xi32>) -> (f32, i1)
// DOC: memref.dim %[[DOC]]
// DOC: arith.maxsi
// DOC: arith.minsi
// DOC: %[[DQ:.*]] = memref.load %[[DOC]]
// DOC: %[[DK:.*]] = memref.load %[[DOC]]
// DOC: arith.cmpi eq, %[[DQ]], %[[DK]] : i32

// ALIBI-LABEL: func.func @alibi_element
// ALIBI: %[[SLOPE:.*]] = memref.load
// ALIBI: %[[DIST:.*]] = arith.subi
// ALIBI: %[[DISTF:.*]] = arith.sitofp %[[DIST]] : i32 to f32
// ALIBI: %[[BIAS:.*]] = arith.mulf %[[SLOPE]], %[[DISTF]] : f32
// ALIBI: arith.addf %{{.*}}, %[[BIAS]] : f32

// MATH-LABEL: func.func @every_math_op_element
// MATH-DAG: math.exp
// MATH-DAG: math.log
// MATH-DAG: math.sqrt
// MATH-DAG: math.absf
// MATH-DAG: arith.maximumf
// MATH-DAG: arith.minimumf
// MATH-DAG: arith.negf
// MATH-DAG: arith.select
// MATH-DAG: arith.remsi
// MATH-DAG: arith.divsi
// MATH-DAG: arith.extui
// MATH-DAG: arith.uitofp
// MATH-DAG: arith.fptosi
// MATH-DAG: arith.xori
// MATH-DAG: arith.ori
// MATH-DAG: arith.cmpf ogt
tile.program @every_math_op {
  %q = tile.load_q : !tile.tile<[q, d], input>
  %k = tile.load_k : !tile.tile<[kv, d], input>
  %s = tile.dot %q, %k transpose_rhs : !tile.tile<[q, d], input>, !tile.tile<[kv, d], input> -> !tile.tile<[q, kv], f32>
  %e = tile.exp %s : !tile.tile<[q, kv], f32>
  %l = tile.log %e : !tile.tile<[q, kv], f32>
  %r = tile.sqrt %l : !tile.tile<[q, kv], f32>
  %a = tile.abs %r : !tile.tile<[q, kv], f32>
  %zero = tile.constant 0.0 : f32
  %mx = tile.max %a, %zero : !tile.tile<[q, kv], f32>, !tile.tile<[], f32> -> !tile.tile<[q, kv], f32>
  %mn = tile.min %mx, %s : !tile.tile<[q, kv], f32>, !tile.tile<[q, kv], f32> -> !tile.tile<[q, kv], f32>
  %n = tile.neg %mn : !tile.tile<[q, kv], f32>
  %pos = tile.cmp gt, %n, %zero : !tile.tile<[q, kv], f32>, !tile.tile<[], f32> -> !tile.tile<[q, kv], i1>
  %sel = tile.select %pos, %n, %s : !tile.tile<[q, kv], i1>, !tile.tile<[q, kv], f32>, !tile.tile<[q, kv], f32> -> !tile.tile<[q, kv], f32>
  %qi = tile.index q : !tile.tile<[q], i32>
  %c3 = tile.constant 3 : i32
  %div = tile.div %qi, %c3 : !tile.tile<[q], i32>, !tile.tile<[], i32> -> !tile.tile<[q], i32>
  %rem = tile.rem %div, %c3 : !tile.tile<[q], i32>, !tile.tile<[], i32> -> !tile.tile<[q], i32>
  %odd = tile.cmp ne, %rem, %c3 : !tile.tile<[q], i32>, !tile.tile<[], i32> -> !tile.tile<[q], i1>
  %asint = tile.cast %odd : !tile.tile<[q], i1> -> !tile.tile<[q], i32>
  %asf = tile.cast %odd : !tile.tile<[q], i1> -> !tile.tile<[q], f32>
  %back = tile.cast %asf : !tile.tile<[q], f32> -> !tile.tile<[q], i32>
  %sum = tile.add %asint, %back : !tile.tile<[q], i32>, !tile.tile<[q], i32> -> !tile.tile<[q], i32>
  %sumf = tile.cast %sum : !tile.tile<[q], i32> -> !tile.tile<[q], f32>
  %s2 = tile.add %sel, %sumf : !tile.tile<[q, kv], f32>, !tile.tile<[q], f32> -> !tile.tile<[q, kv], f32>
  %notodd = tile.not %odd : !tile.tile<[q], i1>
  %either = tile.or %notodd, %odd : !tile.tile<[q], i1>, !tile.tile<[q], i1> -> !tile.tile<[q], i1>
  %m = tile.mask %s2, %either : !tile.tile<[q, kv], f32>, !tile.tile<[q], i1>
  %p, %lse = tile.softmax %m : !tile.tile<[q, kv], f32>
  %v = tile.load_v : !tile.tile<[kv, d], input>
  %o = tile.dot %p, %v : !tile.tile<[q, kv], f32>, !tile.tile<[kv, d], input> -> !tile.tile<[q, d], f32>
  tile.store %o, %lse : !tile.tile<[q, d], f32>, !tile.tile<[q], f32>
}
