import sys

from tools.recall_bench.cli import main

sys.exit(main())
