//===- TileAttrs.cpp - the compiler's configuration as IR -----------------===//

#include "dialects/tile/TileDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace flashjit::tile;

#define GET_ATTRDEF_CLASSES
#include "dialects/tile/TileAttrs.cpp.inc"

void TileDialect::registerAttributes() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "dialects/tile/TileAttrs.cpp.inc"
      >();
}

LogicalResult KernelConfigAttr::verify(
    function_ref<InFlightDiagnostic()> emitError, KernelConfigKind kind,
    int headDim, Type elementType, int blockM, int blockN, int warps,
    int stages, int headDimSplit, int rowTilesPerWarp, MmaEngine mma,
    int sharedMemory, int computeCapability, int registers) {
  if (headDim <= 0 || headDim % 8 != 0)
    return emitError() << "head_dim " << headDim
                       << " is not a positive multiple of 8";
  if (!elementType || !(elementType.isF16() || elementType.isBF16()))
    return emitError() << "element_type " << elementType
                       << ": the kernels take f16 or bf16 inputs";
  // Delta and dQ's conversion stream nothing: they have no key block.
  bool streams = kind != KernelConfigKind::backward_delta &&
                 kind != KernelConfigKind::backward_dq_convert;
  if (blockM <= 0 || blockM % 16 != 0 || blockN < 0 || blockN % 16 != 0 ||
      (streams && blockN == 0))
    return emitError() << "block " << blockM << " x " << blockN
                       << " is not made of 16-row tensor-core tiles";
  if (warps <= 0 || stages <= 0 || headDimSplit <= 0 || rowTilesPerWarp <= 0)
    return emitError() << "warps, stages, head_dim_split and "
                          "row_tiles_per_warp must be positive";
  if (headDim % headDimSplit != 0)
    return emitError() << "head_dim_split " << headDimSplit
                       << " does not divide head_dim " << headDim;
  if (mma == MmaEngine::wgmma && computeCapability != 90)
    return emitError() << "mma = wgmma needs compute capability 90 (sm_90a), "
                          "not "
                       << computeCapability;
  if (sharedMemory < 0 || registers < 0)
    return emitError() << "shared_memory and registers cannot be negative";
  return success();
}

// The configuration attributes the kernel passes leave on ops:
// tile.kernel_configs on a program, tile.kernel_config and tile.kernel_args
// on a kernel built from one.
LogicalResult TileDialect::verifyOperationAttribute(Operation *op,
                                                    NamedAttribute attribute) {
  StringRef name = attribute.getName().getValue();
  Attribute value = attribute.getValue();
  if (name == kKernelConfigs) {
    auto configs = dyn_cast<ArrayAttr>(value);
    if (!configs || !llvm::all_of(configs, llvm::IsaPred<KernelConfigAttr>))
      return op->emitError()
             << "'" << name << "' must be an array of #tile.kernel_config";
    if (!isa<ProgramOp>(op))
      return op->emitError() << "'" << name << "' belongs on a tile.program";
    return success();
  }
  if (name == kKernelConfig) {
    if (!isa<KernelConfigAttr>(value))
      return op->emitError()
             << "'" << name << "' must be a #tile.kernel_config";
    return success();
  }
  if (name == kKernelArgs) {
    auto names = dyn_cast<ArrayAttr>(value);
    if (!names || !llvm::all_of(names, llvm::IsaPred<StringAttr>))
      return op->emitError()
             << "'" << name << "' must be an array of parameter names";
    auto function = dyn_cast<FunctionOpInterface>(op);
    if (!function)
      return op->emitError() << "'" << name << "' belongs on a function";
    if (names.size() != function.getNumArguments())
      return op->emitError() << "'" << name << "' names " << names.size()
                             << " parameters of a function that takes "
                             << function.getNumArguments();
    return success();
  }
  return op->emitError() << "unknown tile dialect attribute '" << name << "'";
}
