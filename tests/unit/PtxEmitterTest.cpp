//===- PtxEmitterTest.cpp - NVVM-dialect kernels become PTX ptxas takes ---===//

#include "compiler/codegen/PtxEmitter.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Verifier.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <unistd.h>

using namespace mlir;
using namespace flashjit;

namespace {

constexpr const char *kPtxas = "/usr/local/cuda/bin/ptxas";

/// One warp: D = A * B + 0 with m16n8k16 on zero operands, stored to out.
OwningOpRef<ModuleOp> buildMmaKernel(MLIRContext &ctx, bool bf16) {
  OpBuilder b(&ctx);
  Location loc = b.getUnknownLoc();
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  b.setInsertionPointToEnd(module->getBody());
  auto ptr = LLVM::LLVMPointerType::get(&ctx, 1);
  auto fn = LLVM::LLVMFuncOp::create(
      b, loc, "mma_kernel",
      LLVM::LLVMFunctionType::get(LLVM::LLVMVoidType::get(&ctx), {ptr}));
  fn->setAttr(NVVM::NVVMDialect::getKernelFuncAttrName(), b.getUnitAttr());
  fn->setAttr(NVVM::NVVMDialect::getReqntidAttrName(),
              b.getDenseI32ArrayAttr({32, 1, 1}));
  Block *entry = fn.addEntryBlock(b);
  b.setInsertionPointToStart(entry);

  Type f32 = b.getF32Type();
  Type operand =
      bf16 ? Type(b.getI32Type()) : Type(VectorType::get({2}, b.getF16Type()));
  Value zero = LLVM::ZeroOp::create(b, loc, operand);
  Value fzero =
      arith::ConstantFloatOp::create(b, loc, b.getF32Type(), APFloat(0.0f));
  SmallVector<Value> a(4, zero), bOps(2, zero), c(4, fzero);
  auto resultType =
      LLVM::LLVMStructType::getLiteral(&ctx, {f32, f32, f32, f32});
  auto inputType = bf16 ? NVVM::MMATypes::bf16 : NVVM::MMATypes::f16;
  Value d = NVVM::MmaOp::create(
      b, loc, resultType, a, bOps, c, ArrayRef<int64_t>{16, 8, 16},
      std::nullopt, std::nullopt,
      std::array<NVVM::MMATypes, 2>{inputType, inputType},
      std::array<NVVM::MMALayout, 2>{NVVM::MMALayout::row,
                                     NVVM::MMALayout::col});
  Value lane = NVVM::ThreadIdXOp::create(b, loc, b.getI32Type());
  for (int64_t i = 0; i < 4; ++i) {
    Value four = arith::ConstantIntOp::create(b, loc, b.getI32Type(), 4);
    Value offset = arith::AddIOp::create(
        b, loc, arith::MulIOp::create(b, loc, lane, four),
        arith::ConstantIntOp::create(b, loc, b.getI32Type(), i));
    Value address = LLVM::GEPOp::create(b, loc, ptr, f32, entry->getArgument(0),
                                        ArrayRef<LLVM::GEPArg>{offset});
    LLVM::StoreOp::create(
        b, loc, LLVM::ExtractValueOp::create(b, loc, d, ArrayRef<int64_t>{i}),
        address);
  }
  LLVM::ReturnOp::create(b, loc, ValueRange{});
  return module;
}

/// Runs ptxas on `ptx`; returns its exit status. The file is named after
/// the test and the process, since ctest runs tests in parallel.
int assemble(const std::string &ptx, const std::string &arch) {
  std::string path =
      ::testing::TempDir() + "/flashjit-" +
      ::testing::UnitTest::GetInstance()->current_test_info()->name() + "-" +
      std::to_string(getpid()) + ".ptx";
  std::replace(path.begin() + ::testing::TempDir().size(), path.end(), '/',
               '_');
  std::ofstream(path) << ptx;
  std::string command =
      std::string(kPtxas) + " -arch=" + arch + " " + path + " -o /dev/null";
  int status = std::system(command.c_str());
  std::remove(path.c_str());
  return status;
}

class PtxEmitterTest
    : public ::testing::TestWithParam<std::tuple<std::string, bool /*bf16*/>> {
};

TEST_P(PtxEmitterTest, MmaKernelAssembles) {
  auto [arch, bf16] = GetParam();
  DialectRegistry registry;
  registerKernelDialects(registry);
  MLIRContext ctx(registry);
  ctx.loadAllAvailableDialects();
  OwningOpRef<ModuleOp> module = buildMmaKernel(ctx, bf16);
  ASSERT_TRUE(succeeded(verify(*module)));

  std::vector<std::string> stages;
  Expected<std::string> ptx =
      emitPtx(*module, *targetByName(arch),
              [&](const std::string &stage, const std::string &) {
                stages.push_back(stage);
              });
  ASSERT_TRUE(ptx) << ptx.error().message();
  EXPECT_EQ(stages,
            (std::vector<std::string>{"llvm-dialect", "llvm-ir", "ptx"}));
  EXPECT_NE(ptx->find(".target " + arch), std::string::npos) << *ptx;
  std::string mma = bf16 ? "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32"
                         : "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32";
  EXPECT_NE(ptx->find(mma), std::string::npos) << *ptx;
  EXPECT_NE(ptx->find(".entry mma_kernel"), std::string::npos) << *ptx;

  if (!std::filesystem::exists(kPtxas))
    GTEST_SKIP() << kPtxas << " is not installed; the PTX was not assembled";
  EXPECT_EQ(assemble(*ptx, arch), 0) << *ptx;
}

INSTANTIATE_TEST_SUITE_P(
    Targets, PtxEmitterTest,
    ::testing::Combine(::testing::Values("sm_80", "sm_90a"), ::testing::Bool()),
    [](const auto &info) {
      return std::get<0>(info.param) +
             (std::get<1>(info.param) ? "_bf16" : "_f16");
    });

} // namespace
