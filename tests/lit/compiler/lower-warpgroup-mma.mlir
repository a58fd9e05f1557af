// RUN: flashjit-opt %s -lower-warpgroup-mma | FileCheck %s
// The warpgroup MMA becomes MLIR's inline PTX; every other NVVM op stays for
// the LLVM IR translation's intrinsics (cp.async with a source size too,
// which convert-nvvm-to-llvm would turn into inline PTX).

!acc = !llvm.struct<(f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32)>

// CHECK-LABEL: llvm.func @scores
llvm.func @scores(%a: i64, %b: i64, %dst: !llvm.ptr<3>, %src: !llvm.ptr<1>,
                  %bytes: i32) -> !acc {
  // CHECK: nvvm.cp.async.shared.global %{{.*}}, %{{.*}}, 16, cache = cg, %{{.*}}
  nvvm.cp.async.shared.global %dst, %src, 16, cache = cg, %bytes : !llvm.ptr<3>, !llvm.ptr<1>, i32
  %undef = llvm.mlir.poison : !acc
  // The first product overwrites (scale-d 0), A and B K-major (no
  // transpose); the second adds, B MN-major (transposed).
  // CHECK: llvm.inline_asm has_side_effects {{.*}}"{\0A.reg .pred p;\0Asetp.ne.b32 p, $66, 0;\0Awgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16 {$0, {{.*}}, $31}, $64, $65, p, $67,  $68, $69,  $70;\0A}\0A"
  // CHECK-SAME: "=f,{{.*}},l,l,n,n,n,n,n"
  %s = nvvm.wgmma.mma_async %a, %b, %undef, <m = 64, n = 64, k = 16>, D [<f32>, <zero>], A [<bf16>, <one>, <row>], B [<bf16>, <one>, <col>] : !acc -> !acc
  // CHECK: llvm.inline_asm has_side_effects {{.*}}wgmma.mma_async
  %t = nvvm.wgmma.mma_async %a, %b, %s, <m = 64, n = 64, k = 16>, D [<f32>, <one>], A [<bf16>, <one>, <row>], B [<bf16>, <one>, <row>] : !acc -> !acc
  // CHECK-NOT: nvvm.wgmma.mma_async
  llvm.return %t : !acc
}
