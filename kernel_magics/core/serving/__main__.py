"""``python -m kernel_magics.core.serving``: the process the local serving backend spawns."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments the backend passes and serve the deployment."""
    parser = argparse.ArgumentParser(prog="python -m kernel_magics.core.serving")
    parser.add_argument("--deployment-id", type=int, required=True)
    parser.add_argument("--ready-fd", type=int, default=None)
    parser.add_argument("--allow-pickle", action="store_true")
    parser.add_argument("--sample-rate", type=float, default=0.1)
    parser.add_argument("--max-body", type=int, default=10 * 1024 * 1024)
    args = parser.parse_args(argv)
    from .worker import run_deployment

    return run_deployment(
        args.deployment_id,
        args.ready_fd,
        allow_pickle=args.allow_pickle,
        sample_rate=args.sample_rate,
        max_body=args.max_body,
    )


if __name__ == "__main__":
    sys.exit(main())
