//===- KernelMetadata.cpp - a pass's launch contract as JSON --------------===//

#include "compiler/kernel/KernelMetadata.h"

#include "llvm/Support/JSON.h"

using namespace flashjit;
namespace json = llvm::json;

namespace {

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

const char *stringifyExtent(WorkspaceBuffer::Extent extent) {
  return extent == WorkspaceBuffer::Extent::queryRows
             ? "batch*heads_q*seqlen_q"
             : "batch*heads_q*seqlen_q*head_dim";
}

const char *stringifyGridY(bool keyValueHeads) {
  return keyValueHeads ? "batch*heads_kv" : "batch*heads_q";
}

json::Object gridJson(const GridRule &rule) {
  return json::Object{{"x", json::Object{{"rows", stringifyRows(rule.rows)},
                                         {"rows_per_block", rule.rowsPerBlock},
                                         {"multiplier", rule.multiplier}}},
                      {"y", stringifyGridY(rule.keyValueHeads)}};
}

json::Object workspaceJson(const WorkspaceBuffer &w) {
  return json::Object{{"name", w.name},
                      {"elements", stringifyExtent(w.extent)},
                      {"zeroed", w.zeroed}};
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
                      {"grid", gridJson(k.grid)},
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

bool boolFromJson(const json::Value &value, bool &out, json::Path path) {
  std::optional<bool> b = value.getAsBoolean();
  if (!b)
    path.report("expected a boolean");
  else
    out = *b;
  return b.has_value();
}

bool gridFromJson(const json::Value &value, GridRule &g, json::Path path) {
  const json::Object *object = value.getAsObject();
  const json::Value *x = object ? object->get("x") : nullptr;
  const json::Value *y = object ? object->get("y") : nullptr;
  const json::Object *xObject = x ? x->getAsObject() : nullptr;
  const json::Value *rows = xObject ? xObject->get("rows") : nullptr;
  if (!rows || !y) {
    path.report("a grid needs x.rows and y");
    return false;
  }
  json::ObjectMapper o(*x, path.field("x"));
  bool kvHeads = false;
  if (!o || !o.map("rows_per_block", g.rowsPerBlock) ||
      !o.map("multiplier", g.multiplier) ||
      !enumFromJson(*rows, g.rows, GridRule::Rows::queryElementsBy8,
                    stringifyRows, path.field("x").field("rows")) ||
      !enumFromJson(*y, kvHeads, true, stringifyGridY, path.field("y")))
    return false;
  g.keyValueHeads = kvHeads;
  return true;
}

bool workspaceFromJson(const json::Value &value, WorkspaceBuffer &w,
                       json::Path path) {
  const json::Object *object = value.getAsObject();
  const json::Value *elements = object ? object->get("elements") : nullptr;
  const json::Value *zeroed = object ? object->get("zeroed") : nullptr;
  json::ObjectMapper o(value, path);
  if (!o || !o.map("name", w.name) || !elements || !zeroed) {
    if (o)
      path.report("a workspace buffer needs name, elements and zeroed");
    return false;
  }
  return enumFromJson(*elements, w.extent,
                      WorkspaceBuffer::Extent::queryElements, stringifyExtent,
                      path.field("elements")) &&
         boolFromJson(*zeroed, w.zeroed, path.field("zeroed"));
}

bool kernelFromJson(const json::Value &value, KernelInfo &k, json::Path path) {
  const json::Object *object = value.getAsObject();
  if (!object) {
    path.report("expected an object");
    return false;
  }
  const json::Value *kind = object->get("kind");
  const json::Value *schedule = object->get("schedule");
  const json::Value *grid = object->get("grid");
  const json::Array *args = object->getArray("args");
  std::optional<llvm::StringRef> name = object->getString("name");
  if (!name || !kind || !schedule || !grid || !args) {
    path.report("a kernel needs name, kind, schedule, grid and args");
    return false;
  }
  k.name = name->str();
  if (!enumFromJson(*kind, k.kind, KernelKind::backwardQueryConvert,
                    stringifyKernelKind, path.field("kind")) ||
      !scheduleFromJson(*schedule, k.schedule, path.field("schedule")))
    return false;
  k.schedule.kind = k.kind;
  if (!gridFromJson(*grid, k.grid, path.field("grid")))
    return false;
  k.args.resize(args->size());
  for (size_t i = 0; i < args->size(); ++i)
    if (!argFromJson((*args)[i], k.args[i], path.field("args").index(i)))
      return false;
  return true;
}

} // namespace

std::string flashjit::kernelMetadataJson(const LaunchContract &launch,
                                         llvm::StringRef target) {
  json::Array kernels, workspace;
  for (const KernelInfo &k : launch.kernels)
    kernels.push_back(kernelJson(k));
  for (const WorkspaceBuffer &w : launch.workspace)
    workspace.push_back(workspaceJson(w));
  json::Value document = json::Object{{"format", kKernelMetadataFormat},
                                      {"target", target},
                                      {"kernels", std::move(kernels)},
                                      {"workspace", std::move(workspace)}};
  return llvm::formatv("{0:2}", document).str() + "\n";
}

Expected<LaunchContract> flashjit::parseKernelMetadata(llvm::StringRef text) {
  llvm::Expected<json::Value> document = json::parse(text);
  if (!document)
    return Error("kernel metadata is not JSON: " +
                 llvm::toString(document.takeError()));
  json::Path::Root root("metadata");
  json::Path path(root);
  const json::Object *object = document->getAsObject();
  std::optional<int64_t> format =
      object ? object->getInteger("format") : std::nullopt;
  if (!format || *format != kKernelMetadataFormat)
    return Error("kernel metadata of another format (this build reads format " +
                 std::to_string(kKernelMetadataFormat) + ")");
  const json::Array *kernels = object->getArray("kernels");
  const json::Array *workspace = object->getArray("workspace");
  if (!kernels || !workspace)
    return Error("kernel metadata without kernels and workspace arrays");
  LaunchContract launch;
  launch.kernels.resize(kernels->size());
  launch.workspace.resize(workspace->size());
  bool ok = true;
  for (size_t i = 0; ok && i < kernels->size(); ++i)
    ok = kernelFromJson((*kernels)[i], launch.kernels[i],
                        path.field("kernels").index(i));
  for (size_t i = 0; ok && i < workspace->size(); ++i)
    ok = workspaceFromJson((*workspace)[i], launch.workspace[i],
                           path.field("workspace").index(i));
  if (!ok)
    return Error("malformed kernel metadata: " +
                 llvm::toString(root.getError()));
  return launch;
}
