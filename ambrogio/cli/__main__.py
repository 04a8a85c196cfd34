"""``python -m ambrogio.cli``: the same as the ``ambrogio`` command."""

import sys

from ambrogio.cli import main

sys.exit(main())
