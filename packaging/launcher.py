"""Start of the frozen app: the window when started without arguments, the command line with them."""

import sys

from ofa_manager.cli import main

if __name__ == "__main__":
    # Older macOS versions hand an app started from the Finder a process serial number argument.
    arguments = [argument for argument in sys.argv[1:] if not argument.startswith("-psn_")]
    sys.exit(main(arguments))
