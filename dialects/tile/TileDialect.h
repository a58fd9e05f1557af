//===- TileDialect.h - the tile dialect ------------------------*- C++ -*-===//
//
// Everything a user of the tile dialect needs: the dialect, its types and its
// ops.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHJIT_DIALECTS_TILE_TILEDIALECT_H
#define FLASHJIT_DIALECTS_TILE_TILEDIALECT_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "dialects/tile/TileEnums.h.inc"

#include "dialects/tile/TileDialect.h.inc"

namespace flashjit::tile {

/// An axis a tile varies along. The order of the enumerators is the order
/// axes take in a tile type.
enum class Axis : uint8_t { q = 0, kv = 1, d = 2 };
constexpr unsigned kNumAxes = 3;
llvm::StringRef stringifyAxis(Axis axis);
std::optional<Axis> symbolizeAxis(llvm::StringRef name);

/// A subset of {q, kv, d}, iterated in canonical order.
class AxisSet {
public:
  constexpr AxisSet() = default;
  AxisSet(std::initializer_list<Axis> axes) {
    for (Axis axis : axes)
      bits |= bit(axis);
  }
  static AxisSet fromBits(uint8_t bits) {
    AxisSet set;
    set.bits = bits & ((1u << kNumAxes) - 1);
    return set;
  }

  bool empty() const { return bits == 0; }
  unsigned size() const { return llvm::popcount(bits); }
  bool contains(Axis axis) const { return bits & bit(axis); }
  bool isSubsetOf(AxisSet other) const { return (bits & ~other.bits) == 0; }
  AxisSet unite(AxisSet other) const { return fromBits(bits | other.bits); }
  uint8_t getBits() const { return bits; }
  /// The axes in canonical order.
  llvm::SmallVector<Axis, kNumAxes> axes() const;

  bool operator==(const AxisSet &other) const { return bits == other.bits; }
  friend llvm::hash_code hash_value(AxisSet set) {
    return llvm::hash_value(set.bits);
  }

private:
  static constexpr uint8_t bit(Axis axis) {
    return uint8_t(1u << static_cast<unsigned>(axis));
  }
  uint8_t bits = 0;
};

/// Prints `[q, kv]`.
llvm::raw_ostream &operator<<(llvm::raw_ostream &os, AxisSet set);

/// One dimension of an auxiliary buffer: a domain sized by the problem, a
/// static extent, or an extent given at launch.
struct BufferDim {
  enum class Kind : uint8_t { batch, head, q, kv, token, fixed, dynamic };
  Kind kind = Kind::dynamic;
  int64_t extent = 0; ///< Only for `fixed`.

  static BufferDim domain(Kind kind) { return {kind, 0}; }
  static BufferDim fixedExtent(int64_t extent) { return {Kind::fixed, extent}; }
  bool isDomain() const { return kind < Kind::fixed; }
  /// Whether the index `dim` (from tile.index) ranges over this dimension.
  bool acceptsIndex(IndexDim dim) const;

  bool operator==(const BufferDim &other) const {
    return kind == other.kind && extent == other.extent;
  }
  friend llvm::hash_code hash_value(const BufferDim &dim) {
    return llvm::hash_combine(static_cast<uint8_t>(dim.kind), dim.extent);
  }
};
llvm::raw_ostream &operator<<(llvm::raw_ostream &os, const BufferDim &dim);

} // namespace flashjit::tile

#define GET_TYPEDEF_CLASSES
#include "dialects/tile/TileTypes.h.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/tile/TileAttrs.h.inc"

#define GET_OP_CLASSES
#include "dialects/tile/TileOps.h.inc"

namespace flashjit::tile {
/// Whether `type` is an element type tiles may hold: input, f32, i32, i1.
bool isTileElementType(mlir::Type type);
/// Writes `input` for the input type, else the type.
void printElementType(llvm::raw_ostream &os, mlir::Type type);
} // namespace flashjit::tile

#endif // FLASHJIT_DIALECTS_TILE_TILEDIALECT_H
