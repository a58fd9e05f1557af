# lit configuration for flashjit's FileCheck tests.
import os
import sys

import lit.formats

config.name = "flashjit"
config.test_format = lit.formats.ShTest(execute_external=True)
config.suffixes = [".mlir", ".test"]
config.excludes = ["CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py.in", "ptx_matrix.py"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = config.flashjit_lit_exec_root

config.environment["PATH"] = os.pathsep.join(
    [config.flashjit_tools_dir, config.llvm_tools_dir, config.environment.get("PATH", os.environ["PATH"])]
)
config.substitutions.append(("%kernels", os.path.join(config.flashjit_source_dir, "kernels")))
config.substitutions.append(("%version", config.flashjit_version))

config.substitutions.append(("%python", sys.executable))
ptxas = "/usr/local/cuda/bin/ptxas"
if os.path.exists(ptxas):
    config.available_features.add("ptxas")
    config.substitutions.append(("%ptxas", ptxas))

try:
    import ctypes
    ctypes.CDLL("libcuda.so.1")
    config.available_features.add("cuda-driver")
except OSError:
    pass
