"""``python -m benchmarks.hot_loan``: see the package docstring."""

import sys

from .run import main

sys.exit(main())
