//===- LaunchContract.cpp - what launching a compiled pass takes ----------===//

#include "compiler/kernel/LaunchContract.h"

#include <algorithm>

using namespace flashjit;

const char *flashjit::stringifyKernelArgKind(KernelArg::Kind kind) {
  switch (kind) {
  case KernelArg::Kind::pointer:
    return "ptr";
  case KernelArg::Kind::i32:
    return "i32";
  case KernelArg::Kind::i64:
    return "i64";
  case KernelArg::Kind::f32:
    return "f32";
  }
  return "?";
}

std::vector<WorkspaceBuffer>
flashjit::workspaceOf(const std::vector<Schedule> &schedules) {
  auto has = [&](KernelKind kind) {
    return std::any_of(schedules.begin(), schedules.end(),
                       [&](const Schedule &s) { return s.kind == kind; });
  };
  std::vector<WorkspaceBuffer> workspace;
  if (!has(KernelKind::backwardDelta))
    return workspace;
  workspace.push_back({"delta", WorkspaceBuffer::Extent::queryRows, false});
  workspace.push_back({"lse_log2", WorkspaceBuffer::Extent::queryRows, false});
  if (has(KernelKind::backwardKeyValueQuery))
    workspace.push_back(
        {"dq_accum", WorkspaceBuffer::Extent::queryElements, true});
  return workspace;
}

WorkspaceLayout
flashjit::layoutOf(const std::vector<WorkspaceBuffer> &workspace,
                   int64_t queryRows, int64_t headDim) {
  WorkspaceLayout layout;
  for (const WorkspaceBuffer &w : workspace) {
    int64_t start = (layout.bytes + kWorkspaceAlignment - 1) /
                    kWorkspaceAlignment * kWorkspaceAlignment;
    int64_t elements = w.extent == WorkspaceBuffer::Extent::queryRows
                           ? queryRows
                           : queryRows * headDim;
    layout.offsets.push_back(start);
    layout.sizes.push_back(elements * 4);
    layout.bytes = start + elements * 4;
  }
  return layout;
}
