"""`python -m chalicelib.cli ...`: the command line (see chalicelib/ops/cli.py)."""
from chalicelib.ops.cli import main

if __name__ == '__main__':
    main()
