"""Start of the frozen app: the window, the command line (with arguments) or the download process."""

import os
import sys

if __name__ == "__main__":
    if os.environ.pop("OFA_MANAGER_QUEUE_PROCESS", None) == "1":
        # The window starts this same executable as its download process (see gui/queue_process.py).
        from ofa_manager.gui.queue_process import main as queue_process

        sys.exit(queue_process())
    from ofa_manager.cli import main

    # Older macOS versions hand an app started from the Finder a process serial number argument.
    arguments = [argument for argument in sys.argv[1:] if not argument.startswith("-psn_")]
    sys.exit(main(arguments))
