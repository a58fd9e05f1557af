//===- KernelMetadata.cpp - a compiled pass's kernels as JSON -------------===//

#include "compiler/lowering/KernelMetadata.h"

#include "llvm/Support/JSON.h"

using namespace flashjit;
namespace json = llvm::json;

namespace {

/// Bumped when a field changes meaning; readers refuse other formats.
constexpr int64_t kFormat = 1;

const char *stringifyRows(GridRule::Rows rows) {
  switch (rows) {
  case GridRule::Rows::seqlenQ:
    return "seqlen_q";
  case GridRule::Rows::seqlenKv:
    return "seqlen_kv";
  case GridRule::Rows::queryElementsBy8:
    return "seqlen_q*head_dim/8";
  }
  return "?";
}

/// Every field of the schedule, so a reader rebuilds it exactly.
json::Object scheduleJson(const Schedule &s) {
  return json::Object{{"head_dim", s.headDim},
                      {"element_bytes", s.elementBytes},
                      {"block_m", s.blockM},
                      {"block_n", s.blockN},
                      {"warps", s.numWarps},
                      {"stages", s.numStages},
                      {"head_dim_split", s.headDimSplit},
                      {"row_tiles_per_warp", s.rowTilesPerWarp},
                      {"warpgroup_mma", s.warpgroupMma},
                      {"shared_memory_bytes", s.sharedMemoryBytes},
                      {"compute_capability", s.computeCapability},
                      {"estimated_registers", s.estimatedRegisters}};
}

json::Object gridJson(const Schedule &s) {
  GridRule rule = gridRuleOf(s);
  return json::Object{
      {"x", json::Object{{"rows", stringifyRows(rule.rows)},
                         {"rows_per_block", rule.rowsPerBlock},
                         {"multiplier", rule.multiplier}}},
      {"y", rule.keyValueHeads ? "batch*heads_kv" : "batch*heads_q"}};
}

json::Object kernelJson(const KernelInfo &k) {
  json::Array args;
  for (const KernelArg &a : k.args)
    args.push_back(json::Object{{"name", a.name},
                                {"kind", stringifyKernelArgKind(a.kind)}});
  return json::Object{{"name", k.name},
                      {"kind", stringifyKernelKind(k.kind)},
                      {"threads", k.schedule.numThreads()},
                      {"shared_memory_bytes", k.schedule.sharedMemoryBytes},
                      {"grid", gridJson(k.schedule)},
                      {"schedule", scheduleJson(k.schedule)},
                      {"args", std::move(args)}};
}

template <typename Enum, typename Stringify>
bool enumFromJson(const json::Value &value, Enum &out, Enum last,
                  Stringify stringify, json::Path path) {
  std::optional<llvm::StringRef> text = value.getAsString();
  if (!text) {
    path.report("expected a string");
    return false;
  }
  for (int i = 0; i <= int(last); ++i)
    if (*text == stringify(Enum(i))) {
      out = Enum(i);
      return true;
    }
  path.report("unknown value");
  return false;
}

bool scheduleFromJson(const json::Value &value, Schedule &s, json::Path path) {
  json::ObjectMapper o(value, path);
  return o && o.map("head_dim", s.headDim) &&
         o.map("element_bytes", s.elementBytes) && o.map("block_m", s.blockM) &&
         o.map("block_n", s.blockN) && o.map("warps", s.numWarps) &&
         o.map("stages", s.numStages) &&
         o.map("head_dim_split", s.headDimSplit) &&
         o.map("row_tiles_per_warp", s.rowTilesPerWarp) &&
         o.map("warpgroup_mma", s.warpgroupMma) &&
         o.map("shared_memory_bytes", s.sharedMemoryBytes) &&
         o.map("compute_capability", s.computeCapability) &&
         o.map("estimated_registers", s.estimatedRegisters);
}

bool argFromJson(const json::Value &value, KernelArg &a, json::Path path) {
  json::ObjectMapper o(value, path);
  const json::Value *kind =
      value.getAsObject() ? value.getAsObject()->get("kind") : nullptr;
  if (!o || !o.map("name", a.name) || !kind) {
    if (o && !kind)
      path.field("kind").report("missing");
    return false;
  }
  return enumFromJson(*kind, a.kind, KernelArg::Kind::f32,
                      stringifyKernelArgKind, path.field("kind"));
}

bool kernelFromJson(const json::Value &value, KernelInfo &k, json::Path path) {
  const json::Object *object = value.getAsObject();
  if (!object) {
    path.report("expected an object");
    return false;
  }
  const json::Value *kind = object->get("kind");
  const json::Value *schedule = object->get("schedule");
  const json::Array *args = object->getArray("args");
  std::optional<llvm::StringRef> name = object->getString("name");
  if (!name || !kind || !schedule || !args) {
    path.report("a kernel needs name, kind, schedule and args");
    return false;
  }
  k.name = name->str();
  if (!enumFromJson(*kind, k.kind, KernelKind::backwardQueryConvert,
                    stringifyKernelKind, path.field("kind")) ||
      !scheduleFromJson(*schedule, k.schedule, path.field("schedule")))
    return false;
  k.schedule.kind = k.kind;
  k.args.resize(args->size());
  for (size_t i = 0; i < args->size(); ++i)
    if (!argFromJson((*args)[i], k.args[i], path.field("args").index(i)))
      return false;
  return true;
}

} // namespace

GridRule flashjit::gridRuleOf(const Schedule &s) {
  switch (s.kind) {
  case KernelKind::forward:
  case KernelKind::backwardQuery:
    return {GridRule::Rows::seqlenQ, s.blockM, 1, false};
  case KernelKind::backwardDelta:
    return {GridRule::Rows::seqlenQ, s.numThreads(), 1, false};
  case KernelKind::backwardKeyValue:
  case KernelKind::backwardKeyValueQuery:
    return {GridRule::Rows::seqlenKv, s.blockN, s.headDimSplit, true};
  case KernelKind::backwardQueryConvert: // 8 elements per thread
    return {GridRule::Rows::queryElementsBy8, s.numThreads(), 1, false};
  }
  return {};
}

std::string flashjit::kernelMetadataJson(const std::vector<KernelInfo> &kernels,
                                         llvm::StringRef target) {
  json::Array array;
  for (const KernelInfo &k : kernels)
    array.push_back(kernelJson(k));
  json::Value document = json::Object{
      {"format", kFormat}, {"target", target}, {"kernels", std::move(array)}};
  return llvm::formatv("{0:2}", document).str() + "\n";
}

Expected<std::vector<KernelInfo>>
flashjit::parseKernelMetadata(llvm::StringRef text) {
  llvm::Expected<json::Value> document = json::parse(text);
  if (!document)
    return Error("kernel metadata is not JSON: " +
                 llvm::toString(document.takeError()));
  json::Path::Root root("metadata");
  json::Path path(root);
  const json::Object *object = document->getAsObject();
  std::optional<int64_t> format =
      object ? object->getInteger("format") : std::nullopt;
  if (!format || *format != kFormat)
    return Error("kernel metadata of another format (this build reads format " +
                 std::to_string(kFormat) + ")");
  const json::Array *array = object->getArray("kernels");
  if (!array)
    return Error("kernel metadata without a kernels array");
  std::vector<KernelInfo> kernels(array->size());
  for (size_t i = 0; i < array->size(); ++i)
    if (!kernelFromJson((*array)[i], kernels[i],
                        path.field("kernels").index(i)))
      return Error("malformed kernel metadata: " +
                   llvm::toString(root.getError()));
  return kernels;
}
