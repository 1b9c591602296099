"""``python -m ofa_manager.cli``: the command line."""

import sys

from ofa_manager.cli import main

sys.exit(main())
