"""Build and install hotfire: one distribution, one import name (``hotfire``).

The repository keeps the fixed top-level layout (daq/, analysis/, ext/, gui/)
plus core/ (the bottom layer every stage shares); ``package_dir`` maps each
folder under the ``hotfire`` import name, and the root package (the command
line, the top layer) lives in cli/.
"""
import numpy
from Cython.Build import cythonize
from setuptools import Extension, setup

extensions = [
    Extension(
        "hotfire.ext._ring",
        ["ext/_ring.pyx"],
        include_dirs=[numpy.get_include(), "ext"],
        depends=["ext/ring_atomic.h", "ext/ring_copy.h"],
        extra_compile_args=["-O3"],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
    ),
    Extension(
        "hotfire.ext._signal",
        ["ext/_signal.pyx"],
        include_dirs=[numpy.get_include(), "ext"],
        depends=["ext/signal_extremes.h"],
        extra_compile_args=["-O3"],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
    ),
]

setup(
    name="hotfire",
    version="0.1.0",
    description="Acquisition, durable recording, live view and analysis for rocket-engine test stands",
    python_requires=">=3.11",
    package_dir={
        "hotfire": "cli",
        "hotfire.core": "core",
        "hotfire.daq": "daq",
        "hotfire.analysis": "analysis",
        "hotfire.ext": "ext",
        "hotfire.gui": "gui",
    },
    packages=[
        "hotfire",
        "hotfire.core",
        "hotfire.core.runfile",
        "hotfire.daq",
        "hotfire.daq.journal",
        "hotfire.daq.sources",
        "hotfire.daq.sources.simdriver",
        "hotfire.analysis",
        "hotfire.analysis.catalog",
        "hotfire.analysis.compare",
        "hotfire.analysis.importers",
        "hotfire.ext",
        "hotfire.gui",
    ],
    package_data={"hotfire.ext": ["*.pyx", "*.pyi", "*.h"], "hotfire": ["py.typed"]},
    ext_modules=cythonize(extensions, language_level=3),
    install_requires=[
        "numpy>=1.26,<3",
        "scipy>=1.11",
        "h5py>=3.10",
        # CRC-32 of the journal at ~6 GB/s (falls back to zlib, same values)
        "isal>=1.6",
        "cea>=3.3,<4",
        "nidaqmx>=1.0,<2",
        "pyzmq>=25",
        "pyqtgraph>=0.13.7",
        # PySide6 6.12.0 crashes pyqtgraph on Python 3.11 (none_dealloc).
        "PySide6>=6.6,<6.12",
        # analysis: report plots (PNG, Agg) and NI TDMS import
        "matplotlib>=3.8,<4",
        "npTDMS>=1.7,<2",
        # batch analysis and the run catalog (analysis/batch.py, catalog.py)
        "dask[distributed]>=2024.1",
    ],
    extras_require={
        "test": ["pytest>=8", "pytest-qt>=4.4", "pytest-xdist>=3.5", "hypothesis>=6.100"],
        # make mutation (tests/mutation.py); installed by that target when missing
        "mutation": ["cosmic-ray>=8.3,<9"],
    },
    entry_points={"console_scripts": ["hotfire = hotfire.cli:main"]},
)
