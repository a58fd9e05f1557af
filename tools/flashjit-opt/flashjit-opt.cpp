//===- flashjit-opt.cpp - mlir-opt with the tile dialect and our passes ---===//

#include "compiler/rules/TileOpRules.h"
#include "compiler/transforms/Passes.h"
#include "dialects/tile/TileDialect.h"
#include "tests/lib/TestPasses.h"
#include "tools/ToolVersion.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

int main(int argc, char **argv) {
  flashjit::setToolVersionPrinter("flashjit-opt");
  mlir::registerCanonicalizerPass();
  mlir::registerCSEPass();
  flashjit::registerFlashjitPasses();
  flashjit::test::registerTestPasses();

  mlir::DialectRegistry registry;
  // func holds ops under test outside a tile.program; arith, math, scf,
  // llvm and nvvm hold the kernels tile-build-kernels emits and whose math
  // lower-math-for-nvptx rewrites.
  registry.insert<flashjit::tile::TileDialect, mlir::func::FuncDialect,
                  mlir::arith::ArithDialect, mlir::math::MathDialect,
                  mlir::scf::SCFDialect, mlir::LLVM::LLVMDialect,
                  mlir::NVVM::NVVMDialect>();
  // The tile ops' per-element, derivative and bounds rules, which
  // tile-build-kernels and the test passes ask.
  flashjit::registerTileOpRuleModels(registry);
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "flashjit optimizer driver\n", registry));
}
