//===- KernelConfig.h - a Schedule as #tile.kernel_config -------*- C++ -*-===//
//
// The configuration attribute is the IR form of a Schedule: the selection
// pass writes one per kernel, the kernel builder reads it back. The two
// conversions are exact: every field goes both ways.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHJIT_COMPILER_KERNEL_KERNELCONFIG_H
#define FLASHJIT_COMPILER_KERNEL_KERNELCONFIG_H

#include "compiler/schedule/Schedule.h"
#include "dialects/tile/TileDialect.h"

namespace flashjit {

/// Where the configuration passes leave configurations (TileBase.td).
constexpr llvm::StringLiteral kKernelConfigsAttrName =
    tile::TileDialect::kKernelConfigs;
constexpr llvm::StringLiteral kKernelConfigAttrName =
    tile::TileDialect::kKernelConfig;
constexpr llvm::StringLiteral kKernelArgsAttrName =
    tile::TileDialect::kKernelArgs;

/// `schedule` for inputs of `elementType` (f16 or bf16) as an attribute of
/// its context, which has the tile dialect.
tile::KernelConfigAttr kernelConfigOf(mlir::Type elementType,
                                      const Schedule &schedule);

/// The Schedule `config` describes.
Schedule scheduleOf(tile::KernelConfigAttr config);

} // namespace flashjit

#endif // FLASHJIT_COMPILER_KERNEL_KERNELCONFIG_H
