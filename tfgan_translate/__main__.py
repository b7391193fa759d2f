"""`python -m tfgan_translate ARGS...` is `tfgan-translate ARGS...`."""

import sys

from tfgan_translate.app.cli import main

sys.exit(main())
