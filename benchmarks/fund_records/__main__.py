"""``python -m benchmarks.fund_records``."""

import sys

from benchmarks.fund_records.run import main

if __name__ == "__main__":
    sys.exit(main())
