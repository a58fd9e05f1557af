//===- flashjit/dsl.h - the embedded C++ DSL for attention variants -*- C++
//-*-===//
//
// A variant is ordinary C++ over `Tile` values. `trace` runs it once and
// records every operation into a `tile` program:
//
//   Expected<Program> softcap = dsl::attention("softcap", {
//       .scoreMod = [](dsl::Builder &b, dsl::Tile s) {
//         dsl::Tile cap = b.param("softcap");
//         return cap * dsl::tanh(s / cap);
//       }});
//
// Tiles broadcast like the dialect's ops: a score tile varies along the query
// and key axes, `b.qIdx()` along the query axis only, parameters not at all.
// Arithmetic between i32 and f32 promotes to f32, and C++ literals take the
// type of the tile they meet. A mistake (a shape mismatch, a mask that is
// not boolean) does not throw: `trace` returns an Error that names it.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHJIT_DSL_H
#define FLASHJIT_DSL_H

#include "flashjit/program.h"

#include <concepts>
#include <functional>
#include <initializer_list>
#include <string_view>

namespace flashjit::dsl {

namespace detail {
class Tracer;
struct Access;
} // namespace detail

/// A value of the program being traced, or a C++ literal that becomes a
/// constant where it is used.
class Tile {
public:
  Tile() = default;
  template <typename T>
  requires std::same_as<T, bool> Tile(T value)
      : literal_(Literal::i1), literalValue_(value) {}
  template <std::integral T>
  requires(!std::same_as<T, bool>) Tile(T value)
      : literal_(Literal::i32), literalValue_(double(value)) {}
  template <std::floating_point T>
  Tile(T value) : literal_(Literal::f32), literalValue_(double(value)) {}

private:
  friend struct detail::Access;
  enum class Literal : unsigned char { none, f32, i32, i1 };
  /// The trace this tile belongs to (0: none); ids are never reused.
  unsigned long long traceId_ = 0;
  const void *value_ = nullptr; ///< An mlir::Value, as an opaque pointer.
  Literal literal_ = Literal::none;
  double literalValue_ = 0;
};

/// An auxiliary buffer; index it with one tile per dimension.
class Buffer {
public:
  Buffer() = default;
  Tile operator[](const Tile &index) const;
  Tile operator()(const Tile &i, const Tile &j) const;

private:
  friend struct detail::Access;
  unsigned long long traceId_ = 0;
  const void *value_ = nullptr;
};

/// The program under construction: its inputs, indices and parameters.
/// Each accessor emits its op on first use and returns the same tile after.
class Builder {
public:
  /// The Q ([q, d]), K and V ([kv, d]) tiles, in the input precision.
  Tile q();
  Tile k();
  Tile v();
  /// The softmax scale given at launch (1/sqrt(d) unless set).
  Tile softmaxScale();

  /// Indices: batch and (query) head are scalars, qIdx varies along the
  /// query axis and kvIdx along the key axis.
  Tile batch();
  Tile head();
  Tile qIdx();
  Tile kvIdx();
  /// Extents: B, H (query heads), the query and key sequence lengths.
  Tile batchSize();
  Tile numHeads();
  Tile seqlenQ();
  Tile seqlenKv();

  /// A scalar parameter bound by name at launch.
  Tile param(std::string_view name, ScalarType type = ScalarType::f32);
  /// An auxiliary buffer bound by name at launch; `dims` as in BufferInfo.
  Buffer buffer(std::string_view name,
                std::initializer_list<std::string_view> dims,
                ScalarType type = ScalarType::f32);

  /// Ends the program: O ([q, d]) and the row log-sum-exp ([q]).
  void store(const Tile &o, const Tile &lse);

private:
  friend Expected<Program> trace(std::string_view name,
                                 const std::function<void(Builder &)> &body);
  explicit Builder(detail::Tracer &tracer) : tracer_(tracer) {}
  detail::Tracer &tracer_;
};

/// Traces `body` into a verified program named `name`.
Expected<Program> trace(std::string_view name,
                        const std::function<void(Builder &)> &body);

//===----------------------------------------------------------------------===//
// Operations on tiles
//===----------------------------------------------------------------------===//

Tile operator+(const Tile &a, const Tile &b);
Tile operator-(const Tile &a, const Tile &b);
Tile operator*(const Tile &a, const Tile &b);
/// i32 division rounds toward zero.
Tile operator/(const Tile &a, const Tile &b);
/// i32 remainder, with the sign of the dividend.
Tile operator%(const Tile &a, const Tile &b);
Tile operator-(const Tile &a);

Tile operator==(const Tile &a, const Tile &b);
Tile operator!=(const Tile &a, const Tile &b);
Tile operator<(const Tile &a, const Tile &b);
Tile operator<=(const Tile &a, const Tile &b);
Tile operator>(const Tile &a, const Tile &b);
Tile operator>=(const Tile &a, const Tile &b);

/// Boolean logic on i1 tiles (no short-circuit: both sides are traced).
Tile operator&&(const Tile &a, const Tile &b);
Tile operator||(const Tile &a, const Tile &b);
Tile operator^(const Tile &a, const Tile &b);
Tile operator!(const Tile &a);

Tile where(const Tile &cond, const Tile &a, const Tile &b);
Tile max(const Tile &a, const Tile &b);
Tile min(const Tile &a, const Tile &b);
Tile abs(const Tile &x);
Tile exp(const Tile &x);
Tile log(const Tile &x);
Tile tanh(const Tile &x);
Tile sqrt(const Tile &x);
Tile sigmoid(const Tile &x);
Tile toFloat(const Tile &x);
/// f32 to i32 rounds toward zero; i1 gives 0 or 1.
Tile toInt(const Tile &x);
/// `buffer[i]` or `buffer[i, j]`.
Tile load(const Buffer &buffer, const Tile &index);
Tile load(const Buffer &buffer, const Tile &i, const Tile &j);

/// a · b, and a · bᵀ.
Tile dot(const Tile &a, const Tile &b);
Tile dotTransposed(const Tile &a, const Tile &b);
/// The scores where `keep` is true, -inf elsewhere.
Tile mask(const Tile &scores, const Tile &keep);
struct Softmax {
  Tile probs; ///< [q, kv]
  Tile lse;   ///< [q], the row log-sum-exp
};
Softmax softmax(const Tile &scores);
/// Drops each probability with `rate` (Philox, seeded at launch) and
/// scales the rest by 1 / (1 - rate).
Tile dropout(const Tile &probs, float rate);

//===----------------------------------------------------------------------===//
// The standard chain, FlexAttention style
//===----------------------------------------------------------------------===//

/// Modifies the scaled score tile (s = q·kᵀ · scale).
using ScoreMod = std::function<Tile(Builder &, Tile scores)>;
/// A boolean tile of what to keep, from indices, parameters and buffers.
using MaskMod = std::function<Tile(Builder &)>;

struct AttentionSpec {
  ScoreMod scoreMod = {};  ///< none: the scores stay as they are
  MaskMod maskMod = {};    ///< none: nothing is masked
  float dropoutRate = 0.f; ///< 0: no dropout op
};

/// softmax(mask(scoreMod(q·kᵀ · scale))) with dropout, times V: the program
/// every built-in variant is.
Expected<Program> attention(std::string_view name, const AttentionSpec &spec);

} // namespace flashjit::dsl

#endif // FLASHJIT_DSL_H
