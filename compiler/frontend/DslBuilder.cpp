//===- DslBuilder.cpp - the Builder's inputs, indices and declarations ----===//
//
// Each accessor emits its op on first use; params and buffers are declared
// once per name, and store ends the program.
//
//===----------------------------------------------------------------------===//

#include "compiler/frontend/Tracer.h"

using namespace mlir;
using namespace flashjit;
using namespace flashjit::dsl;
using tile::Axis;
using tile::AxisSet;
using tile::TileType;

using flashjit::dsl::detail::Access;
using flashjit::dsl::detail::Tracer;

/// Emits the op `make` returns into `slot` on first use.
template <typename Make>
static Tile emitOnce(Tracer &t, Value &slot, Make make) {
  if (t.error)
    return {};
  if (!slot)
    slot = make();
  return t.wrap(slot);
}

static Tile inputTile(Tracer &t, unsigned which) {
  return emitOnce(t, t.inputs[which], [&]() -> Value {
    Axis rows = which == 0 ? Axis::q : Axis::kv;
    auto type = TileType::get(t.context.get(), {rows, Axis::d},
                              tile::InputType::get(t.context.get()));
    if (which == 0)
      return t.create<tile::LoadQOp>(type);
    if (which == 1)
      return t.create<tile::LoadKOp>(type);
    return t.create<tile::LoadVOp>(type);
  });
}

Tile dsl::Builder::q() { return inputTile(tracer_, 0); }
Tile dsl::Builder::k() { return inputTile(tracer_, 1); }
Tile dsl::Builder::v() { return inputTile(tracer_, 2); }

Tile dsl::Builder::softmaxScale() {
  Tracer &t = tracer_;
  return emitOnce(t, t.scale, [&]() -> Value {
    return t.create<tile::SoftmaxScaleOp>(
        TileType::get(t.context.get(), {}, t.f32()));
  });
}

static Tile indexTile(Tracer &t, tile::IndexDim dim) {
  return emitOnce(t, t.indices[static_cast<unsigned>(dim)], [&]() -> Value {
    AxisSet axes;
    if (dim == tile::IndexDim::q)
      axes = {Axis::q};
    else if (dim == tile::IndexDim::kv)
      axes = {Axis::kv};
    return t.create<tile::IndexOp>(
        TileType::get(t.context.get(), axes, t.i32()), dim);
  });
}

static Tile extentTile(Tracer &t, tile::IndexDim dim) {
  return emitOnce(t, t.extents[static_cast<unsigned>(dim)], [&]() -> Value {
    return t.create<tile::ExtentOp>(TileType::get(t.context.get(), {}, t.i32()),
                                    dim);
  });
}

Tile dsl::Builder::batch() { return indexTile(tracer_, tile::IndexDim::batch); }
Tile dsl::Builder::head() { return indexTile(tracer_, tile::IndexDim::head); }
Tile dsl::Builder::qIdx() { return indexTile(tracer_, tile::IndexDim::q); }
Tile dsl::Builder::kvIdx() { return indexTile(tracer_, tile::IndexDim::kv); }
Tile dsl::Builder::batchSize() {
  return extentTile(tracer_, tile::IndexDim::batch);
}
Tile dsl::Builder::numHeads() {
  return extentTile(tracer_, tile::IndexDim::head);
}
Tile dsl::Builder::seqlenQ() { return extentTile(tracer_, tile::IndexDim::q); }
Tile dsl::Builder::seqlenKv() {
  return extentTile(tracer_, tile::IndexDim::kv);
}

static Type scalarType(Tracer &t, ScalarType type) {
  return type == ScalarType::f32 ? t.f32() : t.i32();
}

/// Returns the op already declared as `name`, failing the trace if it is of
/// another kind or type than `type`.
static Operation *lookupDeclared(Tracer &t, StringRef name, StringRef kind,
                                 Type type) {
  auto it = t.declared.find(name);
  if (it == t.declared.end())
    return nullptr;
  Operation *op = it->second;
  if (op->getName().getStringRef() != kind ||
      op->getResult(0).getType() != type) {
    std::string have;
    llvm::raw_string_ostream os(have);
    os << op->getName() << " of type " << op->getResult(0).getType();
    t.fail(("'" + name + "' is already declared as a " + have).str());
  }
  return op;
}

Tile dsl::Builder::param(std::string_view name, ScalarType type) {
  Tracer &t = tracer_;
  if (t.error)
    return {};
  auto tileType = TileType::get(t.context.get(), {}, scalarType(t, type));
  StringRef key(name.data(), name.size());
  if (Operation *op =
          lookupDeclared(t, key, tile::ParamOp::getOperationName(), tileType))
    return t.error ? Tile() : t.wrap(op->getResult(0));
  auto op = tile::ParamOp::create(t.builder, t.loc, tileType, key);
  t.declared[key] = op;
  return t.wrap(op);
}

Buffer dsl::Builder::buffer(std::string_view name,
                            std::initializer_list<std::string_view> dims,
                            ScalarType type) {
  Tracer &t = tracer_;
  if (t.error)
    return {};
  StringRef key(name.data(), name.size());
  SmallVector<tile::BufferDim> parsed;
  for (std::string_view spelled : dims) {
    StringRef dim(spelled.data(), spelled.size());
    using Kind = tile::BufferDim::Kind;
    auto kind = llvm::StringSwitch<std::optional<Kind>>(dim)
                    .Case("batch", Kind::batch)
                    .Case("head", Kind::head)
                    .Case("q", Kind::q)
                    .Case("kv", Kind::kv)
                    .Case("token", Kind::token)
                    .Case("?", Kind::dynamic)
                    .Default(std::nullopt);
    int64_t extent = 0;
    if (kind)
      parsed.push_back(tile::BufferDim::domain(*kind));
    else if (!dim.getAsInteger(10, extent))
      parsed.push_back(tile::BufferDim::fixedExtent(extent));
    else {
      t.fail(("buffer '" + key + "': unknown dimension '" + dim +
              "', expected batch, head, q, kv, token, an extent or ?")
                 .str());
      return {};
    }
  }
  auto bufferType = tile::BufferType::getChecked(
      [&] { return emitError(t.loc); }, t.context.get(),
      ArrayRef<tile::BufferDim>(parsed), scalarType(t, type));
  if (!bufferType) {
    t.fail(t.diagnostics->message("invalid buffer type"));
    return {};
  }
  if (Operation *op = lookupDeclared(t, key, tile::BufferOp::getOperationName(),
                                     bufferType))
    return t.error ? Buffer() : Access::makeBuffer(&t, op->getResult(0));
  auto op = tile::BufferOp::create(t.builder, t.loc, bufferType, key);
  t.declared[key] = op;
  return Access::makeBuffer(&t, op.getResult());
}

void dsl::Builder::store(const Tile &o, const Tile &lse) {
  Tracer &t = tracer_;
  if (t.error)
    return;
  if (t.stored) {
    t.fail("store(o, lse) is called twice");
    return;
  }
  StringRef name = tile::StoreOp::getOperationName();
  Value vo = t.use(o, t.f32(), name);
  Value vlse = vo ? t.use(lse, t.f32(), name) : Value();
  if (!vlse)
    return;
  tile::StoreOp::create(t.builder, t.loc, vo, vlse);
  t.stored = true;
}
