"""``python -m authsig.cli``: the same as ``python -m authsig``."""

import sys

from authsig.cli import main

sys.exit(main())
