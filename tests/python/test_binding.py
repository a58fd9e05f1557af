"""The Python package over the shared library, as users load it, without
torch or a GPU: finding libflashjit, an offline runtime (sm_90a, memory
cache only), variants by name and from program text, every error's
message, and the descriptors the binding writes read back by the C ABI's
own checks (a launch offline validates everything, then says there is no
device).

    FLASHJIT_LIBRARY=build/lib/libflashjit.so PYTHONPATH=bindings/python \\
        python3 -m unittest -v test_binding        # from tests/python
"""
import ctypes
import ctypes.util
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import unittest
from unittest import mock

import flashjit
from flashjit import BF16, F16, F32, I32, BufferView, FlashjitError, Params, TensorView

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
LIBRARY = os.environ.get("FLASHJIT_LIBRARY")
NO_DEVICE = "no device"  # what an offline launch says once every check passed


def read(*path):
    with open(os.path.join(REPO, *path)) as f:
        return f.read()


def view(dtype=BF16, shape=(1, 2, 17, 64), strides=None, data=1 << 20):
    """A TensorView at a fake 16-byte aligned address, contiguous unless
    strides are given."""
    if strides is None:
        strides = [1]
        for n in reversed(shape[1:]):
            strides.insert(0, strides[0] * n)
    return TensorView(data, dtype, tuple(shape), tuple(strides))


def forward_tensors(**changed):
    """q, k, v, o, lse of B 1, H 2, N 17, D 64 bf16, with some replaced."""
    tensors = {"q": view(), "k": view(), "v": view(), "o": view(),
               "lse": view(F32, (1, 2, 17))}
    tensors.update(changed)
    return [tensors[n] for n in ("q", "k", "v", "o", "lse")]


class Package(unittest.TestCase):
    def test_imported_from_the_checkout(self):
        self.assertEqual(os.path.dirname(flashjit.__file__),
                         os.path.join(REPO, "bindings", "python", "flashjit"))

    def test_import_does_not_import_torch(self):
        code = "import sys, flashjit; print(sorted(m for m in sys.modules if m.startswith('torch')))"
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True, env={**os.environ, "PYTHONPATH": os.path.dirname(
                                 os.path.dirname(flashjit.__file__))})
        self.assertEqual(out.stdout.strip(), "[]")

    def test_version_is_pyproject_version(self):
        pyproject = read("bindings", "python", "pyproject.toml")
        self.assertEqual(re.search(r'^version = "(.*)"', pyproject, re.M).group(1),
                         flashjit.__version__)
        self.assertEqual(flashjit.SONAME, "libflashjit.so." +
                         ".".join(flashjit.__version__.split(".")[:2]))


@unittest.skipUnless(LIBRARY, "set FLASHJIT_LIBRARY to the built libflashjit.so")
class Discovery(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.tmp)

    def without_env(self):
        return mock.patch.dict(os.environ, {"FLASHJIT_LIBRARY": ""})

    def test_explicit_path(self):
        lib = flashjit.load_library(LIBRARY)
        self.assertIs(flashjit.load_library(LIBRARY), lib)
        self.assertEqual(lib.flashjit_version().decode().split(".")[:2],
                         flashjit.__version__.split(".")[:2])

    def test_environment_variable(self):
        self.assertIs(flashjit.load_library(), flashjit.load_library(LIBRARY))

    def test_a_missing_explicit_path_is_the_only_place_looked(self):
        missing = os.path.join(self.tmp, "libflashjit.so")
        with self.assertRaises(FlashjitError) as e:
            flashjit.load_library(missing)
        message = str(e.exception)
        self.assertIn(f"the path given: {missing}", message)
        self.assertNotIn("$FLASHJIT_LIBRARY", message)
        self.assertIn("set FLASHJIT_LIBRARY", message)

    def test_a_wrong_environment_variable_says_so(self):
        missing = os.path.join(self.tmp, "nothing.so")
        with mock.patch.dict(os.environ, {"FLASHJIT_LIBRARY": missing}):
            with self.assertRaises(FlashjitError) as e:
                flashjit.load_library()
        self.assertIn(f"$FLASHJIT_LIBRARY: {missing}", str(e.exception))

    def test_a_library_without_the_c_abi_is_refused(self):
        libc = ctypes.util.find_library("c")
        with self.assertRaises(FlashjitError) as e:
            flashjit.load_library(libc)
        self.assertIn("no flashjit_version", str(e.exception))

    def test_the_error_lists_every_place_searched(self):
        package = os.path.join(self.tmp, "flashjit")
        with self.without_env(), mock.patch.object(flashjit, "_PACKAGE_DIR", package), \
                mock.patch.object(flashjit, "SONAME", "libflashjit-missing.so.0.4"), \
                mock.patch("ctypes.util.find_library", return_value=None):
            with self.assertRaises(FlashjitError) as e:
                flashjit.load_library()
        lines = str(e.exception).splitlines()
        self.assertEqual(lines[0], "cannot load libflashjit; looked at:")
        self.assertEqual(lines[1].strip(), f"the package ({package}/lib/libflashjit.so*): none")
        self.assertEqual(lines[2].strip(),
                         "the checkout's build (this package is not in a checkout): none")
        self.assertEqual(lines[3].strip(),
                         "the system loader (ctypes.util.find_library('flashjit')): none")
        self.assertTrue(lines[4].strip().startswith(
            "the system loader (libflashjit-missing.so.0.4): libflashjit-missing.so.0.4: "))

    def test_search_order_package_then_checkout_then_system(self):
        with self.without_env():
            places = [where for where, _ in flashjit._candidates(None)]
        self.assertEqual(len(places), 4)
        self.assertTrue(places[0].startswith("the package ("))
        self.assertEqual(places[1], "the checkout's build "
                         f"({os.path.join(REPO, 'build', 'lib')}/libflashjit.so*)")
        self.assertTrue(places[2].startswith("the system loader (ctypes.util"))
        self.assertEqual(places[3], f"the system loader ({flashjit.SONAME})")

    def test_a_wheel_copy_is_found_under_its_soname(self):
        package = os.path.join(self.tmp, "flashjit")
        os.makedirs(os.path.join(package, "lib"))
        soname = os.path.join(package, "lib", flashjit.SONAME)
        os.symlink(os.path.realpath(LIBRARY), soname)
        with self.without_env(), mock.patch.object(flashjit, "_PACKAGE_DIR", package):
            self.assertEqual(flashjit._candidates(None)[0][1], soname)
            self.assertIs(flashjit.load_library(), flashjit.load_library(LIBRARY))
            os.symlink(soname, os.path.join(package, "lib", "libflashjit.so"))
            self.assertEqual(flashjit._candidates(None)[0][1],
                             os.path.join(package, "lib", "libflashjit.so"))


@unittest.skipUnless(LIBRARY, "set FLASHJIT_LIBRARY to the built libflashjit.so")
class OfflineRuntime(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cache = tempfile.mkdtemp()
        cls.runtime = flashjit.Runtime(LIBRARY, offline_target="sm_90a", cache_dir=cls.cache,
                                       memory_cache_only=True)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.cache)

    def assertFails(self, message, call, *args, **kwargs):
        with self.assertRaises(FlashjitError) as e:
            call(*args, **kwargs)
        self.assertIn(message, str(e.exception))

    def test_builtin_causal(self):
        self.assertIsInstance(self.runtime.builtin("causal"), flashjit.Attention)

    def test_from_program_text(self):
        self.assertIsInstance(self.runtime.from_text(read("kernels", "causal.mlir")),
                              flashjit.Attention)

    def test_attention_takes_a_name_or_a_text(self):
        self.assertTrue(flashjit.is_program_text(read("kernels", "softcap.mlir")))
        self.assertFalse(flashjit.is_program_text("softcap"))
        self.runtime.attention("softcap")
        self.runtime.attention(read("kernels", "softcap.mlir"))

    def test_compile_ahead_of_time(self):
        compiled = self.runtime.builtin("causal").compile("forward", 64, "bf16")
        self.assertEqual(compiled.target, "sm_90a")
        self.assertIn(".entry flashjit_causal_forward(", compiled.ptx)
        kernel = compiled.metadata["kernels"][0]
        self.assertEqual(kernel["name"], "flashjit_causal_forward")
        self.assertEqual(kernel["args"][0], {"name": "q", "kind": "ptr"})
        backward = self.runtime.builtin("causal").compile("backward", 128, "float16")
        self.assertEqual([k["kind"] for k in backward.metadata["kernels"]],
                         ["backward_delta", "backward_dkdvdq", "backward_dq_convert"])
        self.assertFails("80", self.runtime.builtin("causal").compile, "forward", 80)
        self.assertFails("'sideways'", self.runtime.builtin("causal").compile, "sideways")

    def test_bad_program_text(self):
        self.assertFails("<program>:1:1: error: custom op 'tile.progam' is unknown",
                         self.runtime.from_text, "tile.progam @x {}")

    def test_unknown_builtin(self):
        self.assertFails("unknown variant 'causual'; built-in: full, causal,",
                         self.runtime.builtin, "causual")

    def test_unknown_offline_target(self):
        self.assertFails("sm_1", flashjit.Runtime, LIBRARY, offline_target="sm_1",
                         memory_cache_only=True)

    def test_memory_cache_only_leaves_the_cache_dir_empty(self):
        causal = self.runtime.builtin("causal")
        self.assertFails(NO_DEVICE, causal.forward, *forward_tensors())
        self.assertEqual(os.listdir(self.cache), [])

    # The descriptors: each field read back by the runtime's validation.
    def test_forward_descriptors(self):
        causal = self.runtime.builtin("causal")
        self.assertFails(NO_DEVICE, causal.forward, *forward_tensors())
        self.assertFails("lse has shape [1, 2, 16, 1], expected [1, 2, 17, 1]", causal.forward,
                         *forward_tensors(lse=view(F32, (1, 2, 16))))
        self.assertFails("k is f16 but q is bf16", causal.forward,
                         *forward_tensors(k=view(F16)))
        self.assertFails("v's stride 68 (dimension 2) is not a multiple of 8", causal.forward,
                         *forward_tensors(v=view(strides=(2176, 1088, 68, 1))))
        self.assertFails("o is a null pointer", causal.forward, *forward_tensors(o=view(data=0)))
        self.assertFails("q has 2 heads, not a multiple of k's 3", causal.forward,
                         *forward_tensors(k=view(shape=(1, 3, 17, 64))))
        self.assertFails(NO_DEVICE, causal.forward,
                         *forward_tensors(lse=view(F32, (1, 2, 17, 1))))

    def test_backward_descriptors(self):
        causal = self.runtime.builtin("causal")
        grads = [view(), view(), view(), view()]  # dO, dq, dk, dv
        self.assertFails(NO_DEVICE, causal.backward, *forward_tensors(), *grads)
        self.assertFails("dv has shape [1, 2, 9, 64], expected [1, 2, 17, 64]", causal.backward,
                         *forward_tensors(), *grads[:3], view(shape=(1, 2, 9, 64)))
        self.assertFails("dO is f16 but q is bf16", causal.backward, *forward_tensors(),
                         view(F16), *grads[1:])

    def test_a_rank_5_tensor_is_refused(self):
        causal = self.runtime.builtin("causal")
        self.assertFails("rank 5", causal.forward,
                         *forward_tensors(q=view(shape=(1, 1, 2, 17, 64))))

    def test_scalar_parameters(self):
        window = self.runtime.builtin("sliding_window")
        self.assertFails("needs the parameter 'window' (i32)", window.forward, *forward_tensors())
        self.assertFails("parameter 'window' of variant 'sliding_window' is i32, got f32",
                         window.forward, *forward_tensors(), Params(window=4.0))
        self.assertFails("'size' is not a parameter of variant 'sliding_window'",
                         window.forward, *forward_tensors(), Params(window=4, size=2))
        self.assertFails(NO_DEVICE, window.forward, *forward_tensors(), Params(window=4))
        softcap = self.runtime.builtin("softcap")
        self.assertFails(NO_DEVICE, softcap.forward, *forward_tensors(), Params(softcap=30.0))

    def test_softmax_scale(self):
        causal = self.runtime.builtin("causal")
        self.assertFails("the softmax scale is not finite", causal.forward, *forward_tensors(),
                         Params(softmax_scale=float("inf")))
        self.assertFails(NO_DEVICE, causal.forward, *forward_tensors(), Params(softmax_scale=0.5))

    def test_buffers(self):
        alibi = self.runtime.builtin("alibi")
        slopes = BufferView(1 << 20, F32, (2,))
        self.assertFails("needs the buffer 'slopes'", alibi.forward, *forward_tensors())
        self.assertFails("buffer 'slopes' dimension 0 ('head') has 3 entries, expected 2",
                         alibi.forward, *forward_tensors(), Params(slopes=slopes._replace(shape=(3,))))
        self.assertFails("buffer 'slopes' is i32, expected f32", alibi.forward, *forward_tensors(),
                         Params(slopes=slopes._replace(dtype=I32)))
        self.assertFails(NO_DEVICE, alibi.forward, *forward_tensors(), Params(slopes=slopes))
        bias = self.runtime.builtin("relative_bias")
        table = BufferView(1 << 20, F32, (2, 33), 5)
        self.assertFails("buffer 'bias' has row stride 5 < its 33 columns", bias.forward,
                         *forward_tensors(), Params(max_distance=16, bias=table))
        self.assertFails(NO_DEVICE, bias.forward, *forward_tensors(),
                         Params(max_distance=16, bias=table._replace(row_stride=40)))

    def test_params_refused_before_the_library(self):
        with self.assertRaisesRegex(FlashjitError, "'window' = 4294967296 does not fit in i32"):
            Params(window=2**32)
        with self.assertRaisesRegex(FlashjitError, "dropout seed -1 is not a uint64"):
            Params(seed=-1)
        with self.assertRaisesRegex(FlashjitError, "'window' is a str"):
            Params(window="4")
        with self.assertRaisesRegex(FlashjitError, "buffer 'bias' has rank 3"):
            Params(bias=BufferView(1 << 20, F32, (1, 2, 3)))

    def test_dropout_seed_and_offset_are_accepted(self):
        dropout = self.runtime.builtin("dropout")
        self.assertFails(NO_DEVICE, dropout.forward, *forward_tensors(),
                         Params(seed=2**64 - 1, offset=2**40))


# What flashjit_c.h declares, field by field, for the structs the binding
# writes: (struct, [fields]) in declaration order.
_LAYOUTS = {
    "flashjit_tensor": ["data", "dtype", "shape", "strides"],
    "flashjit_scalar": ["name", "dtype", "f32", "i32"],
    "flashjit_buffer": ["name", "data", "dtype", "rank", "shape", "row_stride"],
    "flashjit_params": ["has_softmax_scale", "softmax_scale", "dropout_seed", "dropout_offset",
                        "scalars", "num_scalars", "buffers", "num_buffers"],
    "flashjit_runtime_options": ["size", "device", "cache_dir", "memory_cache_only",
                                 "offline_target", "deterministic", "target"],
}


def _binding_layouts():
    """The binding's idea of each struct: (size, [offsets])."""
    structs = {"flashjit_scalar": flashjit._Scalar, "flashjit_buffer": flashjit._Buffer,
               "flashjit_params": flashjit._Params,
               "flashjit_runtime_options": flashjit._RuntimeOptions}
    layouts = {name: (ctypes.sizeof(s), [getattr(s, f).offset for f in _LAYOUTS[name]])
               for name, s in structs.items()}
    # "0q" aligns to the next int64 without adding one.
    tensor = [struct.calcsize("@" + prefix) for prefix in ("", "P", "Pi0q", "Pi4q0q")]
    layouts["flashjit_tensor"] = (struct.calcsize("@" + flashjit._TENSOR), tensor)
    return layouts


def _include_dirs():
    """flashjit_c.h's folder and the generated flashjit/version.h's (the
    build tree's include/, next to its lib/)."""
    generated = os.environ.get("FLASHJIT_BUILD_INCLUDE") or \
        os.path.join(os.path.dirname(os.path.dirname(os.path.realpath(LIBRARY or "."))), "include")
    return [os.path.join(REPO, "include"), generated]


@unittest.skipUnless(shutil.which("cc"), "no C compiler")
@unittest.skipUnless(os.path.isfile(os.path.join(_include_dirs()[1], "flashjit", "version.h")),
                     "no generated flashjit/version.h (set FLASHJIT_BUILD_INCLUDE)")
class Abi(unittest.TestCase):
    def test_struct_layouts_match_the_header(self):
        lines = []
        for name, fields in _LAYOUTS.items():
            offsets = ", ".join(f"(long)offsetof({name}, {f})" for f in fields)
            lines.append(f'printf("{name} %ld' + " %ld" * len(fields) +
                         f'\\n", (long)sizeof({name}), {offsets});')
        source = ("#include <stddef.h>\n#include <stdio.h>\n#include \"flashjit/flashjit_c.h\"\n"
                  "int main(void) {\n" + "\n".join(lines) + "\nreturn 0;\n}\n")
        with tempfile.TemporaryDirectory() as tmp:
            with open(os.path.join(tmp, "layout.c"), "w") as f:
                f.write(source)
            includes = [f"-I{d}" for d in _include_dirs()]
            subprocess.run(["cc", *includes, "-o", os.path.join(tmp, "layout"),
                            os.path.join(tmp, "layout.c")], check=True)
            out = subprocess.run([os.path.join(tmp, "layout")], capture_output=True, text=True,
                                 check=True).stdout
        header = {line.split()[0]: (int(line.split()[1]), [int(x) for x in line.split()[2:]])
                  for line in out.splitlines()}
        self.assertEqual(header, _binding_layouts())


if __name__ == "__main__":
    unittest.main()
