"""Entry point for ``python -m ofa_manager``."""

import sys

from ofa_manager.cli import main

sys.exit(main())
