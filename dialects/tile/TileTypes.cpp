//===- TileTypes.cpp - tile dialect types ---------------------------------===//

#include "dialects/tile/TileDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace flashjit::tile;

#define GET_TYPEDEF_CLASSES
#include "dialects/tile/TileTypes.cpp.inc"

void TileDialect::registerTypes() {
  addTypes<
#define GET_TYPEDEF_LIST
#include "dialects/tile/TileTypes.cpp.inc"
      >();
}

//===----------------------------------------------------------------------===//
// Axes
//===----------------------------------------------------------------------===//

StringRef flashjit::tile::stringifyAxis(Axis axis) {
  switch (axis) {
  case Axis::q:
    return "q";
  case Axis::kv:
    return "kv";
  case Axis::d:
    return "d";
  }
  llvm_unreachable("unknown axis");
}

std::optional<Axis> flashjit::tile::symbolizeAxis(StringRef name) {
  return llvm::StringSwitch<std::optional<Axis>>(name)
      .Case("q", Axis::q)
      .Case("kv", Axis::kv)
      .Case("d", Axis::d)
      .Default(std::nullopt);
}

SmallVector<Axis, kNumAxes> AxisSet::axes() const {
  SmallVector<Axis, kNumAxes> result;
  for (unsigned i = 0; i < kNumAxes; ++i)
    if (bits & (1u << i))
      result.push_back(static_cast<Axis>(i));
  return result;
}

raw_ostream &flashjit::tile::operator<<(raw_ostream &os, AxisSet set) {
  os << '[';
  llvm::interleaveComma(set.axes(), os,
                        [&](Axis axis) { os << stringifyAxis(axis); });
  return os << ']';
}

//===----------------------------------------------------------------------===//
// Element types
//===----------------------------------------------------------------------===//

bool flashjit::tile::isTileElementType(Type type) {
  return isa<InputType>(type) || type.isF32() || type.isSignlessInteger(32) ||
         type.isSignlessInteger(1);
}

void flashjit::tile::printElementType(raw_ostream &os, Type type) {
  if (isa<InputType>(type))
    os << "input";
  else
    os << type;
}

static ParseResult parseElementType(AsmParser &parser, Type &type) {
  if (succeeded(parser.parseOptionalKeyword("input"))) {
    type = InputType::get(parser.getContext());
    return success();
  }
  return parser.parseType(type);
}

//===----------------------------------------------------------------------===//
// TileType
//===----------------------------------------------------------------------===//

Type TileType::parse(AsmParser &parser) {
  SMLoc loc = parser.getCurrentLocation();
  SmallVector<Axis> order;
  auto parseAxis = [&]() -> ParseResult {
    SMLoc axisLoc = parser.getCurrentLocation();
    StringRef name;
    if (parser.parseKeyword(&name))
      return failure();
    std::optional<Axis> axis = symbolizeAxis(name);
    if (!axis)
      return parser.emitError(axisLoc, "unknown axis '")
             << name << "', expected q, kv or d";
    if (!order.empty() && *axis <= order.back())
      return parser.emitError(
          axisLoc, "axes must be distinct and in the order q, kv, d");
    order.push_back(*axis);
    return success();
  };
  Type elementType;
  if (parser.parseLess() ||
      parser.parseCommaSeparatedList(AsmParser::Delimiter::Square, parseAxis) ||
      parser.parseComma() || parseElementType(parser, elementType) ||
      parser.parseGreater())
    return {};
  AxisSet axes;
  for (Axis axis : order)
    axes = axes.unite({axis});
  return parser.getChecked<TileType>(loc, parser.getContext(), axes,
                                     elementType);
}

void TileType::print(AsmPrinter &printer) const {
  printer.getStream() << '<' << getAxes() << ", ";
  printElementType(printer.getStream(), getElementType());
  printer.getStream() << '>';
}

LogicalResult TileType::verify(function_ref<InFlightDiagnostic()> emitError,
                               AxisSet axes, Type elementType) {
  if (!isTileElementType(elementType))
    return emitError() << "tile element type must be input, f32, i32 or i1, "
                          "got "
                       << elementType;
  return success();
}

//===----------------------------------------------------------------------===//
// BufferType
//===----------------------------------------------------------------------===//

static StringRef stringifyBufferDomain(BufferDim::Kind kind) {
  switch (kind) {
  case BufferDim::Kind::batch:
    return "batch";
  case BufferDim::Kind::head:
    return "head";
  case BufferDim::Kind::q:
    return "q";
  case BufferDim::Kind::kv:
    return "kv";
  case BufferDim::Kind::token:
    return "token";
  case BufferDim::Kind::fixed:
  case BufferDim::Kind::dynamic:
    break;
  }
  llvm_unreachable("not a domain");
}

bool BufferDim::acceptsIndex(IndexDim dim) const {
  switch (kind) {
  case Kind::batch:
    return dim == IndexDim::batch;
  case Kind::head:
    return dim == IndexDim::head;
  case Kind::q:
    return dim == IndexDim::q;
  case Kind::kv:
    return dim == IndexDim::kv;
  case Kind::token:
    return dim == IndexDim::q || dim == IndexDim::kv;
  case Kind::fixed:
  case Kind::dynamic:
    // Any index may address a table; the compiler clamps it.
    return true;
  }
  llvm_unreachable("unknown buffer dimension");
}

raw_ostream &flashjit::tile::operator<<(raw_ostream &os, const BufferDim &dim) {
  if (dim.kind == BufferDim::Kind::fixed)
    return os << dim.extent;
  if (dim.kind == BufferDim::Kind::dynamic)
    return os << '?';
  return os << stringifyBufferDomain(dim.kind);
}

Type BufferType::parse(AsmParser &parser) {
  SMLoc loc = parser.getCurrentLocation();
  SmallVector<BufferDim> dims;
  auto parseDim = [&]() -> ParseResult {
    SMLoc dimLoc = parser.getCurrentLocation();
    if (succeeded(parser.parseOptionalQuestion())) {
      dims.push_back({BufferDim::Kind::dynamic, 0});
      return success();
    }
    int64_t extent = 0;
    OptionalParseResult integer = parser.parseOptionalInteger(extent);
    if (integer.has_value()) {
      if (failed(*integer))
        return failure();
      dims.push_back(BufferDim::fixedExtent(extent));
      return success();
    }
    StringRef name;
    if (parser.parseKeyword(&name))
      return failure();
    auto kind = llvm::StringSwitch<std::optional<BufferDim::Kind>>(name)
                    .Case("batch", BufferDim::Kind::batch)
                    .Case("head", BufferDim::Kind::head)
                    .Case("q", BufferDim::Kind::q)
                    .Case("kv", BufferDim::Kind::kv)
                    .Case("token", BufferDim::Kind::token)
                    .Default(std::nullopt);
    if (!kind)
      return parser.emitError(dimLoc, "unknown buffer dimension '")
             << name << "', expected batch, head, q, kv, token, an extent or ?";
    dims.push_back(BufferDim::domain(*kind));
    return success();
  };
  Type elementType;
  if (parser.parseLess() ||
      parser.parseCommaSeparatedList(AsmParser::Delimiter::Square, parseDim) ||
      parser.parseComma() || parser.parseType(elementType) ||
      parser.parseGreater())
    return {};
  return parser.getChecked<BufferType>(loc, parser.getContext(), dims,
                                       elementType);
}

void BufferType::print(AsmPrinter &printer) const {
  raw_ostream &os = printer.getStream();
  os << "<[";
  llvm::interleaveComma(getDims(), os);
  os << "], " << getElementType() << '>';
}

LogicalResult BufferType::verify(function_ref<InFlightDiagnostic()> emitError,
                                 ArrayRef<BufferDim> dims, Type elementType) {
  if (dims.empty() || dims.size() > 2)
    return emitError() << "buffer must have rank 1 or 2, got " << dims.size();
  for (const BufferDim &dim : dims)
    if (dim.kind == BufferDim::Kind::fixed && dim.extent <= 0)
      return emitError() << "buffer extent must be positive, got "
                         << dim.extent;
  if (!elementType.isF32() && !elementType.isSignlessInteger(32))
    return emitError() << "buffer element type must be f32 or i32, got "
                       << elementType;
  return success();
}
