import sys

from formcheck.cli import main

sys.exit(main())
