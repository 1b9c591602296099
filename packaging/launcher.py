"""Start of the frozen app: the window when started without arguments, the command line with them."""

import sys

from ofa_manager.cli import main

if __name__ == "__main__":
    sys.exit(main())
