//===- DslFuzzer.cpp - random op sequences through the C++ DSL ------------===//
//
// libFuzzer target: the bytes drive a tracer over flashjit/dsl.h. A pool of
// tiles starts with Q, K, V, the scale, the indices, literals and one tile
// that was never traced; each byte picks an op and the next bytes its
// operands from the pool, including ill-typed combinations. Tracing must
// give a program or an error with a message; a traced program must print
// and parse back to the same text, and compile or say why.
//
//===----------------------------------------------------------------------===//

#include "flashjit/dsl.h"
#include "tests/fuzz/FuzzChecks.h"

#include <cstdint>
#include <string>
#include <vector>

using namespace flashjit;
using namespace flashjit::dsl;

namespace {

struct Bytes {
  const uint8_t *data;
  size_t size, at = 0;
  bool done() const { return at >= size; }
  uint8_t next() { return at < size ? data[at++] : 0; }
};

/// Interprets the bytes as a program body. At most 64 ops: long inputs
/// add nothing new, only time.
void interpret(Builder &b, Bytes &in) {
  std::vector<Tile> pool = {b.q(),      b.k(),     b.v(),      b.softmaxScale(),
                            b.qIdx(),   b.kvIdx(), Tile(1.5f), Tile(3),
                            Tile(true), b.head(),  Tile()};
  Buffer slopes = b.buffer("slopes", {"head"});
  Buffer table = b.buffer("table", {"batch", "token"}, ScalarType::i32);
  auto pick = [&]() -> const Tile & { return pool[in.next() % pool.size()]; };
  for (int ops = 0; ops < 64 && !in.done(); ++ops) {
    uint8_t op = in.next() % 32;
    Tile a = pick(), c = pick();
    switch (op) {
    case 0:
      pool.push_back(a + c);
      break;
    case 1:
      pool.push_back(a - c);
      break;
    case 2:
      pool.push_back(a * c);
      break;
    case 3:
      pool.push_back(a / c);
      break;
    case 4:
      pool.push_back(a % c);
      break;
    case 5:
      pool.push_back(-a);
      break;
    case 6:
      pool.push_back(a < c);
      break;
    case 7:
      pool.push_back(a >= c);
      break;
    case 8:
      pool.push_back(a == c);
      break;
    case 9:
      pool.push_back(a && c);
      break;
    case 10:
      pool.push_back(a || c);
      break;
    case 11:
      pool.push_back(!a);
      break;
    case 12:
      pool.push_back(where(a, c, pick()));
      break;
    case 13:
      pool.push_back(max(a, c));
      break;
    case 14:
      pool.push_back(exp(a));
      break;
    case 15:
      pool.push_back(log(a));
      break;
    case 16:
      pool.push_back(tanh(a));
      break;
    case 17:
      pool.push_back(sqrt(a));
      break;
    case 18:
      pool.push_back(sigmoid(a));
      break;
    case 19:
      pool.push_back(toFloat(a));
      break;
    case 20:
      pool.push_back(toInt(a));
      break;
    case 21:
      pool.push_back(load(slopes, a));
      break;
    case 22:
      pool.push_back(load(table, a, c));
      break;
    case 23:
      pool.push_back(dot(a, c));
      break;
    case 24:
      pool.push_back(dotTransposed(a, c));
      break;
    case 25:
      pool.push_back(mask(a, c));
      break;
    case 26: {
      Softmax s = softmax(a);
      pool.push_back(s.probs);
      pool.push_back(s.lse);
      break;
    }
    case 27:
      pool.push_back(dropout(a, float(in.next()) / 255.0f));
      break;
    case 28:
      pool.push_back(b.param("p" + std::to_string(in.next() % 3)));
      break;
    case 29:
      pool.push_back(
          b.param("n" + std::to_string(in.next() % 3), ScalarType::i32));
      break;
    case 30:
      pool.push_back(abs(a) ^ c);
      break;
    case 31:
      pool.push_back(min(a, c));
      break;
    }
  }
  b.store(pick(), pick());
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  Bytes in{data, size};
  Expected<Program> program =
      trace("fuzzed", [&](Builder &b) { interpret(b, in); });
  if (!program) {
    fuzz::requireMessage(program.error(), "trace");
    return 0;
  }
  fuzz::requireRoundTripAndCompile(*program, size % 2);
  return 0;
}
