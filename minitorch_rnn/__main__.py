"""``python -m minitorch_rnn`` runs the ``minitorch-rnn`` command."""

import sys

from .cli import main

sys.exit(main())
