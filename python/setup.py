"""The wheel's tags: py3-none-linux_x86_64, not py3-none-any.

The package is pure Python, but it ships libonlyone.so, a native library
for one platform: a py3-none-any tag would let pip install it on any
machine, where loading the library then fails. Any Python 3 can load it
(ctypes, no Python ABI involved), hence py3-none rather than cp311-cp311.
Everything else is in pyproject.toml.
"""

from setuptools import Distribution, setup
from wheel.bdist_wheel import bdist_wheel


class NativeLibraryDistribution(Distribution):
    def has_ext_modules(self):
        return True  # a platform wheel, installed to platlib


class NativeLibraryWheel(bdist_wheel):
    def get_tag(self):
        _, _, platform = super().get_tag()
        return "py3", "none", platform


setup(distclass=NativeLibraryDistribution, cmdclass={"bdist_wheel": NativeLibraryWheel})
