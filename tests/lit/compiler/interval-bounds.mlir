// RUN: flashjit-opt %kernels/causal.mlir -tile-test-interval-bounds | FileCheck %s --check-prefix=CAUSAL
// RUN: flashjit-opt %kernels/sliding_window.mlir -tile-test-interval-bounds | FileCheck %s --check-prefix=SLIDING
// RUN: flashjit-opt %kernels/document.mlir -tile-test-interval-bounds | FileCheck %s --check-prefix=DOC
// RUN: flashjit-opt %kernels/alibi.mlir -tile-test-interval-bounds | FileCheck %s --check-prefix=ALIBI
// RUN: flashjit-opt %kernels/softcap.mlir -tile-test-interval-bounds | FileCheck %s --check-prefix=SOFTCAP
// RUN: flashjit-opt %s -tile-test-interval-bounds | FileCheck %s
// The code that classifies a block [q_lo, q_hi] x [kv_lo, kv_hi] by interval
// arithmetic over each mask, as kernels run it per block: whether the mask
// may keep some element, and whether it may mask some. i32 ends are
// computed in i64; an i1's bounds are (may be true, may be false).

// kv <= q: kept everywhere if kv_hi <= q_lo, nowhere if q_hi < kv_lo.
// CAUSAL: func.func @causal_bounds(%[[QLO:[a-z0-9_]+]]: i32, %[[QHI:[a-z0-9_]+]]: i32, %[[KVLO:[a-z0-9_]+]]: i32, %[[KVHI:[a-z0-9_]+]]: i32, {{.*}}) -> (i1, i1)
// CAUSAL-DAG: %[[KL:.*]] = arith.extsi %[[KVLO]] : i32 to i64
// CAUSAL-DAG: %[[KH:.*]] = arith.extsi %[[KVHI]] : i32 to i64
// CAUSAL-DAG: %[[QL:.*]] = arith.extsi %[[QLO]] : i32 to i64
// CAUSAL-DAG: %[[QH:.*]] = arith.extsi %[[QHI]] : i32 to i64
// CAUSAL-DAG: %[[ALWAYS:.*]] = arith.cmpi sle, %[[KH]], %[[QL]] : i64
// CAUSAL-DAG: %[[NEVER:.*]] = arith.cmpi slt, %[[QH]], %[[KL]] : i64
// CAUSAL-DAG: %[[KEEP:.*]] = arith.xori %[[NEVER]], %{{true.*}} : i1
// CAUSAL-DAG: %[[MASK:.*]] = arith.xori %[[ALWAYS]], %{{true.*}} : i1
// CAUSAL: return %[[KEEP]], %[[MASK]] : i1, i1

// kv <= q and q - kv < window: the difference spans [q_lo - kv_hi,
// q_hi - kv_lo], the window is a point, and a conjunction may keep where
// both parts may and may mask where either may.
// SLIDING: func.func @sliding_window_bounds(%[[QLO:[a-z0-9_]+]]: i32, %[[QHI:[a-z0-9_]+]]: i32, %[[KVLO:[a-z0-9_]+]]: i32, %[[KVHI:[a-z0-9_]+]]: i32, {{.*}}, %[[WINDOW:[a-z0-9_]+]]: i32) -> (i1, i1)
// SLIDING-DAG: %[[KL:.*]] = arith.extsi %[[KVLO]] : i32 to i64
// SLIDING-DAG: %[[KH:.*]] = arith.extsi %[[KVHI]] : i32 to i64
// SLIDING-DAG: %[[QL:.*]] = arith.extsi %[[QLO]] : i32 to i64
// SLIDING-DAG: %[[QH:.*]] = arith.extsi %[[QHI]] : i32 to i64
// SLIDING: %[[CKEEP:.*]] = arith.xori
// SLIDING: %[[CMASK:.*]] = arith.xori
// SLIDING: %[[DLO:.*]] = arith.subi %[[QL]], %[[KH]] : i64
// SLIDING: %[[DHI:.*]] = arith.subi %[[QH]], %[[KL]] : i64
// SLIDING: %[[W:.*]] = arith.extsi %[[WINDOW]] : i32 to i64
// SLIDING-DAG: %[[ALWAYS:.*]] = arith.cmpi slt, %[[DHI]], %[[W]] : i64
// SLIDING-DAG: %[[NEVER:.*]] = arith.cmpi sle, %[[W]], %[[DLO]] : i64
// SLIDING-DAG: %[[WKEEP:.*]] = arith.xori %[[NEVER]], %{{true.*}} : i1
// SLIDING-DAG: %[[WMASK:.*]] = arith.xori %[[ALWAYS]], %{{true.*}} : i1
// SLIDING: %[[KEEP:.*]] = arith.andi %[[CKEEP]], %[[WKEEP]] : i1
// SLIDING: %[[MASK:.*]] = arith.ori %[[CMASK]], %[[WMASK]] : i1
// SLIDING: return %[[KEEP]], %[[MASK]] : i1, i1

// doc_ids[b, q] == doc_ids[b, kv]: each gather's index ranges over the
// block (the batch is a point), so the least and greatest id it reads come
// from a loop over the clamped range, from its first row on.
// DOC: func.func @document_bounds(%[[QLO:[a-z0-9_]+]]: i32, %[[QHI:[a-z0-9_]+]]: i32, %[[KVLO:[a-z0-9_]+]]: i32, %[[KVHI:[a-z0-9_]+]]: i32, %[[BATCH:[a-z0-9_]+]]: i32, {{.*}}, %[[IDS:[a-z0-9_]+]]: !llvm.ptr<1>, %[[ROWS:[a-z0-9_]+]]: i32, %[[TOKENS:[a-z0-9_]+]]: i32, %[[STRIDE:[a-z0-9_]+]]: i64) -> (i1, i1)
// DOC: %[[B:.*]] = arith.extsi %[[BATCH]] : i32 to i64
// DOC: %[[QL:.*]] = arith.extsi %[[QLO]] : i32 to i64
// DOC: %[[QH:.*]] = arith.extsi %[[QHI]] : i32 to i64
// DOC: arith.maxsi %[[QL]], %{{.*}} : i64
// DOC: %[[FROM:.*]] = arith.trunci
// DOC: arith.maxsi %[[QH]], %{{.*}} : i64
// DOC: %[[TO:.*]] = arith.trunci
// DOC: %[[FIRST:.*]] = llvm.load %{{.*}} : !llvm.ptr<1> -> i32
// DOC-DAG: %[[END:.*]] = arith.addi %[[TO]], %{{.*}} : i32
// DOC-DAG: %[[START:.*]] = arith.addi %[[FROM]], %{{.*}} : i32
// DOC: %[[QIDS:.*]]:2 = scf.for %[[I:.*]] = %[[START]] to %[[END]] step %{{.*}} iter_args(%[[MN:.*]] = %[[FIRST]], %[[MX:.*]] = %[[FIRST]]) -> (i32, i32)
// DOC: arith.maxsi %[[I]], %{{.*}} : i32
// DOC: llvm.getelementptr inbounds %[[IDS]]
// DOC: %[[V:.*]] = llvm.load
// DOC: %[[NMN:.*]] = arith.minsi %[[MN]], %[[V]] : i32
// DOC: %[[NMX:.*]] = arith.maxsi %[[MX]], %[[V]] : i32
// DOC: scf.yield %[[NMN]], %[[NMX]] : i32, i32
// DOC: %[[QMIN:.*]] = arith.extsi %[[QIDS]]#0 : i32 to i64
// DOC: %[[QMAX:.*]] = arith.extsi %[[QIDS]]#1 : i32 to i64
// DOC: arith.extsi %[[KVLO]] : i32 to i64
// DOC: arith.extsi %[[KVHI]] : i32 to i64
// DOC: %[[KIDS:.*]]:2 = scf.for
// DOC: %[[KMIN:.*]] = arith.extsi %[[KIDS]]#0 : i32 to i64
// DOC: %[[KMAX:.*]] = arith.extsi %[[KIDS]]#1 : i32 to i64
// Equal somewhere unless the id ranges are disjoint; everywhere only if
// both hold one id, the same.
// DOC-DAG: %[[BELOW:.*]] = arith.cmpi slt, %[[QMAX]], %[[KMIN]] : i64
// DOC-DAG: %[[ABOVE:.*]] = arith.cmpi slt, %[[KMAX]], %[[QMIN]] : i64
// DOC-DAG: %[[DISJOINT:.*]] = arith.ori %[[BELOW]], %[[ABOVE]] : i1
// DOC-DAG: %[[QONE:.*]] = arith.cmpi eq, %[[QMIN]], %[[QMAX]] : i64
// DOC-DAG: %[[KONE:.*]] = arith.cmpi eq, %[[KMIN]], %[[KMAX]] : i64
// DOC-DAG: %[[SAMEID:.*]] = arith.cmpi eq, %[[QMIN]], %[[KMIN]] : i64
// DOC-DAG: %[[ONES:.*]] = arith.andi %[[QONE]], %[[KONE]] : i1
// DOC-DAG: %[[SAME:.*]] = arith.andi %[[ONES]], %[[SAMEID]] : i1
// DOC-DAG: %[[KEEP:.*]] = arith.xori %[[DISJOINT]], %{{true.*}} : i1
// DOC-DAG: %[[MASK:.*]] = arith.xori %[[SAME]], %{{true.*}} : i1
// DOC: return %[[KEEP]], %[[MASK]] : i1, i1

// No masks, nothing to classify: every block is full.
// ALIBI: func.func @alibi_bounds({{.*}}, %{{[a-z0-9_]+}}: !llvm.ptr<1>, %{{[a-z0-9_]+}}: i32) {
// ALIBI-NEXT: return
// ALIBI-NEXT: }
// SOFTCAP: func.func @softcap_bounds({{.*}}) {
// SOFTCAP-NEXT: return
// SOFTCAP-NEXT: }

// kv <= q + 3: a constant is a point; adding it shifts both ends.
// CHECK-LABEL: func.func @shifted_causal_bounds(
// CHECK-SAME: %[[QLO:[a-z0-9_]+]]: i32, %[[QHI:[a-z0-9_]+]]: i32, %[[KVLO:[a-z0-9_]+]]: i32, %[[KVHI:[a-z0-9_]+]]: i32
// CHECK-DAG: %[[KL:.*]] = arith.extsi %[[KVLO]] : i32 to i64
// CHECK-DAG: %[[KH:.*]] = arith.extsi %[[KVHI]] : i32 to i64
// CHECK-DAG: %[[QL:.*]] = arith.extsi %[[QLO]] : i32 to i64
// CHECK-DAG: %[[QH:.*]] = arith.extsi %[[QHI]] : i32 to i64
// CHECK: %[[C3:.*]] = arith.constant 3 : i32
// CHECK: %[[C:.*]] = arith.extsi %[[C3]] : i32 to i64
// CHECK: %[[LO:.*]] = arith.addi %[[QL]], %[[C]] : i64
// CHECK: %[[HI:.*]] = arith.addi %[[QH]], %[[C]] : i64
// CHECK-DAG: %[[ALWAYS:.*]] = arith.cmpi sle, %[[KH]], %[[LO]] : i64
// CHECK-DAG: %[[NEVER:.*]] = arith.cmpi slt, %[[HI]], %[[KL]] : i64
// CHECK-DAG: %[[KEEP:.*]] = arith.xori %[[NEVER]], %{{true.*}} : i1
// CHECK-DAG: %[[MASK:.*]] = arith.xori %[[ALWAYS]], %{{true.*}} : i1
// CHECK: return %[[KEEP]], %[[MASK]] : i1, i1
tile.program @shifted_causal {
  %q = tile.load_q : <[q, d], input>
  %k = tile.load_k : <[kv, d], input>
  %s = tile.dot %q, %k transpose_rhs : <[q, d], input>, <[kv, d], input> -> <[q, kv], f32>
  %q_idx = tile.index q : <[q], i32>
  %kv_idx = tile.index kv : <[kv], i32>
  %c3 = tile.constant 3 : i32
  %q3 = tile.add %q_idx, %c3 : <[q], i32>, <[], i32> -> <[q], i32>
  %keep = tile.cmp le, %kv_idx, %q3 : <[kv], i32>, <[q], i32> -> <[q, kv], i1>
  %m = tile.mask %s, %keep : <[q, kv], f32>, <[q, kv], i1>
  %p, %lse = tile.softmax %m : <[q, kv], f32>
  %v = tile.load_v : <[kv, d], input>
  %o = tile.dot %p, %v : <[q, kv], f32>, <[kv, d], input> -> <[q, d], f32>
  tile.store %o, %lse : <[q, d], f32>, <[q], f32>
}

// kv <= 2 q: a product's ends are the least and greatest of the four
// products of the operands' ends.
// CHECK-LABEL: func.func @strided_bounds(
// CHECK-SAME: %[[QLO:[a-z0-9_]+]]: i32, %[[QHI:[a-z0-9_]+]]: i32, %[[KVLO:[a-z0-9_]+]]: i32, %[[KVHI:[a-z0-9_]+]]: i32
// CHECK-DAG: %[[KL:.*]] = arith.extsi %[[KVLO]] : i32 to i64
// CHECK-DAG: %[[KH:.*]] = arith.extsi %[[KVHI]] : i32 to i64
// CHECK-DAG: %[[QL:.*]] = arith.extsi %[[QLO]] : i32 to i64
// CHECK-DAG: %[[QH:.*]] = arith.extsi %[[QHI]] : i32 to i64
// CHECK: %[[C:.*]] = arith.extsi %{{.*}} : i32 to i64
// CHECK-DAG: %[[P0:.*]] = arith.muli %[[QL]], %[[C]] : i64
// CHECK-DAG: %[[P1:.*]] = arith.muli %[[QL]], %[[C]] : i64
// CHECK-DAG: %[[P2:.*]] = arith.muli %[[QH]], %[[C]] : i64
// CHECK-DAG: %[[P3:.*]] = arith.muli %[[QH]], %[[C]] : i64
// CHECK-DAG: %[[MIN01:.*]] = arith.minsi %[[P0]], %[[P1]] : i64
// CHECK-DAG: %[[MIN23:.*]] = arith.minsi %[[P2]], %[[P3]] : i64
// CHECK-DAG: %[[LO:.*]] = arith.minsi %[[MIN01]], %[[MIN23]] : i64
// CHECK-DAG: %[[MAX01:.*]] = arith.maxsi %[[P0]], %[[P1]] : i64
// CHECK-DAG: %[[MAX23:.*]] = arith.maxsi %[[P2]], %[[P3]] : i64
// CHECK-DAG: %[[HI:.*]] = arith.maxsi %[[MAX01]], %[[MAX23]] : i64
// CHECK-DAG: arith.cmpi sle, %[[KH]], %[[LO]] : i64
// CHECK-DAG: arith.cmpi slt, %[[HI]], %[[KL]] : i64
tile.program @strided {
  %q = tile.load_q : <[q, d], input>
  %k = tile.load_k : <[kv, d], input>
  %s = tile.dot %q, %k transpose_rhs : <[q, d], input>, <[kv, d], input> -> <[q, kv], f32>
  %q_idx = tile.index q : <[q], i32>
  %kv_idx = tile.index kv : <[kv], i32>
  %c2 = tile.constant 2 : i32
  %q2 = tile.mul %q_idx, %c2 : <[q], i32>, <[], i32> -> <[q], i32>
  %keep = tile.cmp le, %kv_idx, %q2 : <[kv], i32>, <[q], i32> -> <[q, kv], i1>
  %m = tile.mask %s, %keep : <[q, kv], f32>, <[q, kv], i1>
  %p, %lse = tile.softmax %m : <[q, kv], f32>
  %v = tile.load_v : <[kv, d], input>
  %o = tile.dot %p, %v : <[q, kv], f32>, <[kv, d], input> -> <[q, d], f32>
  tile.store %o, %lse : <[q, d], f32>, <[q], f32>
}

// |q - kv| <= w: a difference takes [lo - hi', hi - lo']; its absolute value
// ends at max(-lo, hi) and starts at the nearer end's, or 0 if it straddles
// 0.
// CHECK-LABEL: func.func @symmetric_window_bounds(
// CHECK-SAME: %[[QLO:[a-z0-9_]+]]: i32, %[[QHI:[a-z0-9_]+]]: i32, %[[KVLO:[a-z0-9_]+]]: i32, %[[KVHI:[a-z0-9_]+]]: i32
// CHECK-SAME: %[[W:[a-z0-9_]+]]: i32) -> (i1, i1)
// CHECK-DAG: %[[QL:.*]] = arith.extsi %[[QLO]] : i32 to i64
// CHECK-DAG: %[[QH:.*]] = arith.extsi %[[QHI]] : i32 to i64
// CHECK-DAG: %[[KL:.*]] = arith.extsi %[[KVLO]] : i32 to i64
// CHECK-DAG: %[[KH:.*]] = arith.extsi %[[KVHI]] : i32 to i64
// CHECK: %[[DLO:.*]] = arith.subi %[[QL]], %[[KH]] : i64
// CHECK: %[[DHI:.*]] = arith.subi %[[QH]], %[[KL]] : i64
// CHECK: %[[ZERO:.*]] = arith.constant 0 : i64
// CHECK-DAG: %[[NEGLO:.*]] = arith.subi %[[ZERO]], %[[DLO]] : i64
// CHECK-DAG: %[[NEGHI:.*]] = arith.subi %[[ZERO]], %[[DHI]] : i64
// CHECK-DAG: %[[M1:.*]] = arith.maxsi %[[DLO]], %[[NEGHI]] : i64
// CHECK-DAG: %[[M2:.*]] = arith.maxsi %[[NEGLO]], %[[DHI]] : i64
// CHECK-DAG: %[[ABSLO:.*]] = arith.minsi %[[M1]], %[[M2]] : i64
// CHECK-DAG: %[[BELOW:.*]] = arith.cmpi slt, %[[DLO]], %[[ZERO]] : i64
// CHECK-DAG: %[[ABOVE:.*]] = arith.cmpi sgt, %[[DHI]], %[[ZERO]] : i64
// CHECK-DAG: %[[STRADDLES:.*]] = arith.andi %[[BELOW]], %[[ABOVE]] : i1
// CHECK: %[[LO:.*]] = arith.select %[[STRADDLES]], %[[ZERO]], %[[ABSLO]] : i64
// CHECK: %[[HI:.*]] = arith.maxsi %[[NEGLO]], %[[DHI]] : i64
// CHECK: %[[WW:.*]] = arith.extsi %[[W]] : i32 to i64
// CHECK-DAG: arith.cmpi sle, %[[HI]], %[[WW]] : i64
// CHECK-DAG: arith.cmpi slt, %[[WW]], %[[LO]] : i64
tile.program @symmetric_window {
  %q = tile.load_q : <[q, d], input>
  %k = tile.load_k : <[kv, d], input>
  %s = tile.dot %q, %k transpose_rhs : <[q, d], input>, <[kv, d], input> -> <[q, kv], f32>
  %q_idx = tile.index q : <[q], i32>
  %kv_idx = tile.index kv : <[kv], i32>
  %d = tile.sub %q_idx, %kv_idx : <[q], i32>, <[kv], i32> -> <[q, kv], i32>
  %a = tile.abs %d : <[q, kv], i32>
  %w = tile.param "w" : <[], i32>
  %keep = tile.cmp le, %a, %w : <[q, kv], i32>, <[], i32> -> <[q, kv], i1>
  %m = tile.mask %s, %keep : <[q, kv], f32>, <[q, kv], i1>
  %p, %lse = tile.softmax %m : <[q, kv], f32>
  %v = tile.load_v : <[kv, d], input>
  %o = tile.dot %p, %v : <[q, kv], f32>, <[kv, d], input> -> <[q, d], f32>
  tile.store %o, %lse : <[q, d], f32>, <[q], f32>
}

// kv >= max(q - w, 0): max is monotone in both operands.
// CHECK-LABEL: func.func @clamped_window_bounds(
// CHECK-SAME: %[[QLO:[a-z0-9_]+]]: i32, %[[QHI:[a-z0-9_]+]]: i32, %[[KVLO:[a-z0-9_]+]]: i32, %[[KVHI:[a-z0-9_]+]]: i32
// CHECK-SAME: %[[W:[a-z0-9_]+]]: i32) -> (i1, i1)
// CHECK-DAG: %[[KL:.*]] = arith.extsi %[[KVLO]] : i32 to i64
// CHECK-DAG: %[[KH:.*]] = arith.extsi %[[KVHI]] : i32 to i64
// CHECK-DAG: %[[QL:.*]] = arith.extsi %[[QLO]] : i32 to i64
// CHECK-DAG: %[[QH:.*]] = arith.extsi %[[QHI]] : i32 to i64
// CHECK: %[[WW:.*]] = arith.extsi %[[W]] : i32 to i64
// CHECK: %[[DLO:.*]] = arith.subi %[[QL]], %[[WW]] : i64
// CHECK: %[[DHI:.*]] = arith.subi %[[QH]], %[[WW]] : i64
// CHECK: %[[ZERO:.*]] = arith.extsi %{{.*}} : i32 to i64
// CHECK: %[[LO:.*]] = arith.maxsi %[[DLO]], %[[ZERO]] : i64
// CHECK: %[[HI:.*]] = arith.maxsi %[[DHI]], %[[ZERO]] : i64
// CHECK-DAG: arith.cmpi sle, %[[HI]], %[[KL]] : i64
// CHECK-DAG: arith.cmpi slt, %[[KH]], %[[LO]] : i64
tile.program @clamped_window {
  %q = tile.load_q : <[q, d], input>
  %k = tile.load_k : <[kv, d], input>
  %s = tile.dot %q, %k transpose_rhs : <[q, d], input>, <[kv, d], input> -> <[q, kv], f32>
  %q_idx = tile.index q : <[q], i32>
  %kv_idx = tile.index kv : <[kv], i32>
  %w = tile.param "w" : <[], i32>
  %c0 = tile.constant 0 : i32
  %d = tile.sub %q_idx, %w : <[q], i32>, <[], i32> -> <[q], i32>
  %start = tile.max %d, %c0 : <[q], i32>, <[], i32> -> <[q], i32>
  %keep = tile.cmp ge, %kv_idx, %start : <[kv], i32>, <[q], i32> -> <[q, kv], i1>
  %m = tile.mask %s, %keep : <[q, kv], f32>, <[q, kv], i1>
  %p, %lse = tile.softmax %m : <[q, kv], f32>
  %v = tile.load_v : <[kv, d], input>
  %o = tile.dot %p, %v : <[q, kv], f32>, <[kv, d], input> -> <[q, d], f32>
  tile.store %o, %lse : <[q, d], f32>, <[q], f32>
}

// q / 64 == kv / 64: dividing by a positive point keeps the ends' order
// (by a negative one swaps them, by zero knows nothing); equality may hold
// unless the ranges are disjoint, and holds everywhere only between one
// value and itself.
// CHECK-LABEL: func.func @block_diagonal_bounds(
// CHECK-SAME: %[[QLO:[a-z0-9_]+]]: i32, %[[QHI:[a-z0-9_]+]]: i32, %[[KVLO:[a-z0-9_]+]]: i32, %[[KVHI:[a-z0-9_]+]]: i32
// CHECK: %[[QL:.*]] = arith.extsi %[[QLO]] : i32 to i64
// CHECK: %[[QH:.*]] = arith.extsi %[[QHI]] : i32 to i64
// CHECK: %[[C:.*]] = arith.extsi %{{.*}} : i32 to i64
// CHECK: %[[ISZERO:.*]] = arith.cmpi eq, %[[C]], %{{.*}} : i64
// CHECK: %[[DIVISOR:.*]] = arith.select %[[ISZERO]], %{{.*}}, %[[C]] : i64
// CHECK: %[[QBLO:.*]] = arith.divsi %[[QL]], %[[DIVISOR]] : i64
// CHECK: %[[QBHI:.*]] = arith.divsi %[[QH]], %[[DIVISOR]] : i64
// CHECK: %[[MIN:.*]] = arith.constant -9223372036854775808 : i64
// CHECK: %[[MAX:.*]] = arith.constant 9223372036854775807 : i64
// CHECK-DAG: %[[POS:.*]] = arith.cmpi sgt, %[[C]], %{{.*}} : i64
// CHECK-DAG: %[[NEG:.*]] = arith.cmpi slt, %[[C]], %{{.*}} : i64
// CHECK-DAG: %[[L1:.*]] = arith.select %[[NEG]], %[[QBHI]], %[[MIN]] : i64
// CHECK-DAG: %[[QLOW:.*]] = arith.select %[[POS]], %[[QBLO]], %[[L1]] : i64
// CHECK-DAG: %[[H1:.*]] = arith.select %[[NEG]], %[[QBLO]], %[[MAX]] : i64
// CHECK-DAG: %[[QHIGH:.*]] = arith.select %[[POS]], %[[QBHI]], %[[H1]] : i64
// CHECK: %[[KL:.*]] = arith.extsi %[[KVLO]] : i32 to i64
// CHECK: %[[KH:.*]] = arith.extsi %[[KVHI]] : i32 to i64
// CHECK: %[[KBLO:.*]] = arith.divsi %[[KL]], %{{.*}} : i64
// CHECK: %[[KBHI:.*]] = arith.divsi %[[KH]], %{{.*}} : i64
// CHECK: %[[KLOW:.*]] = arith.select %{{.*}}, %[[KBLO]], %{{.*}} : i64
// CHECK: %[[KHIGH:.*]] = arith.select %{{.*}}, %[[KBHI]], %{{.*}} : i64
// CHECK-DAG: %[[BELOW:.*]] = arith.cmpi slt, %[[QHIGH]], %[[KLOW]] : i64
// CHECK-DAG: %[[ABOVE:.*]] = arith.cmpi slt, %[[KHIGH]], %[[QLOW]] : i64
// CHECK-DAG: %[[DISJOINT:.*]] = arith.ori %[[BELOW]], %[[ABOVE]] : i1
// CHECK-DAG: %[[KEEP:.*]] = arith.xori %[[DISJOINT]], %{{true.*}} : i1
// CHECK: return %[[KEEP]], %{{.*}} : i1, i1
tile.program @block_diagonal {
  %q = tile.load_q : <[q, d], input>
  %k = tile.load_k : <[kv, d], input>
  %s = tile.dot %q, %k transpose_rhs : <[q, d], input>, <[kv, d], input> -> <[q, kv], f32>
  %q_idx = tile.index q : <[q], i32>
  %kv_idx = tile.index kv : <[kv], i32>
  %c64 = tile.constant 64 : i32
  %qb = tile.div %q_idx, %c64 : <[q], i32>, <[], i32> -> <[q], i32>
  %kb = tile.div %kv_idx, %c64 : <[kv], i32>, <[], i32> -> <[kv], i32>
  %keep = tile.cmp eq, %qb, %kb : <[q], i32>, <[kv], i32> -> <[q, kv], i1>
  %m = tile.mask %s, %keep : <[q, kv], f32>, <[q, kv], i1>
  %p, %lse = tile.softmax %m : <[q, kv], f32>
  %v = tile.load_v : <[kv, d], input>
  %o = tile.dot %p, %v : <[q, kv], f32>, <[kv, d], input> -> <[q, d], f32>
  tile.store %o, %lse : <[q, d], f32>, <[q], f32>
}

// q < 16 or kv >= 32: a disjunction may be true if either side may, and
// may be false only if both may.
// CHECK-LABEL: func.func @either_bounds(
// CHECK-SAME: %[[QLO:[a-z0-9_]+]]: i32, %[[QHI:[a-z0-9_]+]]: i32, %[[KVLO:[a-z0-9_]+]]: i32, %[[KVHI:[a-z0-9_]+]]: i32
// CHECK: %[[AKEEP:.*]] = arith.xori
// CHECK: %[[AMASK:.*]] = arith.xori
// CHECK: %[[BKEEP:.*]] = arith.xori
// CHECK: %[[BMASK:.*]] = arith.xori
// CHECK: %[[KEEP:.*]] = arith.ori %[[AKEEP]], %[[BKEEP]] : i1
// CHECK: %[[MASK:.*]] = arith.andi %[[AMASK]], %[[BMASK]] : i1
// CHECK: return %[[KEEP]], %[[MASK]] : i1, i1
tile.program @either {
  %q = tile.load_q : <[q, d], input>
  %k = tile.load_k : <[kv, d], input>
  %s = tile.dot %q, %k transpose_rhs : <[q, d], input>, <[kv, d], input> -> <[q, kv], f32>
  %q_idx = tile.index q : <[q], i32>
  %kv_idx = tile.index kv : <[kv], i32>
  %c16 = tile.constant 16 : i32
  %c32 = tile.constant 32 : i32
  %a = tile.cmp lt, %q_idx, %c16 : <[q], i32>, <[], i32> -> <[q], i1>
  %b = tile.cmp ge, %kv_idx, %c32 : <[kv], i32>, <[], i32> -> <[kv], i1>
  %keep = tile.or %a, %b : <[q], i1>, <[kv], i1> -> <[q, kv], i1>
  %m = tile.mask %s, %keep : <[q, kv], f32>, <[q, kv], i1>
  %p, %lse = tile.softmax %m : <[q, kv], f32>
  %v = tile.load_v : <[kv, d], input>
  %o = tile.dot %p, %v : <[q, kv], f32>, <[kv, d], input> -> <[q, d], f32>
  tile.store %o, %lse : <[q, d], f32>, <[q], f32>
}

// (q < kv) xor (kv < 8): true where one side may be true and the other
// false; false where both may agree.
// CHECK-LABEL: func.func @parity_bounds(
// CHECK: %[[AKEEP:.*]] = arith.xori
// CHECK: %[[AMASK:.*]] = arith.xori
// CHECK: %[[BKEEP:.*]] = arith.xori
// CHECK: %[[BMASK:.*]] = arith.xori
// CHECK-DAG: %[[T1:.*]] = arith.andi %[[AKEEP]], %[[BMASK]] : i1
// CHECK-DAG: %[[T2:.*]] = arith.andi %[[AMASK]], %[[BKEEP]] : i1
// CHECK-DAG: %[[KEEP:.*]] = arith.ori %[[T1]], %[[T2]] : i1
// CHECK-DAG: %[[F1:.*]] = arith.andi %[[AKEEP]], %[[BKEEP]] : i1
// CHECK-DAG: %[[F2:.*]] = arith.andi %[[AMASK]], %[[BMASK]] : i1
// CHECK-DAG: %[[MASK:.*]] = arith.ori %[[F1]], %[[F2]] : i1
// CHECK: return %[[KEEP]], %[[MASK]] : i1, i1
tile.program @parity {
  %q = tile.load_q : <[q, d], input>
  %k = tile.load_k : <[kv, d], input>
  %s = tile.dot %q, %k transpose_rhs : <[q, d], input>, <[kv, d], input> -> <[q, kv], f32>
  %q_idx = tile.index q : <[q], i32>
  %kv_idx = tile.index kv : <[kv], i32>
  %a = tile.cmp lt, %q_idx, %kv_idx : <[q], i32>, <[kv], i32> -> <[q, kv], i1>
  %c8 = tile.constant 8 : i32
  %b = tile.cmp lt, %kv_idx, %c8 : <[kv], i32>, <[], i32> -> <[kv], i1>
  %keep = tile.xor %a, %b : <[q, kv], i1>, <[kv], i1> -> <[q, kv], i1>
  %m = tile.mask %s, %keep : <[q, kv], f32>, <[q, kv], i1>
  %p, %lse = tile.softmax %m : <[q, kv], f32>
  %v = tile.load_v : <[kv, d], input>
  %o = tile.dot %p, %v : <[q, kv], f32>, <[kv, d], input> -> <[q, d], f32>
  tile.store %o, %lse : <[q, d], f32>, <[q], f32>
}

// not (q < kv): the two answers swap.
// CHECK-LABEL: func.func @negated_bounds(
// CHECK: %[[KEEP:.*]] = arith.xori
// CHECK: %[[MASK:.*]] = arith.xori
// CHECK: return %[[MASK]], %[[KEEP]] : i1, i1
tile.program @negated {
  %q = tile.load_q : <[q, d], input>
  %k = tile.load_k : <[kv, d], input>
  %s = tile.dot %q, %k transpose_rhs : <[q, d], input>, <[kv, d], input> -> <[q, kv], f32>
  %q_idx = tile.index q : <[q], i32>
  %kv_idx = tile.index kv : <[kv], i32>
  %lt = tile.cmp lt, %q_idx, %kv_idx : <[q], i32>, <[kv], i32> -> <[q, kv], i1>
  %keep = tile.not %lt : <[q, kv], i1>
  %m = tile.mask %s, %keep : <[q, kv], f32>, <[q, kv], i1>
  %p, %lse = tile.softmax %m : <[q, kv], f32>
  %v = tile.load_v : <[kv, d], input>
  %o = tile.dot %p, %v : <[q, kv], f32>, <[kv, d], input> -> <[q, d], f32>
  tile.store %o, %lse : <[q, d], f32>, <[q], f32>
}

// kv <= (q < 64 ? 64 : q): a choice spans both sides, or only the side
// its condition takes where that is known.
// CHECK-LABEL: func.func @chosen_bounds(
// CHECK-SAME: %[[QLO:[a-z0-9_]+]]: i32, %[[QHI:[a-z0-9_]+]]: i32, %[[KVLO:[a-z0-9_]+]]: i32, %[[KVHI:[a-z0-9_]+]]: i32
// CHECK-DAG: %[[C:.*]] = arith.extsi %c64_i32 : i32 to i64
// CHECK-DAG: %[[QL:.*]] = arith.extsi %[[QLO]] : i32 to i64
// CHECK-DAG: %[[QH:.*]] = arith.extsi %[[QHI]] : i32 to i64
// CHECK: %[[MAYTRUE:.*]] = arith.xori
// CHECK: %[[MAYFALSE:.*]] = arith.xori
// CHECK-DAG: %[[ONLYX:.*]] = arith.xori %[[MAYFALSE]], %{{true.*}} : i1
// CHECK-DAG: %[[ONLYY:.*]] = arith.xori %[[MAYTRUE]], %{{true.*}} : i1
// CHECK-DAG: %[[BOTHLO:.*]] = arith.minsi %[[C]], %[[QL]] : i64
// CHECK-DAG: %[[BOTHHI:.*]] = arith.maxsi %[[C]], %[[QH]] : i64
// CHECK: %[[L1:.*]] = arith.select %[[ONLYY]], %[[QL]], %[[BOTHLO]] : i64
// CHECK: %[[LO:.*]] = arith.select %[[ONLYX]], %[[C]], %[[L1]] : i64
// CHECK: %[[H1:.*]] = arith.select %[[ONLYY]], %[[QH]], %[[BOTHHI]] : i64
// CHECK: %[[HI:.*]] = arith.select %[[ONLYX]], %[[C]], %[[H1]] : i64
// CHECK-DAG: arith.cmpi sle, %{{.*}}, %[[LO]] : i64
// CHECK-DAG: arith.cmpi slt, %[[HI]], %{{.*}} : i64
tile.program @chosen {
  %q = tile.load_q : <[q, d], input>
  %k = tile.load_k : <[kv, d], input>
  %s = tile.dot %q, %k transpose_rhs : <[q, d], input>, <[kv, d], input> -> <[q, kv], f32>
  %q_idx = tile.index q : <[q], i32>
  %kv_idx = tile.index kv : <[kv], i32>
  %c64 = tile.constant 64 : i32
  %early = tile.cmp lt, %q_idx, %c64 : <[q], i32>, <[], i32> -> <[q], i1>
  %limit = tile.select %early, %c64, %q_idx : <[q], i1>, <[], i32>, <[q], i32> -> <[q], i32>
  %keep = tile.cmp le, %kv_idx, %limit : <[kv], i32>, <[q], i32> -> <[q, kv], i1>
  %m = tile.mask %s, %keep : <[q, kv], f32>, <[q, kv], i1>
  %p, %lse = tile.softmax %m : <[q, kv], f32>
  %v = tile.load_v : <[kv, d], input>
  %o = tile.dot %p, %v : <[q, kv], f32>, <[kv, d], input> -> <[q, d], f32>
  tile.store %o, %lse : <[q, d], f32>, <[q], f32>
}

// sigmoid(tanh(exp(log(sqrt(q))))) < limit: an i32 range converts end by
// end, and each non-decreasing op maps the ends to the ends through its own
// per-element code.
// CHECK-LABEL: func.func @monotone_bounds(
// CHECK-SAME: %[[QLO:[a-z0-9_]+]]: i32, %[[QHI:[a-z0-9_]+]]: i32, %[[KVLO:[a-z0-9_]+]]: i32, %[[KVHI:[a-z0-9_]+]]: i32
// CHECK-SAME: %[[LIMIT:[a-z0-9_]+]]: f32) -> (i1, i1)
// CHECK: %[[QL:.*]] = arith.extsi %[[QLO]] : i32 to i64
// CHECK: %[[QH:.*]] = arith.extsi %[[QHI]] : i32 to i64
// CHECK: %[[FL:.*]] = arith.sitofp %[[QL]] : i64 to f32
// CHECK: %[[FH:.*]] = arith.sitofp %[[QH]] : i64 to f32
// CHECK: %[[RL:.*]] = math.sqrt %[[FL]] : f32
// CHECK: %[[RH:.*]] = math.sqrt %[[FH]] : f32
// CHECK: %[[LL:.*]] = math.log %[[RL]] : f32
// CHECK: %[[LH:.*]] = math.log %[[RH]] : f32
// CHECK: %[[EL:.*]] = math.exp %[[LL]] : f32
// CHECK: %[[EH:.*]] = math.exp %[[LH]] : f32
// CHECK: %[[TL:.*]] = math.tanh %[[EL]] : f32
// CHECK: %[[TH:.*]] = math.tanh %[[EH]] : f32
// CHECK: %[[NL:.*]] = arith.negf %[[TL]] : f32
// CHECK: %[[XL:.*]] = math.exp %[[NL]] : f32
// CHECK: %[[DL:.*]] = arith.addf %[[ONE:.*]], %[[XL]] : f32
// CHECK: %[[GL:.*]] = arith.divf %[[ONE]], %[[DL]] : f32
// CHECK: %[[NH:.*]] = arith.negf %[[TH]] : f32
// CHECK: %[[XH:.*]] = math.exp %[[NH]] : f32
// CHECK: %[[DH:.*]] = arith.addf %[[ONE2:.*]], %[[XH]] : f32
// CHECK: %[[GH:.*]] = arith.divf %[[ONE2]], %[[DH]] : f32
// CHECK-DAG: %[[ALWAYS:.*]] = arith.cmpf olt, %[[GH]], %[[LIMIT]] : f32
// CHECK-DAG: %[[NEVER:.*]] = arith.cmpf ole, %[[LIMIT]], %[[GL]] : f32
tile.program @monotone {
  %q = tile.load_q : <[q, d], input>
  %k = tile.load_k : <[kv, d], input>
  %s = tile.dot %q, %k transpose_rhs : <[q, d], input>, <[kv, d], input> -> <[q, kv], f32>
  %q_idx = tile.index q : <[q], i32>
  %kv_idx = tile.index kv : <[kv], i32>
  %qf = tile.cast %q_idx : <[q], i32> -> <[q], f32>
  %r = tile.sqrt %qf : <[q], f32>
  %l = tile.log %r : <[q], f32>
  %e = tile.exp %l : <[q], f32>
  %t = tile.tanh %e : <[q], f32>
  %g = tile.sigmoid %t : <[q], f32>
  %limit = tile.param "limit" : <[], f32>
  %keep = tile.cmp lt, %g, %limit : <[q], f32>, <[], f32> -> <[q], i1>
  %m = tile.mask %s, %keep : <[q, kv], f32>, <[q], i1>
  %p, %lse = tile.softmax %m : <[q, kv], f32>
  %v = tile.load_v : <[kv, d], input>
  %o = tile.dot %p, %v : <[q, kv], f32>, <[kv, d], input> -> <[q, d], f32>
  tile.store %o, %lse : <[q, d], f32>, <[q], f32>
}

// A float cast to i32 may leave the i32 range: nothing is known of it, nor
// of a sum with it, whose other operand is then not even bounded.
// CHECK-LABEL: func.func @unbounded_bounds(
// CHECK-SAME: %[[QLO:[a-z0-9_]+]]: i32, %[[QHI:[a-z0-9_]+]]: i32,
// CHECK-NOT: arith.extsi %[[QLO]]
// CHECK-NOT: arith.addi
// CHECK: arith.constant -9223372036854775808 : i64
// CHECK-NEXT: arith.constant 9223372036854775807 : i64
// CHECK-NEXT: %[[SMIN:.*]] = arith.constant -9223372036854775808 : i64
// CHECK-NEXT: %[[SMAX:.*]] = arith.constant 9223372036854775807 : i64
// CHECK-NOT: arith.extsi %[[QLO]]
// CHECK-NOT: arith.addi
// CHECK: %[[ZERO:.*]] = arith.extsi %{{.*}} : i32 to i64
// CHECK-DAG: arith.cmpi slt, %[[ZERO]], %[[SMIN]] : i64
// CHECK-DAG: arith.cmpi sle, %[[SMAX]], %[[ZERO]] : i64
// CHECK-NOT: arith.addi
// CHECK: return
tile.program @unbounded {
  %q = tile.load_q : <[q, d], input>
  %k = tile.load_k : <[kv, d], input>
  %s = tile.dot %q, %k transpose_rhs : <[q, d], input>, <[kv, d], input> -> <[q, kv], f32>
  %q_idx = tile.index q : <[q], i32>
  %kv_idx = tile.index kv : <[kv], i32>
  %f = tile.param "f" : <[], f32>
  %fi = tile.cast %f : <[], f32> -> <[], i32>
  %sum = tile.add %fi, %q_idx : <[], i32>, <[q], i32> -> <[q], i32>
  %c0 = tile.constant 0 : i32
  %keep = tile.cmp gt, %sum, %c0 : <[q], i32>, <[], i32> -> <[q], i1>
  %m = tile.mask %s, %keep : <[q, kv], f32>, <[q], i1>
  %p, %lse = tile.softmax %m : <[q, kv], f32>
  %v = tile.load_v : <[kv, d], input>
  %o = tile.dot %p, %v : <[q, kv], f32>, <[kv, d], input> -> <[q, d], f32>
  tile.store %o, %lse : <[q, d], f32>, <[q], f32>
}
