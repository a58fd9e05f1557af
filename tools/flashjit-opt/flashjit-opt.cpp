//===- flashjit-opt.cpp - mlir-opt with the tile dialect and our passes ---===//

#include "compiler/transforms/Passes.h"
#include "dialects/tile/TileDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

namespace flashjit::test {
void registerTestPasses();
} // namespace flashjit::test

int main(int argc, char **argv) {
  mlir::registerCanonicalizerPass();
  mlir::registerCSEPass();
  flashjit::registerFlashjitPasses();
  flashjit::test::registerTestPasses();

  mlir::DialectRegistry registry;
  // func holds ops under test outside a tile.program.
  registry.insert<flashjit::tile::TileDialect, mlir::func::FuncDialect>();
  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv, "flashjit optimizer driver\n", registry));
}
