"""``python -m chatface.cli``: the same as the ``chatface`` command."""

import sys

from . import main

sys.exit(main())
