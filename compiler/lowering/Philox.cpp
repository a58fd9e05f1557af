//===- Philox.cpp - Philox4x32-10 in kernel code --------------------------===//

#include "compiler/lowering/Philox.h"

#include <cmath>

using namespace mlir;
using namespace flashjit;

std::array<Value, 4> flashjit::emitPhilox(KernelBuilder &k,
                                          std::array<Value, 4> c,
                                          std::array<Value, 2> key) {
  // Salmon et al., "Parallel random numbers: as easy as 1, 2, 3" (SC'11).
  const int64_t m0 = 0xD2511F53, m1 = 0xCD9E8D57;
  const int64_t w0 = 0x9E3779B9, w1 = 0xBB67AE85;
  auto mulhilo = [&](int64_t m, Value x) {
    auto r = arith::MulUIExtendedOp::create(k.b, k.loc, k.c32(m), x);
    return std::pair<Value, Value>{r.getHigh(), r.getLow()};
  };
  auto xori = [&](Value a, Value b) {
    return arith::XOrIOp::create(k.b, k.loc, a, b).getResult();
  };
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      key[0] = k.add(key[0], k.c32(w0));
      key[1] = k.add(key[1], k.c32(w1));
    }
    auto [hi0, lo0] = mulhilo(m0, c[0]);
    auto [hi1, lo1] = mulhilo(m1, c[2]);
    c = {xori(xori(hi1, c[1]), key[0]), lo1, xori(xori(hi0, c[3]), key[1]),
         lo0};
  }
  return c;
}

uint32_t flashjit::dropoutThreshold(double rate) {
  double scaled = std::floor(rate * 4294967296.0);
  if (scaled <= 0)
    return 0;
  if (scaled >= 4294967295.0)
    return 0xffffffffu;
  return static_cast<uint32_t>(scaled);
}
