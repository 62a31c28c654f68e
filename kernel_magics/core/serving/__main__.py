"""``python -m kernel_magics.core.serving``: the process the local serving backend spawns."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments the backend passes and serve the deployment."""
    from .options import add_arguments, from_arguments

    parser = argparse.ArgumentParser(prog="python -m kernel_magics.core.serving")
    parser.add_argument("--deployment-id", type=int, required=True)
    parser.add_argument("--ready-fd", type=int, default=None)
    add_arguments(parser)
    args = parser.parse_args(argv)
    from .worker import run_deployment

    return run_deployment(args.deployment_id, args.ready_fd, from_arguments(args))


if __name__ == "__main__":
    sys.exit(main())
