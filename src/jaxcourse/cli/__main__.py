import sys

from jaxcourse.cli import main

sys.exit(main())
