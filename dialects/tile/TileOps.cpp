//===- TileOps.cpp - tile dialect operations ------------------------------===//

#include "dialects/tile/TileDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Format.h"

using namespace mlir;
using namespace flashjit::tile;

#define GET_OP_CLASSES
#include "dialects/tile/TileOps.cpp.inc"

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

static TileType tileType(Value value) {
  return cast<TileType>(value.getType());
}

/// The tile type `axes, elementType` as it is spelled in a program.
static std::string spellTile(AxisSet axes, Type elementType) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << "!tile.tile<" << axes << ", ";
  printElementType(os, elementType);
  os << '>';
  return text;
}

static std::string elementName(Type type) {
  std::string text;
  llvm::raw_string_ostream os(text);
  printElementType(os, type);
  return text;
}

/// Checks that `type` holds elements of one of the `kinds` named in ODS:
/// "number" (f32, i32), "float", "int" or "bool".
static LogicalResult verifyElementKind(Operation *op, StringRef what,
                                       TileType type, StringRef kinds) {
  Type element = type.getElementType();
  bool ok = false;
  StringRef expected;
  if (kinds == "number") {
    ok = element.isF32() || element.isSignlessInteger(32);
    expected = "f32 or i32";
  } else if (kinds == "float") {
    ok = element.isF32();
    expected = "f32";
  } else if (kinds == "int") {
    ok = element.isSignlessInteger(32);
    expected = "i32";
  } else if (kinds == "bool") {
    ok = element.isSignlessInteger(1);
    expected = "i1";
  } else {
    llvm_unreachable("unknown element kind in ODS");
  }
  if (ok)
    return success();
  return op->emitOpError() << what << " must hold " << expected
                           << " elements, got " << elementName(element);
}

/// Checks that the op's result is exactly `!tile.tile<axes, element>`.
static LogicalResult verifyResultType(Operation *op, Type actual, AxisSet axes,
                                      Type elementType) {
  auto expected = TileType::get(op->getContext(), axes, elementType);
  if (actual == expected)
    return success();
  return op->emitOpError() << "result must be " << spellTile(axes, elementType)
                           << ", got " << actual;
}

/// What `os << value` writes, for diagnostics.
template <typename T> static std::string spell(const T &value) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << value;
  return text;
}

/// Launch arguments are bound by these names, so they must be identifiers.
static LogicalResult verifyLaunchName(Operation *op, StringRef name) {
  bool ok =
      !name.empty() && (llvm::isAlpha(name[0]) || name[0] == '_') &&
      llvm::all_of(name, [](char c) { return llvm::isAlnum(c) || c == '_'; });
  if (ok)
    return success();
  return op->emitOpError() << "name '" << name
                           << "' is not an identifier ([A-Za-z_][A-Za-z0-9_]*)";
}

//===----------------------------------------------------------------------===//
// ProgramOp, StoreOp
//===----------------------------------------------------------------------===//

StoreOp ProgramOp::getStore() {
  Block &body = getBody().front();
  return body.empty() ? StoreOp() : dyn_cast<StoreOp>(body.back());
}

LogicalResult ProgramOp::verifyRegions() {
  // Parameters and buffers share one namespace: the launch binds them by
  // name.
  llvm::StringMap<Operation *> declared;
  for (Operation &op : getBody().front()) {
    StringAttr name;
    if (auto param = dyn_cast<ParamOp>(op))
      name = param.getNameAttr();
    else if (auto buffer = dyn_cast<BufferOp>(op))
      name = buffer.getNameAttr();
    else
      continue;
    auto [it, inserted] = declared.try_emplace(name.getValue(), &op);
    if (!inserted)
      return op.emitOpError()
             << "name '" << name.getValue() << "' is already declared by the '"
             << it->second->getName() << "' at " << it->second->getLoc();
  }
  if (!getStore())
    return emitOpError() << "body must end with tile.store of O and the "
                            "log-sum-exp";
  return success();
}

LogicalResult StoreOp::verify() {
  MLIRContext *ctx = getContext();
  auto f32 = Float32Type::get(ctx);
  auto expectedO = TileType::get(ctx, {Axis::q, Axis::d}, f32);
  auto expectedLse = TileType::get(ctx, {Axis::q}, f32);
  if (getO().getType() != expectedO)
    return emitOpError() << "output O must be "
                         << spellTile(expectedO.getAxes(), f32) << ", got "
                         << getO().getType();
  if (getLse().getType() != expectedLse)
    return emitOpError() << "log-sum-exp must be "
                         << spellTile(expectedLse.getAxes(), f32) << ", got "
                         << getLse().getType();
  return success();
}

//===----------------------------------------------------------------------===//
// Inputs
//===----------------------------------------------------------------------===//

static LogicalResult verifyInputTile(Operation *op, Axis rows) {
  return verifyResultType(op, op->getResult(0).getType(), {rows, Axis::d},
                          InputType::get(op->getContext()));
}

void LoadQOp::getAsmResultNames(OpAsmSetValueNameFn setName) {
  setName(getResult(), "q");
}
void LoadKOp::getAsmResultNames(OpAsmSetValueNameFn setName) {
  setName(getResult(), "k");
}
void LoadVOp::getAsmResultNames(OpAsmSetValueNameFn setName) {
  setName(getResult(), "v");
}
void SoftmaxScaleOp::getAsmResultNames(OpAsmSetValueNameFn setName) {
  setName(getResult(), "scale");
}
void IndexOp::getAsmResultNames(OpAsmSetValueNameFn setName) {
  setName(getResult(), (stringifyIndexDim(getDim()) + "_idx").str());
}
void ExtentOp::getAsmResultNames(OpAsmSetValueNameFn setName) {
  setName(getResult(), ("len_" + stringifyIndexDim(getDim())).str());
}
void ParamOp::getAsmResultNames(OpAsmSetValueNameFn setName) {
  setName(getResult(), getName());
}
void BufferOp::getAsmResultNames(OpAsmSetValueNameFn setName) {
  setName(getResult(), getName());
}

LogicalResult LoadQOp::verify() { return verifyInputTile(*this, Axis::q); }
LogicalResult LoadKOp::verify() { return verifyInputTile(*this, Axis::kv); }
LogicalResult LoadVOp::verify() { return verifyInputTile(*this, Axis::kv); }

LogicalResult SoftmaxScaleOp::verify() {
  return verifyResultType(*this, getType(), {}, Float32Type::get(getContext()));
}

static AxisSet axesOfIndex(IndexDim dim) {
  switch (dim) {
  case IndexDim::batch:
  case IndexDim::head:
    return {};
  case IndexDim::q:
    return {Axis::q};
  case IndexDim::kv:
    return {Axis::kv};
  }
  llvm_unreachable("unknown index");
}

LogicalResult IndexOp::verify() {
  return verifyResultType(*this, getType(), axesOfIndex(getDim()),
                          IntegerType::get(getContext(), 32));
}

LogicalResult ExtentOp::verify() {
  return verifyResultType(*this, getType(), {},
                          IntegerType::get(getContext(), 32));
}

LogicalResult ParamOp::verify() {
  if (failed(verifyLaunchName(*this, getName())))
    return failure();
  TileType type = getType();
  if (!type.isScalar())
    return emitOpError() << "parameter must be a scalar ([] axes), got "
                         << type;
  return verifyElementKind(*this, "parameter", type, "number");
}

LogicalResult BufferOp::verify() { return verifyLaunchName(*this, getName()); }

LogicalResult ConstantOp::inferReturnTypes(
    MLIRContext *context, std::optional<Location> location, ValueRange operands,
    DictionaryAttr attributes, OpaqueProperties properties, RegionRange regions,
    SmallVectorImpl<Type> &inferredReturnTypes) {
  ConstantOp::Adaptor adaptor(operands, attributes, properties, regions);
  auto value = dyn_cast_if_present<TypedAttr>(adaptor.getValue());
  if (!value)
    return failure();
  inferredReturnTypes.push_back(TileType::get(context, {}, value.getType()));
  return success();
}

LogicalResult ConstantOp::verify() {
  Type valueType = getValue().getType();
  if (!(isa<FloatAttr>(getValue()) && valueType.isF32()) &&
      !(isa<IntegerAttr>(getValue()) &&
        (valueType.isSignlessInteger(32) || valueType.isSignlessInteger(1))))
    return emitOpError() << "value must be an f32, i32 or i1 number, got "
                         << getValue();
  return verifyResultType(*this, getType(), {}, valueType);
}

OpFoldResult ConstantOp::fold(FoldAdaptor) { return getValue(); }

LogicalResult LoadOp::verify() {
  BufferType buffer = getBuffer().getType();
  if (static_cast<int64_t>(getIndices().size()) != buffer.getRank())
    return emitOpError() << "buffer of rank " << buffer.getRank() << " takes "
                         << buffer.getRank() << " indices, got "
                         << getIndices().size();
  AxisSet axes;
  for (auto [i, index] : llvm::enumerate(getIndices())) {
    TileType indexType = tileType(index);
    if (!indexType.getElementType().isSignlessInteger(32))
      return emitOpError() << "index " << i << " must hold i32 elements, got "
                           << elementName(indexType.getElementType());
    axes = axes.unite(indexType.getAxes());
    BufferDim dim = buffer.getDims()[i];
    if (auto named = index.getDefiningOp<IndexOp>()) {
      if (!dim.acceptsIndex(named.getDim()))
        return emitOpError()
               << "index " << i << " is the '"
               << stringifyIndexDim(named.getDim())
               << "' index, which is out of the domain of buffer dimension "
               << i << " ('" << spell(dim) << "')";
    }
    if (auto constant = index.getDefiningOp<ConstantOp>()) {
      int64_t value = cast<IntegerAttr>(constant.getValue()).getInt();
      if (value < 0 ||
          (dim.kind == BufferDim::Kind::fixed && value >= dim.extent))
        return emitOpError() << "constant index " << i << " (" << value
                             << ") is out of the extent of buffer dimension "
                             << i << " ('" << spell(dim) << "')";
    }
  }
  return verifyResultType(*this, getType(), axes, buffer.getElementType());
}

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

template <typename OpT> static LogicalResult verifyBinary(OpT op) {
  TileType lhs = tileType(op.getLhs()), rhs = tileType(op.getRhs());
  if (failed(verifyElementKind(op, "lhs", lhs, OpT::kAllowedKinds)) ||
      failed(verifyElementKind(op, "rhs", rhs, OpT::kAllowedKinds)))
    return failure();
  if (lhs.getElementType() != rhs.getElementType())
    return op.emitOpError() << "operands must have the same element type, got "
                            << elementName(lhs.getElementType()) << " and "
                            << elementName(rhs.getElementType());
  return verifyResultType(op, op.getType(), lhs.getAxes().unite(rhs.getAxes()),
                          lhs.getElementType());
}

#define FLASHJIT_BINARY_VERIFIER(OpT)                                          \
  LogicalResult OpT::verify() { return verifyBinary(*this); }
FLASHJIT_BINARY_VERIFIER(AddOp)
FLASHJIT_BINARY_VERIFIER(SubOp)
FLASHJIT_BINARY_VERIFIER(MulOp)
FLASHJIT_BINARY_VERIFIER(DivOp)
FLASHJIT_BINARY_VERIFIER(RemOp)
FLASHJIT_BINARY_VERIFIER(MaxOp)
FLASHJIT_BINARY_VERIFIER(MinOp)
FLASHJIT_BINARY_VERIFIER(AndOp)
FLASHJIT_BINARY_VERIFIER(OrOp)
FLASHJIT_BINARY_VERIFIER(XorOp)
#undef FLASHJIT_BINARY_VERIFIER

template <typename OpT> static LogicalResult verifyUnary(OpT op) {
  return verifyElementKind(op, "operand", tileType(op.getX()),
                           OpT::kAllowedKinds);
}

#define FLASHJIT_UNARY_VERIFIER(OpT)                                           \
  LogicalResult OpT::verify() { return verifyUnary(*this); }
FLASHJIT_UNARY_VERIFIER(NegOp)
FLASHJIT_UNARY_VERIFIER(AbsOp)
FLASHJIT_UNARY_VERIFIER(ExpOp)
FLASHJIT_UNARY_VERIFIER(LogOp)
FLASHJIT_UNARY_VERIFIER(TanhOp)
FLASHJIT_UNARY_VERIFIER(SqrtOp)
FLASHJIT_UNARY_VERIFIER(SigmoidOp)
FLASHJIT_UNARY_VERIFIER(NotOp)
#undef FLASHJIT_UNARY_VERIFIER

LogicalResult CmpOp::verify() {
  TileType lhs = tileType(getLhs()), rhs = tileType(getRhs());
  bool equality =
      getPredicate() == CmpPredicate::eq || getPredicate() == CmpPredicate::ne;
  StringRef kinds = "number";
  if (equality && lhs.getElementType().isSignlessInteger(1))
    kinds = "bool";
  if (failed(verifyElementKind(*this, "lhs", lhs, kinds)) ||
      failed(verifyElementKind(*this, "rhs", rhs, kinds)))
    return failure();
  if (lhs.getElementType() != rhs.getElementType())
    return emitOpError() << "operands must have the same element type, got "
                         << elementName(lhs.getElementType()) << " and "
                         << elementName(rhs.getElementType());
  return verifyResultType(*this, getType(), lhs.getAxes().unite(rhs.getAxes()),
                          IntegerType::get(getContext(), 1));
}

LogicalResult CastOp::verify() {
  TileType from = tileType(getX());
  TileType to = getType();
  if (failed(verifyElementKind(*this, "result", to, "number")))
    return failure();
  Type source = from.getElementType();
  if (!source.isF32() && !source.isSignlessInteger(32) &&
      !source.isSignlessInteger(1))
    return emitOpError() << "operand must hold f32, i32 or i1 elements, got "
                         << elementName(source);
  if (source == to.getElementType())
    return emitOpError() << "casts " << elementName(source) << " to itself";
  return verifyResultType(*this, to, from.getAxes(), to.getElementType());
}

LogicalResult SelectOp::verify() {
  TileType cond = tileType(getCond()), a = tileType(getA()),
           b = tileType(getB());
  if (failed(verifyElementKind(*this, "condition", cond, "bool")))
    return failure();
  if (a.getElementType() != b.getElementType())
    return emitOpError() << "both choices must have the same element type, got "
                         << elementName(a.getElementType()) << " and "
                         << elementName(b.getElementType());
  if (isa<InputType>(a.getElementType()))
    return emitOpError() << "choices must hold f32, i32 or i1 elements, got "
                            "input";
  return verifyResultType(*this, getType(),
                          cond.getAxes().unite(a.getAxes()).unite(b.getAxes()),
                          a.getElementType());
}

//===----------------------------------------------------------------------===//
// The attention chain
//===----------------------------------------------------------------------===//

LogicalResult DotOp::verify() {
  TileType lhs = tileType(getLhs()), rhs = tileType(getRhs());
  for (auto [name, type] : {std::pair{"lhs", lhs}, std::pair{"rhs", rhs}}) {
    if (type.getAxes().size() != 2)
      return emitOpError() << name << " must vary along two axes, got "
                           << spell(type.getAxes());
    Type element = type.getElementType();
    if (!isa<InputType>(element) && !element.isF32())
      return emitOpError() << name << " must hold input or f32 elements, got "
                           << elementName(element);
  }
  SmallVector<Axis> l = lhs.getAxes().axes(), r = rhs.getAxes().axes();
  Axis rhsContracted = getTransposeRhs() ? r[1] : r[0];
  Axis rhsKept = getTransposeRhs() ? r[0] : r[1];
  if (l[1] != rhsContracted)
    return emitOpError() << "contracts lhs axis '" << stringifyAxis(l[1])
                         << "' with rhs axis '" << stringifyAxis(rhsContracted)
                         << "'; they must be the same axis";
  if (l[0] >= rhsKept)
    return emitOpError() << "result axes [" << stringifyAxis(l[0]) << ", "
                         << stringifyAxis(rhsKept)
                         << "] are not distinct and in the order q, kv, d";
  return verifyResultType(*this, getType(), {l[0], rhsKept},
                          Float32Type::get(getContext()));
}

/// Checks that `value` is a score tile: `!tile.tile<[q, kv], f32>`.
static LogicalResult verifyScoreTile(Operation *op, StringRef what,
                                     Value value) {
  TileType type = tileType(value);
  AxisSet scoreAxes{Axis::q, Axis::kv};
  if (type.getAxes() == scoreAxes && type.getElementType().isF32())
    return success();
  return op->emitOpError() << what << " must be a score tile "
                           << spellTile(scoreAxes,
                                        Float32Type::get(op->getContext()))
                           << ", got " << type;
}

/// Returns the first op in the backward slice of `value` that computes with
/// scores or the Q/K/V tiles, if any.
static Operation *findScoreDependence(Value value) {
  SmallVector<Value> worklist{value};
  llvm::SmallPtrSet<Operation *, 16> visited;
  while (!worklist.empty()) {
    Operation *def = worklist.pop_back_val().getDefiningOp();
    if (!def || !visited.insert(def).second)
      continue;
    if (isa<DotOp, SoftmaxOp, DropoutOp, MaskOp, LoadQOp, LoadKOp, LoadVOp>(
            def))
      return def;
    llvm::append_range(worklist, def->getOperands());
  }
  return nullptr;
}

LogicalResult MaskOp::verify() {
  if (failed(verifyScoreTile(*this, "masked operand", getScores())))
    return failure();
  TileType keep = tileType(getKeep());
  if (!keep.getElementType().isSignlessInteger(1))
    return emitOpError() << "mask must be a boolean (i1) tile, got "
                         << elementName(keep.getElementType()) << " elements";
  if (!keep.getAxes().isSubsetOf({Axis::q, Axis::kv}))
    return emitOpError() << "mask varies along " << spell(keep.getAxes())
                         << ", outside the score axes [q, kv]";
  if (Operation *dep = findScoreDependence(getKeep()))
    return emitOpError() << "mask depends on the scores through '"
                         << dep->getName()
                         << "'; a mask may use only indices, extents, "
                            "parameters, buffers and constants";
  return success();
}

LogicalResult SoftmaxOp::inferReturnTypes(
    MLIRContext *context, std::optional<Location> location, ValueRange operands,
    DictionaryAttr attributes, OpaqueProperties properties, RegionRange regions,
    SmallVectorImpl<Type> &inferredReturnTypes) {
  SoftmaxOp::Adaptor adaptor(operands, attributes, properties, regions);
  auto f32 = Float32Type::get(context);
  inferredReturnTypes.push_back(
      TileType::get(context, {Axis::q, Axis::kv}, f32));
  inferredReturnTypes.push_back(TileType::get(context, {Axis::q}, f32));
  return success();
}

LogicalResult SoftmaxOp::verify() {
  return verifyScoreTile(*this, "operand", getScores());
}

LogicalResult DropoutOp::verify() {
  double rate = getRate().convertToDouble();
  // Written so that NaN fails too.
  if (!(rate >= 0.0 && rate < 1.0))
    return emitOpError() << "rate must be in [0, 1), got "
                         << spell(llvm::format("%g", rate));
  if (failed(verifyScoreTile(*this, "operand", getProbs())))
    return failure();
  return success();
}
