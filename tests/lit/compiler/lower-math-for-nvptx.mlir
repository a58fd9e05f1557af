// RUN: flashjit-opt %s -lower-math-for-nvptx | FileCheck %s
// Score math on the GPU's fast units: no IEEE division and no polynomial
// inside a loop over key blocks.

// A division by a value defined outside the loop is a product with its
// reciprocal, computed once before the loop; exp goes through exp2.
// CHECK-LABEL: func.func @softcap_in_loop
// CHECK-SAME: (%[[CAP:.*]]: f32, %[[S:.*]]: f32
// CHECK: %[[RCP:.*]] = llvm.fdiv %{{.*}}, %[[CAP]] : f32
// CHECK: scf.for
// CHECK-NOT: arith.divf
// CHECK-NOT: llvm.fdiv
// CHECK: %[[X:.*]] = arith.mulf %[[S]], %[[RCP]] : f32
// tanh: |x|, 2^(2 log2(e) |x|), rcp of one more, 1 - 2 rcp, x's sign.
// CHECK: %[[ABS:.*]] = math.absf %[[X]]
// CHECK: %[[E:.*]] = arith.mulf %[[ABS]], %{{.*}} : f32
// CHECK: %[[P:.*]] = math.exp2 %[[E]]
// CHECK: %[[D:.*]] = arith.addf %[[P]], %{{.*}} : f32
// CHECK: %[[R:.*]] = llvm.call_intrinsic "llvm.nvvm.rcp.approx.ftz.f"(%[[D]])
// CHECK: %[[R2:.*]] = arith.mulf %[[R]], %{{.*}} : f32
// CHECK: %[[T:.*]] = arith.subf %{{.*}}, %[[R2]] : f32
// CHECK: math.copysign %[[T]], %[[X]]
// CHECK-NOT: math.tanh
// CHECK: math.exp2
// CHECK-NOT: math.exp {{.*}}
// CHECK: scf.yield
func.func @softcap_in_loop(%cap: f32, %s: f32, %n: index) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  %sum = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %zero) -> f32 {
    %x = arith.divf %s, %cap : f32
    %t = math.tanh %x : f32
    %l = arith.mulf %cap, %t : f32
    %e = math.exp %l : f32
    %next = arith.addf %acc, %e : f32
    scf.yield %next : f32
  }
  return %sum : f32
}

// A divisor that changes in the loop gets div.full (2 ulp); logs go through
// lg2.approx.
// CHECK-LABEL: func.func @varying_divisor
// CHECK: scf.for
// CHECK: llvm.call_intrinsic "llvm.nvvm.div.full"(%{{.*}}, %{{.*}}) : (f32, f32) -> f32
// CHECK: llvm.call_intrinsic "llvm.nvvm.lg2.approx.f"
// CHECK-NOT: arith.divf
// CHECK-NOT: math.log
// CHECK: scf.yield
func.func @varying_divisor(%s: f32, %n: index) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %one = arith.constant 1.0 : f32
  %sum = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %one) -> f32 {
    %x = arith.divf %s, %acc : f32
    %l = math.log %x : f32
    scf.yield %l : f32
  }
  return %sum : f32
}

// Outside any loop a division runs once per thread: it stays IEEE.
// CHECK-LABEL: func.func @no_loop
// CHECK: arith.divf
// CHECK-NOT: llvm.call_intrinsic
func.func @no_loop(%a: f32, %b: f32) -> f32 {
  %x = arith.divf %a, %b : f32
  return %x : f32
}

// f64 math is left to the standard lowering.
// CHECK-LABEL: func.func @f64_untouched
// CHECK: arith.divf
// CHECK: math.tanh
func.func @f64_untouched(%a: f64, %b: f64) -> f64 {
  %x = arith.divf %a, %b : f64
  %t = math.tanh %x : f64
  return %t : f64
}
