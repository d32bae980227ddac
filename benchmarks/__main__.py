"""``python -m benchmarks``: see :mod:`benchmarks.run`.

Before numpy loads, the BLAS-forcing variables are removed from this process's environment (or
the process re-executes itself without them), unless ``--keep-blas-env`` asks to measure the
forced kernel: see :mod:`benchmarks.blas_env`.
"""

import sys

from .blas_env import own_kernel_environment

if "--keep-blas-env" not in sys.argv[1:]:
    own_kernel_environment(sys.argv[1:])

# numpy loads here, after the environment is settled
from .run import main

raise SystemExit(main())
