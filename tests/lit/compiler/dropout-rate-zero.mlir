// Dropout of rate 0 is no dropout: the compiler emits exactly the kernels of
// the program without it (so the GPU results are bit-identical; GpuTest's
// DropoutRateZeroEqualsNoDropoutBitForBit checks those).
// RUN: flashjit-ptx %s --head-dim=128 -o %t.zero.ptx
// RUN: flashjit-ptx full --head-dim=128 -o %t.full.ptx
// RUN: diff %t.zero.ptx %t.full.ptx
// RUN: flashjit-ptx %s --head-dim=64 --pass=bwd -o %t.zero.bwd.ptx
// RUN: flashjit-ptx full --head-dim=64 --pass=bwd -o %t.full.bwd.ptx
// RUN: diff %t.zero.bwd.ptx %t.full.bwd.ptx
// A rate above 0 is a different kernel.
// RUN: sed 's/rate = 0.0/rate = 0.1/' %s > %t.tenth.mlir
// RUN: flashjit-ptx %t.tenth.mlir --head-dim=128 -o %t.tenth.ptx
// RUN: not diff -q %t.tenth.ptx %t.full.ptx
module {
  tile.program @full {
    %q = tile.load_q : <[q, d], input>
    %k = tile.load_k : <[kv, d], input>
    %0 = tile.dot %q, %k transpose_rhs : <[q, d], input>, <[kv, d], input> -> <[q, kv], f32>
    %scale = tile.softmax_scale : <[], f32>
    %1 = tile.mul %0, %scale : <[q, kv], f32>, <[], f32> -> <[q, kv], f32>
    %probs, %lse = tile.softmax %1 : <[q, kv], f32>
    %2 = tile.dropout %probs rate = 0.0 : <[q, kv], f32>
    %v = tile.load_v : <[kv, d], input>
    %3 = tile.dot %2, %v : <[q, kv], f32>, <[kv, d], input> -> <[q, d], f32>
    tile.store %3, %lse : <[q, d], f32>, <[q], f32>
  }
}
