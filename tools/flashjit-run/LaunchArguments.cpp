//===- LaunchArguments.cpp - --param and --buffer of flashjit-run ---------===//

#include "tools/flashjit-run/LaunchArguments.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/MemoryBuffer.h"

#include <cmath>
#include <limits>
#include <optional>
#include <random>

using namespace flashjit;
using namespace flashjit::reference;
using llvm::StringRef;

namespace {

const char *spell(ScalarType type) {
  return type == ScalarType::f32 ? "f32" : "i32";
}

/// "a, b" or "none", for the errors that list what a program declares.
template <typename Info>
std::string declaredNames(const std::vector<Info> &declared) {
  std::string list;
  for (const Info &info : declared)
    list += (list.empty() ? "" : ", ") + info.name;
  return list.empty() ? "none" : list;
}

/// `f32, [head, ?]`: a buffer's declaration, for errors.
std::string declarationOf(const BufferInfo &info) {
  std::string dims;
  for (const std::string &dim : info.dims)
    dims += (dims.empty() ? "" : ", ") + dim;
  return std::string(spell(info.type)) + ", [" + dims + "]";
}

/// Splits NAME=VALUE; `option` names the flag in the error.
Expected<std::pair<std::string, std::string>>
splitAssignment(const std::string &text, const char *option,
                const char *valueName) {
  size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0)
    return Error(std::string(option) + " '" + text +
                 "' is not NAME=" + valueName);
  return std::pair{text.substr(0, eq), text.substr(eq + 1)};
}

/// Finds `name` among the declared parameters or buffers, or says which
/// exist.
template <typename Info>
Expected<const Info *> findDeclared(const std::vector<Info> &declared,
                                    const std::string &name,
                                    const Program &program, const char *what) {
  for (const Info &info : declared)
    if (info.name == name)
      return &info;
  return Error("program '" + program.name() + "' has no " + what + " '" + name +
               "'; it declares: " + declaredNames(declared));
}

std::optional<int32_t> parseInt32(StringRef text) {
  long long value;
  if (text.getAsInteger(10, value) ||
      value < std::numeric_limits<int32_t>::min() ||
      value > std::numeric_limits<int32_t>::max())
    return std::nullopt;
  return int32_t(value);
}

std::optional<float> parseFloat(StringRef text) {
  double value;
  if (text.empty() || text.getAsDouble(value) || !std::isfinite(value))
    return std::nullopt;
  return float(value);
}

Expected<ParamValue> parseParamValue(const ParamInfo &info,
                                     const std::string &text) {
  if (info.type == ScalarType::i32) {
    if (std::optional<int32_t> v = parseInt32(text))
      return ParamValue(*v);
  } else if (std::optional<float> v = parseFloat(text)) {
    return ParamValue(*v);
  }
  return Error("--param " + info.name + ": '" + text + "' is not an " +
               spell(info.type));
}

//===----------------------------------------------------------------------===//
// Buffers
//===----------------------------------------------------------------------===//

/// A random fill: normal (randn) or uniform integers in [lo, hi].
struct RandomFill {
  bool normal = false;
  int32_t lo = 0, hi = 0;
};

/// One --buffer being parsed: its declaration and the run's extents.
class BufferSpec {
public:
  BufferSpec(const BufferInfo &info, const ProblemShape &shape,
             std::mt19937 &gen)
      : info(info), shape(shape), gen(gen) {}

  Expected<HostBuffer> parse(StringRef spec);

private:
  Error error(const std::string &why) const {
    return Error("--buffer " + info.name + ": " + why);
  }
  std::optional<int64_t> extentOf(const std::string &dim) const;
  Expected<std::vector<int64_t>> shapeFromPrefix(StringRef prefix) const;
  Expected<std::vector<int64_t>> shapeFromCount(size_t count) const;
  Expected<std::vector<int64_t>> declaredShape() const;
  Expected<RandomFill> parseFill(StringRef values) const;
  HostBuffer fill(const RandomFill &how, std::vector<int64_t> dims);
  Expected<std::vector<std::string>> readWords(StringRef values) const;
  Expected<HostBuffer> parseValues(const std::vector<std::string> &words) const;
  Expected<HostBuffer> randomBuffer(StringRef values,
                                    std::optional<std::vector<int64_t>> dims);
  Expected<HostBuffer> givenBuffer(StringRef values,
                                   std::optional<std::vector<int64_t>> dims);

  const BufferInfo &info;
  const ProblemShape &shape;
  std::mt19937 &gen;
};

/// The extent the run gives dimension `dim`; none for `?`.
std::optional<int64_t> BufferSpec::extentOf(const std::string &dim) const {
  if (dim == "batch")
    return shape.batch;
  if (dim == "head")
    return shape.headsQ;
  if (dim == "q")
    return shape.seqlenQ;
  if (dim == "kv")
    return shape.seqlenKv;
  if (dim == "token")
    return std::max(shape.seqlenQ, shape.seqlenKv);
  if (dim == "?")
    return std::nullopt;
  return std::stoll(dim);
}

/// N or ROWSxCOLS, checked against the declared dimensions (a token
/// dimension may be longer than the run needs).
Expected<std::vector<int64_t>>
BufferSpec::shapeFromPrefix(StringRef prefix) const {
  llvm::SmallVector<StringRef, 2> parts;
  prefix.split(parts, 'x');
  if (parts.size() != info.dims.size())
    return error("shape '" + prefix.str() + "' has rank " +
                 std::to_string(parts.size()) + ", the buffer is declared " +
                 declarationOf(info));
  std::vector<int64_t> dims;
  for (size_t i = 0; i < parts.size(); ++i) {
    std::optional<int32_t> n = parseInt32(parts[i]);
    if (!n || *n <= 0)
      return error("shape '" + prefix.str() + "' needs positive extents");
    std::optional<int64_t> want = extentOf(info.dims[i]);
    bool longer = info.dims[i] == "token" && want && *n >= *want;
    if (want && *n != *want && !longer)
      return error("dimension " + std::to_string(i) + " ('" + info.dims[i] +
                   "') is " + std::to_string(*want) +
                   " in this run, the shape says " + std::to_string(*n));
    dims.push_back(*n);
  }
  return dims;
}

/// The declared shape with a `?` sized so that it holds `count` values.
Expected<std::vector<int64_t>> BufferSpec::shapeFromCount(size_t count) const {
  std::vector<int64_t> dims;
  int unknown = -1;
  int64_t known = 1;
  for (size_t i = 0; i < info.dims.size(); ++i) {
    std::optional<int64_t> extent = extentOf(info.dims[i]);
    if (!extent && unknown >= 0)
      return error("two '?' dimensions: give the shape, as ROWSxCOLS:VALUES");
    if (!extent)
      unknown = int(i);
    known *= extent.value_or(1);
    dims.push_back(extent.value_or(0));
  }
  if (unknown >= 0) {
    if (count == 0 || count % size_t(known) != 0)
      return error(std::to_string(count) +
                   " values do not fill whole rows "
                   "of " +
                   std::to_string(known) + " (" + declarationOf(info) + ")");
    dims[size_t(unknown)] = int64_t(count) / known;
  }
  return dims;
}

/// The declared shape, when no dimension is `?`.
Expected<std::vector<int64_t>> BufferSpec::declaredShape() const {
  std::vector<int64_t> dims;
  std::string example;
  bool unknown = false;
  for (const std::string &dim : info.dims) {
    std::optional<int64_t> extent = extentOf(dim);
    unknown |= !extent;
    if (!example.empty())
      example += 'x';
    example += extent ? std::to_string(*extent) : "N";
    dims.push_back(extent.value_or(0));
  }
  if (unknown)
    return error("a random fill of a buffer with a '?' dimension needs its "
                 "shape, e.g. " +
                 info.name + "=" + example + ":randn");
  return dims;
}

Expected<RandomFill> BufferSpec::parseFill(StringRef values) const {
  RandomFill how;
  if (values == "randn") {
    if (info.type != ScalarType::f32)
      return error("randn fills f32 buffers; this one is i32, use "
                   "randint:LO:HI");
    how.normal = true;
    return how;
  }
  llvm::SmallVector<StringRef, 3> parts;
  values.split(parts, ':');
  std::optional<int32_t> lo, hi;
  if (parts.size() == 3) {
    lo = parseInt32(parts[1]);
    hi = parseInt32(parts[2]);
  }
  if (!lo || !hi || *lo > *hi)
    return error((llvm::Twine("'") + values +
                  "' is not randint:LO:HI with integers LO <= HI")
                     .str());
  how.lo = *lo;
  how.hi = *hi;
  return how;
}

HostBuffer BufferSpec::fill(const RandomFill &how, std::vector<int64_t> dims) {
  size_t count = 1;
  for (int64_t d : dims)
    count *= size_t(d);
  HostBuffer buffer;
  buffer.shape = std::move(dims);
  if (how.normal) {
    std::normal_distribution<float> normal;
    std::vector<float> floats(count);
    for (float &x : floats)
      x = normal(gen);
    buffer.data = std::move(floats);
    return buffer;
  }
  std::uniform_int_distribution<int32_t> uniform(how.lo, how.hi);
  std::vector<int32_t> ints(count);
  for (int32_t &x : ints)
    x = uniform(gen);
  if (info.type == ScalarType::i32)
    buffer.data = std::move(ints);
  else
    buffer.data = std::vector<float>(ints.begin(), ints.end());
  return buffer;
}

/// The numbers of a comma-separated list or of @FILE.
Expected<std::vector<std::string>>
BufferSpec::readWords(StringRef values) const {
  llvm::SmallVector<StringRef> parts;
  std::unique_ptr<llvm::MemoryBuffer> file;
  if (values.consume_front("@")) {
    auto read = llvm::MemoryBuffer::getFile(values, /*IsText=*/true);
    if (!read)
      return error("cannot read '" + values.str() +
                   "': " + read.getError().message());
    file = std::move(*read);
    llvm::SplitString(file->getBuffer(), parts);
  } else {
    values.split(parts, ',');
  }
  std::vector<std::string> words;
  for (StringRef w : parts)
    words.push_back(w.trim().str());
  if (words.empty())
    return error("'@" + values.str() + "' holds no numbers");
  return words;
}

/// The values, typed as the buffer is declared; the shape comes later.
Expected<HostBuffer>
BufferSpec::parseValues(const std::vector<std::string> &words) const {
  HostBuffer buffer;
  std::vector<float> floats;
  std::vector<int32_t> ints;
  for (const std::string &w : words) {
    if (info.type == ScalarType::f32) {
      std::optional<float> v = parseFloat(w);
      if (!v)
        return error("'" + w + "' is not a number");
      floats.push_back(*v);
    } else {
      std::optional<int32_t> v = parseInt32(w);
      if (!v)
        return error("'" + w + "' is not an i32");
      ints.push_back(*v);
    }
  }
  if (info.type == ScalarType::f32)
    buffer.data = std::move(floats);
  else
    buffer.data = std::move(ints);
  return buffer;
}

Expected<HostBuffer>
BufferSpec::randomBuffer(StringRef values,
                         std::optional<std::vector<int64_t>> dims) {
  Expected<RandomFill> how = parseFill(values);
  if (!how)
    return how.error();
  if (!dims) {
    Expected<std::vector<int64_t>> declared = declaredShape();
    if (!declared)
      return declared.error();
    dims = *declared;
  }
  return fill(*how, *dims);
}

Expected<HostBuffer>
BufferSpec::givenBuffer(StringRef values,
                        std::optional<std::vector<int64_t>> dims) {
  Expected<std::vector<std::string>> words = readWords(values);
  if (!words)
    return words.error();
  Expected<HostBuffer> buffer = parseValues(*words);
  if (!buffer)
    return buffer;
  size_t count = buffer->size();
  if (!dims) {
    Expected<std::vector<int64_t>> counted = shapeFromCount(count);
    if (!counted)
      return counted.error();
    dims = *counted;
  }
  size_t need = 1;
  for (int64_t d : *dims)
    need *= size_t(d);
  if (count != need)
    return error(std::to_string(count) + " values given, its shape needs " +
                 std::to_string(need) + " (" + declarationOf(info) + ")");
  buffer->shape = std::move(*dims);
  return buffer;
}

Expected<HostBuffer> BufferSpec::parse(StringRef spec) {
  // An optional SHAPE: prefix, digits and 'x' before the first ':'.
  std::optional<std::vector<int64_t>> dims;
  auto [head, rest] = spec.split(':');
  if (!rest.empty() && !head.empty() &&
      head.find_first_not_of("0123456789x") == StringRef::npos) {
    Expected<std::vector<int64_t>> prefixed = shapeFromPrefix(head);
    if (!prefixed)
      return prefixed.error();
    dims = *prefixed;
    spec = rest;
  }
  if (spec.empty())
    return error("no values; give a list, @FILE, randn or randint:LO:HI");
  if (spec == "randn" || spec.starts_with("randint"))
    return randomBuffer(spec, std::move(dims));
  return givenBuffer(spec, std::move(dims));
}

} // namespace

Expected<std::map<std::string, ParamValue>>
run::parseParams(const std::vector<std::string> &given,
                 const Program &program) {
  std::vector<ParamInfo> declared = program.params();
  std::map<std::string, ParamValue> params;
  for (const std::string &text : given) {
    auto assignment = splitAssignment(text, "--param", "VALUE");
    if (!assignment)
      return assignment.error();
    auto [name, value] = *assignment;
    Expected<const ParamInfo *> info =
        findDeclared(declared, name, program, "parameter");
    if (!info)
      return Error("--param " + name + ": " + info.error().message());
    Expected<ParamValue> parsed = parseParamValue(**info, value);
    if (!parsed)
      return parsed.error();
    if (!params.emplace(name, *parsed).second)
      return Error("--param " + name + " is given twice");
  }
  for (const ParamInfo &info : declared)
    if (!params.count(info.name))
      return Error("program '" + program.name() + "' needs --param " +
                   info.name + "=VALUE (" + spell(info.type) + ")");
  return params;
}

Expected<std::map<std::string, HostBuffer>>
run::parseBuffers(const std::vector<std::string> &given, const Program &program,
                  const ProblemShape &shape, unsigned seed) {
  std::vector<BufferInfo> declared = program.buffers();
  std::map<std::string, HostBuffer> buffers;
  std::mt19937 gen(seed);
  for (const std::string &text : given) {
    auto assignment = splitAssignment(text, "--buffer", "SPEC");
    if (!assignment)
      return assignment.error();
    auto [name, spec] = *assignment;
    Expected<const BufferInfo *> info =
        findDeclared(declared, name, program, "buffer");
    if (!info)
      return Error("--buffer " + name + ": " + info.error().message());
    Expected<HostBuffer> buffer = BufferSpec(**info, shape, gen).parse(spec);
    if (!buffer)
      return buffer.error();
    if (!buffers.emplace(name, std::move(*buffer)).second)
      return Error("--buffer " + name + " is given twice");
  }
  for (const BufferInfo &info : declared)
    if (!buffers.count(info.name))
      return Error("program '" + program.name() + "' needs --buffer " +
                   info.name + "=SPEC (" + declarationOf(info) + ")");
  return buffers;
}
