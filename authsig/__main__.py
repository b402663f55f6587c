"""``python -m authsig``: the ``authsig`` command, for when the console script is not on PATH."""

import sys

from authsig.cli import main

sys.exit(main())
