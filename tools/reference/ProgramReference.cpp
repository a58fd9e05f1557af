//===- ProgramReference.cpp - any tile program on the CPU, in float64 -----===//
//
// The program's score expression S is compiled once into a list of
// instructions over numbered slots, then evaluated at every (batch, head,
// q, kv) in float64. Each instruction runs at the rate its result changes
// (once per head, per query row or per score element), so a row's index
// arithmetic is not redone for every key.
//
//===----------------------------------------------------------------------===//

#include "tools/reference/ProgramReference.h"

#include "compiler/frontend/ProgramState.h"
#include "dialects/tile/TileDialect.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/TypeSwitch.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <optional>
#include <thread>

using namespace flashjit;
using namespace flashjit::reference;
using mlir::Operation;
using mlir::Value;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

/// The element types of the score expression (Q, K and V stay behind the
/// products).
enum class Kind : uint8_t { f32, i32, i1 };

/// How often a value changes: once per (batch, head), per query row or per
/// score element, read off its tile's axes. An op's operands never change
/// faster than its result.
enum class Rate : uint8_t { perHead, perRow, perElement };

/// One value at one element. f32 values are dual numbers: `tangent` is the
/// derivative by the raw score q·kᵀ. i32 and i1 values live in `integer`.
struct Element {
  double value = 0, tangent = 0;
  int32_t integer = 0;
};

enum class Code : uint8_t {
  rawScore,
  constant, // also parameters, extents and the softmax scale, bound early
  index,
  load,
  add,
  sub,
  mul,
  div,
  rem,
  max,
  min,
  logicalAnd,
  logicalOr,
  logicalXor,
  cmp,
  neg,
  abs,
  exp,
  log,
  tanh,
  sqrt,
  sigmoid,
  logicalNot,
  cast,
  select,
  mask,
};

struct Instruction {
  explicit Instruction(Code code) : code(code) {}

  Code code;
  Kind kind = Kind::f32;       ///< of the operands (select: of the choices)
  Kind resultKind = Kind::f32; ///< differs for cmp and cast
  int result = 0;
  std::array<int, 3> operands = {-1, -1, -1};
  /// index: the tile::IndexDim; cmp: the tile::CmpPredicate; load: the
  /// buffer's number.
  int aux = 0;
  Element constant;
  int op = 0; ///< into Compiled::opNames, for error messages
};

} // namespace

struct ProgramReference::Compiled {
  ProblemShape shape;
  uint64_t seed = 0, offset = 0;
  std::vector<HostBuffer> buffers;
  std::vector<Instruction> perHead, perRow, perElement;
  int numSlots = 0;
  int scoreSlot = 0; ///< S, what the softmax receives
  bool readsRawScore = false;
  std::vector<double> dropoutRates; ///< outermost last
  std::vector<std::string> opNames;
};

using Compiled = ProgramReference::Compiled;

//===----------------------------------------------------------------------===//
// Reading the program
//===----------------------------------------------------------------------===//

namespace {

/// `'tile.mul' at file:3:5`, or what defines a block argument.
std::string describe(Operation *op) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << "'" << op->getName() << "' at " << formatLocation(op->getLoc());
  return text;
}

std::string describe(Value value) {
  Operation *def = value.getDefiningOp();
  return def ? describe(def) : std::string("a block argument");
}

const char *spell(ScalarType type) {
  return type == ScalarType::f32 ? "f32" : "i32";
}

/// Lists names for an error: "a, b" or "none".
template <typename Range, typename Name>
std::string listNames(const Range &range, Name name) {
  std::string list;
  for (const auto &item : range)
    list += (list.empty() ? "" : ", ") + name(item);
  return list.empty() ? "none" : list;
}

/// Where the pieces of the attention form are.
struct AttentionForm {
  Value scores;
  std::vector<double> dropoutRates;
};

Expected<AttentionForm> matchAttentionForm(tile::ProgramOp program) {
  const std::string form = "the reference evaluates programs of the form "
                           "tile.store(tile.dot(p, V), lse) with p, lse = "
                           "tile.softmax(S), p optionally through "
                           "tile.dropout; ";
  tile::StoreOp store = program.getStore();
  if (!store)
    return Error("program '" + program.getSymName().str() +
                 "' has no tile.store");
  auto output = store.getO().getDefiningOp<tile::DotOp>();
  if (!output || output.getTransposeRhs() ||
      !output.getRhs().getDefiningOp<tile::LoadVOp>())
    return Error(form + "here O comes from " + describe(store.getO()));
  AttentionForm result;
  Value probs = output.getLhs();
  std::vector<double> rates;
  while (auto dropout = probs.getDefiningOp<tile::DropoutOp>()) {
    rates.push_back(dropout.getRate().convertToDouble());
    probs = dropout.getProbs();
  }
  result.dropoutRates.assign(rates.rbegin(), rates.rend());
  auto softmax = probs.getDefiningOp<tile::SoftmaxOp>();
  if (!softmax || probs != softmax.getProbs())
    return Error(form + "here p comes from " + describe(probs));
  if (store.getLse() != softmax.getLse())
    return Error(form + "here lse comes from " + describe(store.getLse()) +
                 ", not from the softmax of p");
  result.scores = softmax.getScores();
  return result;
}

/// The launch extent a buffer dimension spelled `dim` needs, and whether a
/// larger one is fine too.
std::pair<int64_t, bool> neededExtent(const std::string &dim,
                                      const ProblemShape &s) {
  if (dim == "batch")
    return {s.batch, false};
  if (dim == "head")
    return {s.headsQ, false};
  if (dim == "q")
    return {s.seqlenQ, false};
  if (dim == "kv")
    return {s.seqlenKv, false};
  if (dim == "token") // indexed by query and key positions alike
    return {std::max(s.seqlenQ, s.seqlenKv), true};
  if (dim == "?")
    return {1, true};
  return {std::stoll(dim), false};
}

std::optional<Error> checkBufferShape(const BufferInfo &declared,
                                      const HostBuffer &given,
                                      const ProblemShape &shape) {
  const std::string name = "buffer '" + declared.name + "'";
  if (given.type() != declared.type)
    return Error(name + " is " + spell(given.type()) + ", declared " +
                 spell(declared.type));
  if (given.shape.size() != declared.dims.size())
    return Error(name + " has rank " + std::to_string(given.shape.size()) +
                 ", declared " + std::to_string(declared.dims.size()));
  size_t count = 1;
  for (size_t i = 0; i < declared.dims.size(); ++i) {
    auto [need, atLeast] = neededExtent(declared.dims[i], shape);
    int64_t have = given.shape[i];
    if (atLeast ? have < need : have != need)
      return Error(name + " dimension " + std::to_string(i) + " ('" +
                   declared.dims[i] + "') has " + std::to_string(have) +
                   " entries, " + (atLeast ? "at least " : "expected ") +
                   std::to_string(need));
    count *= size_t(have);
  }
  if (given.size() != count)
    return Error(name + " holds " + std::to_string(given.size()) +
                 " values, its shape needs " + std::to_string(count));
  return std::nullopt;
}

std::optional<Error> checkShape(const ProblemShape &s) {
  if (s.batch <= 0 || s.headsQ <= 0 || s.headsKv <= 0 || s.seqlenQ <= 0 ||
      s.seqlenKv <= 0 || s.headDim <= 0)
    return Error("every extent of the problem must be positive");
  if (s.headsQ % s.headsKv != 0)
    return Error(std::to_string(s.headsQ) +
                 " query heads are not a multiple of " +
                 std::to_string(s.headsKv) + " key/value heads");
  return std::nullopt;
}

/// Checks that `args` binds exactly what `program` declares, each with the
/// declared type and a fitting shape.
std::optional<Error> checkArguments(const Program &program,
                                    const ProblemShape &shape,
                                    const LaunchArguments &args) {
  const std::string of = " of program '" + program.name() + "'";
  std::vector<ParamInfo> params = program.params();
  for (const ParamInfo &p : params) {
    auto it = args.params.find(p.name);
    if (it == args.params.end())
      return Error("program '" + program.name() + "' needs the parameter '" +
                   p.name + "' (" + spell(p.type) + ")");
    ScalarType given =
        it->second.index() == 0 ? ScalarType::f32 : ScalarType::i32;
    if (given != p.type)
      return Error("parameter '" + p.name + "'" + of + " is " + spell(p.type) +
                   ", got " + spell(given));
  }
  for (const auto &[name, value] : args.params)
    if (std::none_of(params.begin(), params.end(),
                     [&](const ParamInfo &p) { return p.name == name; }))
      return Error(
          "'" + name + "' is not a parameter" + of + "; it declares: " +
          listNames(params, [](const ParamInfo &p) { return p.name; }));
  std::vector<BufferInfo> buffers = program.buffers();
  for (const BufferInfo &b : buffers) {
    auto it = args.buffers.find(b.name);
    if (it == args.buffers.end())
      return Error("program '" + program.name() + "' needs the buffer '" +
                   b.name + "'");
    if (std::optional<Error> e = checkBufferShape(b, it->second, shape))
      return e;
  }
  for (const auto &[name, buffer] : args.buffers)
    if (std::none_of(buffers.begin(), buffers.end(),
                     [&](const BufferInfo &b) { return b.name == name; }))
      return Error(
          "'" + name + "' is not a buffer" + of + "; it declares: " +
          listNames(buffers, [](const BufferInfo &b) { return b.name; }));
  return std::nullopt;
}

/// Compiles the score expression S into instructions, binding parameters,
/// extents and the scale as constants.
class ScoreCompiler {
public:
  ScoreCompiler(Compiled &out, const LaunchArguments &args)
      : out(out), args(args) {}

  std::optional<Error> compile(tile::ProgramOp program, Value scores);

private:
  std::optional<Error> emit(Operation *op);
  Expected<Instruction> translate(Operation *op);
  static Instruction constant(Kind kind, Element value);
  Expected<Instruction> rawScore(tile::DotOp dot);
  Expected<Instruction> load(tile::LoadOp load);
  Expected<Instruction> elementwise(Operation *op, Code code);
  Error cannotEvaluate(Operation *op, const std::string &why);

  Compiled &out;
  const LaunchArguments &args;
  llvm::DenseMap<Value, int> slots;
  llvm::DenseMap<Value, int> bufferNumbers;
};

/// The ops S depends on, not looking through the raw score's product.
llvm::SetVector<Operation *> sliceOf(Value scores) {
  llvm::SetVector<Operation *> slice;
  std::vector<Value> worklist{scores};
  while (!worklist.empty()) {
    Operation *def = worklist.back().getDefiningOp();
    worklist.pop_back();
    if (!def || !slice.insert(def) || mlir::isa<tile::DotOp>(def))
      continue;
    for (Value operand : def->getOperands())
      worklist.push_back(operand);
  }
  return slice;
}

std::optional<Kind> kindOf(mlir::Type type) {
  mlir::Type element = type;
  if (auto tileType = mlir::dyn_cast<tile::TileType>(type))
    element = tileType.getElementType();
  if (element.isF32())
    return Kind::f32;
  if (element.isSignlessInteger(32))
    return Kind::i32;
  if (element.isSignlessInteger(1))
    return Kind::i1;
  return std::nullopt;
}

Rate rateOf(Value value) {
  tile::AxisSet axes = mlir::cast<tile::TileType>(value.getType()).getAxes();
  if (axes.contains(tile::Axis::kv))
    return Rate::perElement;
  return axes.contains(tile::Axis::q) ? Rate::perRow : Rate::perHead;
}

std::optional<Error> ScoreCompiler::compile(tile::ProgramOp program,
                                            Value scores) {
  llvm::SetVector<Operation *> slice = sliceOf(scores);
  // Program order is an order in which operands come first.
  for (Operation &op : program.getBody().front())
    if (slice.contains(&op))
      if (std::optional<Error> e = emit(&op))
        return e;
  auto it = slots.find(scores);
  if (it == slots.end())
    return Error("the scores S come from " + describe(scores) +
                 ", outside the program");
  out.scoreSlot = it->second;
  out.numSlots = int(slots.size());
  return std::nullopt;
}

std::optional<Error> ScoreCompiler::emit(Operation *op) {
  if (auto buffer = mlir::dyn_cast<tile::BufferOp>(op)) {
    bufferNumbers[buffer.getResult()] = int(out.buffers.size());
    out.buffers.push_back(args.buffers.at(buffer.getName().str()));
    return std::nullopt;
  }
  Expected<Instruction> instruction = translate(op);
  if (!instruction)
    return instruction.error();
  Value result = op->getResult(0);
  instruction->result = int(slots.size());
  instruction->op = int(out.opNames.size());
  out.opNames.push_back(describe(op));
  slots[result] = instruction->result;
  switch (rateOf(result)) {
  case Rate::perHead:
    out.perHead.push_back(*instruction);
    break;
  case Rate::perRow:
    out.perRow.push_back(*instruction);
    break;
  case Rate::perElement:
    out.perElement.push_back(*instruction);
    break;
  }
  return std::nullopt;
}

Error ScoreCompiler::cannotEvaluate(Operation *op, const std::string &why) {
  return Error("the reference cannot evaluate " + describe(op) + ": " + why);
}

Expected<Instruction> ScoreCompiler::translate(Operation *op) {
  using namespace tile;
  const ProblemShape &s = out.shape;
  auto integer = [](int64_t v) {
    Element e;
    e.integer = int32_t(v);
    return e;
  };
  auto real = [](double v) {
    Element e;
    e.value = v;
    return e;
  };
  return llvm::TypeSwitch<Operation *, Expected<Instruction>>(op)
      .Case([&](DotOp dot) { return rawScore(dot); })
      .Case([&](SoftmaxScaleOp) {
        // The scale is an f32 at launch.
        return constant(Kind::f32, real(s.scale));
      })
      .Case([&](ExtentOp extent) {
        int64_t sizes[] = {s.batch, s.headsQ, s.seqlenQ, s.seqlenKv};
        return constant(Kind::i32, integer(sizes[int(extent.getDim())]));
      })
      .Case([&](ParamOp param) {
        const ParamValue &v = args.params.at(param.getName().str());
        if (const float *f = std::get_if<float>(&v))
          return constant(Kind::f32, real(*f));
        return constant(Kind::i32, integer(std::get<int32_t>(v)));
      })
      .Case([&](ConstantOp c) -> Expected<Instruction> {
        if (auto f = mlir::dyn_cast<mlir::FloatAttr>(c.getValue()))
          return constant(Kind::f32, real(f.getValueAsDouble()));
        llvm::APInt bits =
            mlir::cast<mlir::IntegerAttr>(c.getValue()).getValue();
        if (bits.getBitWidth() == 1)
          return constant(Kind::i1, integer(bits.isOne()));
        return constant(Kind::i32, integer(bits.getSExtValue()));
      })
      .Case([&](IndexOp index) {
        Instruction in(Code::index);
        in.kind = in.resultKind = Kind::i32;
        in.aux = int(index.getDim());
        return in;
      })
      .Case([&](LoadOp l) { return load(l); })
      .Case([&](AddOp) { return elementwise(op, Code::add); })
      .Case([&](SubOp) { return elementwise(op, Code::sub); })
      .Case([&](MulOp) { return elementwise(op, Code::mul); })
      .Case([&](DivOp) { return elementwise(op, Code::div); })
      .Case([&](RemOp) { return elementwise(op, Code::rem); })
      .Case([&](MaxOp) { return elementwise(op, Code::max); })
      .Case([&](MinOp) { return elementwise(op, Code::min); })
      .Case([&](AndOp) { return elementwise(op, Code::logicalAnd); })
      .Case([&](OrOp) { return elementwise(op, Code::logicalOr); })
      .Case([&](XorOp) { return elementwise(op, Code::logicalXor); })
      .Case([&](CmpOp cmp) -> Expected<Instruction> {
        Expected<Instruction> in = elementwise(op, Code::cmp);
        if (in)
          in->aux = int(cmp.getPredicate());
        return in;
      })
      .Case([&](NegOp) { return elementwise(op, Code::neg); })
      .Case([&](AbsOp) { return elementwise(op, Code::abs); })
      .Case([&](ExpOp) { return elementwise(op, Code::exp); })
      .Case([&](LogOp) { return elementwise(op, Code::log); })
      .Case([&](TanhOp) { return elementwise(op, Code::tanh); })
      .Case([&](SqrtOp) { return elementwise(op, Code::sqrt); })
      .Case([&](SigmoidOp) { return elementwise(op, Code::sigmoid); })
      .Case([&](NotOp) { return elementwise(op, Code::logicalNot); })
      .Case([&](CastOp) { return elementwise(op, Code::cast); })
      .Case([&](SelectOp) -> Expected<Instruction> {
        Expected<Instruction> in = elementwise(op, Code::select);
        if (in) // the kind of the choices, not of the condition
          in->kind = *kindOf(op->getOperand(1).getType());
        return in;
      })
      .Case([&](MaskOp) { return elementwise(op, Code::mask); })
      .Case([&](SoftmaxOp) -> Expected<Instruction> {
        return cannotEvaluate(op, "a softmax inside the scores S of the "
                                  "softmax (softmax of softmax)");
      })
      .Default([&](Operation *) -> Expected<Instruction> {
        return cannotEvaluate(op, "it has no per-element meaning inside the "
                                  "scores S");
      });
}

Instruction ScoreCompiler::constant(Kind kind, Element value) {
  Instruction in(Code::constant);
  in.kind = in.resultKind = kind;
  in.constant = value;
  return in;
}

Expected<Instruction> ScoreCompiler::rawScore(tile::DotOp dot) {
  if (!dot.getTransposeRhs() || !dot.getLhs().getDefiningOp<tile::LoadQOp>() ||
      !dot.getRhs().getDefiningOp<tile::LoadKOp>())
    return cannotEvaluate(dot, "the only product inside the scores S is "
                               "q·kᵀ (tile.dot %q, %k transpose_rhs)");
  out.readsRawScore = true;
  return Instruction(Code::rawScore);
}

Expected<Instruction> ScoreCompiler::load(tile::LoadOp load) {
  Instruction in(Code::load);
  in.kind = in.resultKind = *kindOf(load.getType());
  in.aux = bufferNumbers.at(load.getBuffer());
  for (auto [i, index] : llvm::enumerate(load.getIndices()))
    in.operands[i] = slots.at(index);
  return in;
}

Expected<Instruction> ScoreCompiler::elementwise(Operation *op, Code code) {
  Instruction in(code);
  std::optional<Kind> operandKind = kindOf(op->getOperand(0).getType());
  std::optional<Kind> resultKind = kindOf(op->getResult(0).getType());
  if (!operandKind || !resultKind || op->getNumOperands() > 3)
    return cannotEvaluate(op, "its operands are not f32, i32 or i1 tiles");
  in.kind = *operandKind;
  in.resultKind = *resultKind;
  for (auto [i, operand] : llvm::enumerate(op->getOperands())) {
    auto it = slots.find(operand);
    if (it == slots.end())
      return cannotEvaluate(op, "operand " + std::to_string(i) +
                                    " comes from " + describe(operand));
    in.operands[i] = it->second;
  }
  return in;
}

} // namespace

Expected<ProgramReference> ProgramReference::create(const Program &program,
                                                    const ProblemShape &shape,
                                                    LaunchArguments arguments) {
  if (std::optional<Error> e = checkShape(shape))
    return *e;
  if (std::optional<Error> e = checkArguments(program, shape, arguments))
    return *e;
  auto programOp =
      mlir::cast<tile::ProgramOp>(program.module().getBody()->front());
  Expected<AttentionForm> form = matchAttentionForm(programOp);
  if (!form)
    return form.error();
  auto compiled = std::make_shared<Compiled>();
  compiled->shape = shape;
  compiled->seed = arguments.seed;
  compiled->offset = arguments.offset;
  compiled->dropoutRates = form->dropoutRates;
  ScoreCompiler compiler(*compiled, arguments);
  if (std::optional<Error> e = compiler.compile(programOp, form->scores))
    return *e;
  return ProgramReference(std::move(compiled));
}

ProgramReference::ProgramReference(std::shared_ptr<const Compiled> compiled)
    : compiled_(std::move(compiled)) {}

const ProblemShape &ProgramReference::shape() const { return compiled_->shape; }

//===----------------------------------------------------------------------===//
// Evaluating one element
//===----------------------------------------------------------------------===//

namespace {

/// A zero tangent stays zero whatever it is scaled by: the derivative of a
/// masked (-inf) or overflowed value that does not depend on the score is
/// 0, not 0 * inf.
double scaled(double tangent, double factor) {
  return tangent == 0 ? 0 : tangent * factor;
}

Element real(double value, double tangent) {
  Element e;
  e.value = value;
  e.tangent = tangent;
  return e;
}

Element integer(int64_t value) {
  Element e;
  e.integer = int32_t(value);
  return e;
}

/// i32 arithmetic wraps, as the kernels' two's complement does.
int32_t wrap(int64_t value) { return int32_t(uint32_t(uint64_t(value))); }

Element floatBinary(Code code, Element a, Element b) {
  switch (code) {
  case Code::add:
    return real(a.value + b.value, a.tangent + b.tangent);
  case Code::sub:
    return real(a.value - b.value, a.tangent - b.tangent);
  case Code::mul:
    return real(a.value * b.value,
                scaled(a.tangent, b.value) + scaled(b.tangent, a.value));
  case Code::div: {
    double q = a.value / b.value;
    // (da - q db) / b
    return real(q, scaled(a.tangent - scaled(b.tangent, q), 1 / b.value));
  }
  case Code::max:
  case Code::min: {
    // NaN-propagating; on a tie the left operand's derivative.
    if (std::isnan(a.value) || std::isnan(b.value))
      return real(std::nan(""), 0);
    bool left = code == Code::max ? a.value >= b.value : a.value <= b.value;
    return left ? a : b;
  }
  default:
    break;
  }
  llvm_unreachable("not an f32 binary op");
}

bool compare(int predicate, double a, double b) {
  // C++'s comparisons are the ordered ones, != the unordered one, as the
  // dialect's f32 predicates.
  switch (tile::CmpPredicate(predicate)) {
  case tile::CmpPredicate::eq:
    return a == b;
  case tile::CmpPredicate::ne:
    return a != b;
  case tile::CmpPredicate::lt:
    return a < b;
  case tile::CmpPredicate::le:
    return a <= b;
  case tile::CmpPredicate::gt:
    return a > b;
  case tile::CmpPredicate::ge:
    return a >= b;
  }
  llvm_unreachable("unknown predicate");
}

Element floatUnary(Code code, Element x) {
  double v = x.value, t = x.tangent;
  switch (code) {
  case Code::neg:
    return real(-v, -t);
  case Code::abs:
    return v < 0 ? real(-v, -t) : real(std::abs(v), t);
  case Code::exp: {
    double e = std::exp(v);
    return real(e, scaled(t, e));
  }
  case Code::log:
    return real(std::log(v), scaled(t, 1 / v));
  case Code::tanh: {
    double th = std::tanh(v);
    return real(th, scaled(t, 1 - th * th));
  }
  case Code::sqrt: {
    double r = std::sqrt(v);
    return real(r, scaled(t, 1 / (2 * r)));
  }
  case Code::sigmoid: {
    double s = 1 / (1 + std::exp(-v));
    return real(s, scaled(t, s * (1 - s)));
  }
  default:
    break;
  }
  llvm_unreachable("not an f32 unary op");
}

/// f32 to i32 rounds toward zero; out of range it saturates and NaN gives
/// 0, as the GPU's cvt.rzi.s32.f32 does.
int32_t toInteger(double v) {
  if (std::isnan(v))
    return 0;
  v = std::trunc(v);
  v = std::clamp(v, double(std::numeric_limits<int32_t>::min()),
                 double(std::numeric_limits<int32_t>::max()));
  return int32_t(v);
}

Element cast(Kind from, Kind to, Element x) {
  if (from == Kind::f32)
    return integer(toInteger(x.value));
  if (to == Kind::i32) // from i1: 0 or 1
    return integer(x.integer);
  // i32 to f32 rounds to the nearest f32.
  return real(double(float(x.integer)), 0);
}

/// Evaluates instructions at one (batch, head, q, kv); the first value the
/// ops leave undefined stops it with a message.
class ElementEvaluator {
public:
  explicit ElementEvaluator(const Compiled &c)
      : c(c), slots(size_t(c.numSlots)) {}

  int b = 0, h = 0, i = 0, j = 0;
  double raw = 0; ///< q·kᵀ at (i, j)
  std::optional<std::string> error;

  bool run(const std::vector<Instruction> &instructions) {
    for (const Instruction &in : instructions)
      if (!step(in))
        return false;
    return true;
  }
  const Element &score() const { return slots[size_t(c.scoreSlot)]; }

private:
  const Element &operand(const Instruction &in, int n) const {
    return slots[size_t(in.operands[size_t(n)])];
  }
  bool step(const Instruction &in);
  std::optional<Element> integerBinary(const Instruction &in, int32_t a,
                                       int32_t b);
  Element load(const Instruction &in) const;
  int32_t index(int dim) const;
  bool fail(const Instruction &in, const std::string &why);

  const Compiled &c;
  std::vector<Element> slots;
};

bool ElementEvaluator::fail(const Instruction &in, const std::string &why) {
  error = c.opNames[size_t(in.op)] + " at (batch " + std::to_string(b) +
          ", head " + std::to_string(h) + ", q " + std::to_string(i) + ", kv " +
          std::to_string(j) + "): " + why;
  return false;
}

int32_t ElementEvaluator::index(int dim) const {
  switch (tile::IndexDim(dim)) {
  case tile::IndexDim::batch:
    return b;
  case tile::IndexDim::head: // the query head, with GQA too
    return h;
  case tile::IndexDim::q:
    return i;
  case tile::IndexDim::kv:
    return j;
  }
  llvm_unreachable("unknown index");
}

Element ElementEvaluator::load(const Instruction &in) const {
  const HostBuffer &buffer = c.buffers[size_t(in.aux)];
  // Every index is clamped into the buffer's extent, computed or not
  // (indices straight from tile.index are in range anyway).
  size_t flat = 0;
  for (size_t d = 0; d < buffer.shape.size(); ++d) {
    int64_t at = std::clamp<int64_t>(operand(in, int(d)).integer, 0,
                                     buffer.shape[d] - 1);
    flat = flat * size_t(buffer.shape[d]) + size_t(at);
  }
  if (const auto *f = std::get_if<std::vector<float>>(&buffer.data))
    return real(double((*f)[flat]), 0);
  return integer(std::get<std::vector<int32_t>>(buffer.data)[flat]);
}

std::optional<Element> ElementEvaluator::integerBinary(const Instruction &in,
                                                       int32_t a, int32_t b) {
  switch (in.code) {
  case Code::add:
    return integer(wrap(int64_t(a) + b));
  case Code::sub:
    return integer(wrap(int64_t(a) - b));
  case Code::mul:
    return integer(wrap(int64_t(a) * b));
  case Code::div:
  case Code::rem:
    // Undefined in the kernels, so no yardstick either.
    if (b == 0) {
      fail(in, "i32 division by zero");
      return std::nullopt;
    }
    if (a == std::numeric_limits<int32_t>::min() && b == -1) {
      fail(in, "i32 division of -2147483648 by -1 overflows");
      return std::nullopt;
    }
    // C++ rounds toward zero and gives the remainder the dividend's sign,
    // as the dialect documents.
    return integer(in.code == Code::div ? a / b : a % b);
  case Code::max:
    return integer(std::max(a, b));
  case Code::min:
    return integer(std::min(a, b));
  case Code::logicalAnd:
    return integer(a & b);
  case Code::logicalOr:
    return integer(a | b);
  case Code::logicalXor:
    return integer(a ^ b);
  default:
    break;
  }
  llvm_unreachable("not an integer binary op");
}

bool ElementEvaluator::step(const Instruction &in) {
  Element &result = slots[size_t(in.result)];
  switch (in.code) {
  case Code::rawScore:
    result = real(raw, 1); // the seed of the dual numbers
    return true;
  case Code::constant:
    result = in.constant;
    return true;
  case Code::index:
    result = integer(index(in.aux));
    return true;
  case Code::load:
    result = load(in);
    return true;
  case Code::cmp: {
    const Element &a = operand(in, 0), &b = operand(in, 1);
    result =
        integer(in.kind == Kind::f32 ? compare(in.aux, a.value, b.value)
                                     : compare(in.aux, a.integer, b.integer));
    return true;
  }
  case Code::neg:
  case Code::abs:
  case Code::exp:
  case Code::log:
  case Code::tanh:
  case Code::sqrt:
  case Code::sigmoid:
    if (in.kind == Kind::f32) {
      result = floatUnary(in.code, operand(in, 0));
      return true;
    }
    {
      int64_t x = operand(in, 0).integer;
      result = integer(wrap(in.code == Code::neg ? -x : std::abs(x)));
    }
    return true;
  case Code::logicalNot:
    result = integer(1 - operand(in, 0).integer);
    return true;
  case Code::cast:
    result = cast(in.kind, in.resultKind, operand(in, 0));
    return true;
  case Code::select:
    result = operand(in, 0).integer ? operand(in, 1) : operand(in, 2);
    return true;
  case Code::mask:
    result = operand(in, 1).integer ? operand(in, 0) : real(-kInf, 0);
    return true;
  default:
    break;
  }
  // The binary arithmetic and logic ops.
  const Element &a = operand(in, 0), &b = operand(in, 1);
  if (in.kind == Kind::f32) {
    result = floatBinary(in.code, a, b);
    return true;
  }
  std::optional<Element> value = integerBinary(in, a.integer, b.integer);
  if (!value)
    return false;
  result = *value;
  return true;
}

//===----------------------------------------------------------------------===//
// Attention over the evaluated scores
//===----------------------------------------------------------------------===//

/// A range of query rows of one (batch, key head) over the query heads of
/// its GQA group, with dK and dV partials of its own (as Reference.cpp).
struct Task {
  int b, hk, rowBegin, rowEnd;
  std::vector<double> dk, dv;
  std::optional<std::string> error;
};

/// Each dropout scales what it keeps by 1 / (1 - rate).
double rescaleOf(const std::vector<double> &rates) {
  double rescale = 1;
  for (double rate : rates)
    rescale /= 1 - rate;
  return rescale;
}

/// The kernels' algorithm over the scores S the instructions give.
class AttentionEvaluator {
public:
  AttentionEvaluator(const Compiled &c, const std::vector<float> &q,
                     const std::vector<float> &k, const std::vector<float> &v,
                     const std::vector<float> &dO, Precision precision)
      : c(c), s(c.shape), q(q), k(k), v(v), dO(dO),
        low(precision == Precision::lowPrecision), withGrads(!dO.empty()),
        rescale(rescaleOf(c.dropoutRates)) {}

  Expected<Outputs> run();

private:
  /// One row's scores, their derivatives by the raw scores, the
  /// probabilities and the dropped-and-rescaled probabilities, by key.
  struct Row {
    std::vector<double> score, tangent, prob, dropped;
  };

  void runTask(Task &t);
  bool scoreRow(ElementEvaluator &e, Row &r, int h, int i);
  void softmaxRow(Row &r, int b, int h, int i);
  void gradientRow(Row &r, Task &t, int h, int i);
  std::vector<Task> makeTasks() const;
  void sumPartials(const std::vector<Task> &tasks);
  bool keeps(int b, int h, int i, int j) const;

  // Low precision: values the kernels keep in the input type are rounded.
  double rnd(double x) const {
    return low ? double(round(float(x), s.type)) : x;
  }
  // Low precision accumulates in f32.
  double acc(double x) const { return low ? double(float(x)) : x; }

  double Q(int b, int h, int i, int d) const {
    return double(
        q[((size_t(b) * s.headsQ + h) * s.seqlenQ + i) * s.headDim + d]);
  }
  double K(int b, int hk, int j, int d) const {
    return double(
        k[((size_t(b) * s.headsKv + hk) * s.seqlenKv + j) * s.headDim + d]);
  }
  double V(int b, int hk, int j, int d) const {
    return double(
        v[((size_t(b) * s.headsKv + hk) * s.seqlenKv + j) * s.headDim + d]);
  }
  size_t row(int b, int h, int i) const {
    return (size_t(b) * s.headsQ + h) * s.seqlenQ + i;
  }

  const Compiled &c;
  const ProblemShape &s;
  const std::vector<float> &q, &k, &v, &dO;
  const bool low, withGrads;
  const double rescale; ///< of the kept probabilities
  Outputs out;
};

bool AttentionEvaluator::keeps(int b, int h, int i, int j) const {
  for (double rate : c.dropoutRates)
    if (!dropoutKeeps(c.seed, c.offset, uint32_t(b * s.headsQ + h), i, j, rate))
      return false;
  return true;
}

/// Evaluates S and its derivative along row (h, i); false on an undefined
/// value.
bool AttentionEvaluator::scoreRow(ElementEvaluator &e, Row &r, int h, int i) {
  e.i = i;
  if (!e.run(c.perRow))
    return false;
  const int hk = h / (s.headsQ / s.headsKv);
  for (int j = 0; j < s.seqlenKv; ++j) {
    double dot = 0;
    if (c.readsRawScore)
      for (int d = 0; d < s.headDim; ++d)
        dot = acc(dot + Q(e.b, h, i, d) * K(e.b, hk, j, d));
    e.j = j;
    e.raw = dot;
    if (!e.run(c.perElement))
      return false;
    r.score[size_t(j)] = acc(e.score().value);
    r.tangent[size_t(j)] = e.score().tangent;
  }
  return true;
}

void AttentionEvaluator::softmaxRow(Row &r, int b, int h, int i) {
  const int hk = h / (s.headsQ / s.headsKv), D = s.headDim;
  double m = -kInf;
  for (double x : r.score)
    m = std::max(m, x);
  size_t at = row(b, h, i);
  double *o = &out.o[at * D];
  std::fill(r.prob.begin(), r.prob.end(), 0.0);
  if (m == -kInf) {
    out.lse[at] = m; // a row the masks remove: O = 0, lse = -inf
    return;
  }
  double l = 0;
  for (double x : r.score)
    l += std::exp(x - m);
  double lse = m + std::log(l);
  out.lse[at] = lse;
  for (int j = 0; j < s.seqlenKv; ++j) {
    r.prob[size_t(j)] = std::exp(r.score[size_t(j)] - lse);
    r.dropped[size_t(j)] =
        keeps(b, h, i, j) ? r.prob[size_t(j)] * rescale : 0.0;
    double pv = rnd(r.dropped[size_t(j)]);
    for (int d = 0; d < D; ++d)
      o[d] = acc(o[d] + pv * V(b, hk, j, d));
  }
  for (int d = 0; d < D; ++d)
    o[d] = rnd(o[d]);
}

/// dS = P ∘ (dP - delta) ∘ dS/ds, and its products into dQ, dK, dV.
void AttentionEvaluator::gradientRow(Row &r, Task &t, int h, int i) {
  const int hk = h / (s.headsQ / s.headsKv), D = s.headDim;
  size_t at = row(t.b, h, i);
  const double *o = &out.o[at * D];
  auto dOut = [&](int d) { return double(dO[at * D + d]); };
  double delta = 0;
  for (int d = 0; d < D; ++d)
    delta = acc(delta + dOut(d) * o[d]);
  for (int j = 0; j < s.seqlenKv; ++j) {
    if (r.prob[size_t(j)] == 0)
      continue;
    double dp = 0;
    for (int d = 0; d < D; ++d)
      dp = acc(dp + dOut(d) * V(t.b, hk, j, d));
    if (!c.dropoutRates.empty())
      dp = keeps(t.b, h, i, j) ? dp * rescale : 0.0;
    double ds = rnd(r.prob[size_t(j)] * (dp - delta) * r.tangent[size_t(j)]);
    double pd = rnd(r.dropped[size_t(j)]);
    for (int d = 0; d < D; ++d) {
      double &dv = t.dv[size_t(j) * D + d], &dk = t.dk[size_t(j) * D + d];
      dv = acc(dv + pd * dOut(d));
      dk = acc(dk + ds * Q(t.b, h, i, d));
      out.dq[at * D + d] = acc(out.dq[at * D + d] + ds * K(t.b, hk, j, d));
    }
  }
}

void AttentionEvaluator::runTask(Task &t) {
  Row r;
  for (auto *keys : {&r.score, &r.tangent, &r.prob, &r.dropped})
    keys->assign(size_t(s.seqlenKv), 0.0);
  ElementEvaluator e(c);
  e.b = t.b;
  const int group = s.headsQ / s.headsKv;
  for (int h = t.hk * group; h < (t.hk + 1) * group; ++h) {
    e.h = h;
    e.i = e.j = 0;
    if (!e.run(c.perHead)) {
      t.error = e.error;
      return;
    }
    for (int i = t.rowBegin; i < t.rowEnd; ++i) {
      if (!scoreRow(e, r, h, i)) {
        t.error = e.error;
        return;
      }
      softmaxRow(r, t.b, h, i);
      if (withGrads && out.lse[row(t.b, h, i)] != -kInf)
        gradientRow(r, t, h, i);
    }
  }
}

std::vector<Task> AttentionEvaluator::makeTasks() const {
  unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  // Enough row ranges to keep every core busy when B * Hkv is small.
  int chunks = std::clamp(int(cores) / std::max(1, s.batch * s.headsKv), 1,
                          std::max(1, s.seqlenQ / 16));
  std::vector<Task> tasks;
  for (int b = 0; b < s.batch; ++b)
    for (int hk = 0; hk < s.headsKv; ++hk)
      for (int ch = 0; ch < chunks; ++ch) {
        Task t{b,
               hk,
               int(int64_t(s.seqlenQ) * ch / chunks),
               int(int64_t(s.seqlenQ) * (ch + 1) / chunks),
               {},
               {},
               std::nullopt};
        if (withGrads) {
          t.dk.assign(size_t(s.seqlenKv) * s.headDim, 0.0);
          t.dv.assign(size_t(s.seqlenKv) * s.headDim, 0.0);
        }
        tasks.push_back(std::move(t));
      }
  return tasks;
}

/// Sums the tasks' dK and dV partials in task order: the result does not
/// depend on the number of threads.
void AttentionEvaluator::sumPartials(const std::vector<Task> &tasks) {
  for (const Task &t : tasks) {
    size_t base = (size_t(t.b) * s.headsKv + t.hk) * s.seqlenKv * s.headDim;
    for (size_t x = 0; x < t.dk.size(); ++x) {
      out.dk[base + x] = acc(out.dk[base + x] + t.dk[x]);
      out.dv[base + x] = acc(out.dv[base + x] + t.dv[x]);
    }
  }
  if (low)
    for (std::vector<double> *g : {&out.dq, &out.dk, &out.dv})
      for (double &x : *g)
        x = rnd(x);
}

Expected<Outputs> AttentionEvaluator::run() {
  size_t nq = size_t(s.batch) * s.headsQ * s.seqlenQ * s.headDim;
  size_t nkv = size_t(s.batch) * s.headsKv * s.seqlenKv * s.headDim;
  if (q.size() != nq || k.size() != nkv || v.size() != nkv ||
      (withGrads && dO.size() != nq))
    return Error("the reference needs Q and dO of " + std::to_string(nq) +
                 " values and K and V of " + std::to_string(nkv) +
                 " (dense [B, H, N, D]), got " + std::to_string(q.size()) +
                 ", " + std::to_string(k.size()) + ", " +
                 std::to_string(v.size()) + " and " +
                 std::to_string(dO.size()));
  out.o.assign(nq, 0.0);
  out.lse.assign(size_t(s.batch) * s.headsQ * s.seqlenQ, 0.0);
  if (withGrads) {
    out.dq.assign(nq, 0.0);
    out.dk.assign(nkv, 0.0);
    out.dv.assign(nkv, 0.0);
  }
  std::vector<Task> tasks = makeTasks();
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i; (i = next++) < tasks.size();)
      runTask(tasks[i]);
  };
  unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  unsigned n = std::min<unsigned>(cores, unsigned(tasks.size()));
  std::vector<std::thread> threads;
  for (unsigned i = 1; i < n; ++i)
    threads.emplace_back(worker);
  worker();
  for (std::thread &t : threads)
    t.join();
  for (const Task &t : tasks)
    if (t.error)
      return Error(*t.error);
  if (withGrads)
    sumPartials(tasks);
  return std::move(out);
}

} // namespace

Expected<Outputs> ProgramReference::forward(const std::vector<float> &q,
                                            const std::vector<float> &k,
                                            const std::vector<float> &v,
                                            Precision precision) const {
  static const std::vector<float> noGradient;
  return AttentionEvaluator(*compiled_, q, k, v, noGradient, precision).run();
}

Expected<Outputs> ProgramReference::backward(const std::vector<float> &q,
                                             const std::vector<float> &k,
                                             const std::vector<float> &v,
                                             const std::vector<float> &dO,
                                             Precision precision) const {
  return AttentionEvaluator(*compiled_, q, k, v, dO, precision).run();
}
