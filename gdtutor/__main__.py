"""`python -m gdtutor` is `gdtutor`."""
import sys

from .cli import main

sys.exit(main())
