import sys

from hotfire.cli import main

sys.exit(main())
