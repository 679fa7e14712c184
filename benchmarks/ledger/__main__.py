"""``python -m benchmarks.ledger``."""

import sys

from benchmarks.ledger.run import main

if __name__ == "__main__":
    sys.exit(main())
