"""``python -m benchmarks.auto_repay``: see the package docstring."""

import sys

from .run import main

sys.exit(main())
