"""The ``minitorch-rnn`` console script: one subcommand per application.

User errors (missing files, bad values, unreadable checkpoints) end with one line on stderr and
exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
from typing import NoReturn

from .examples import adding, charlm, dinos, gradflow, sample, sentiment, seq2seq, subtract, sweep
from .examples.common import CLIError, Interrupted

PROG = "minitorch-rnn"


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Train and run the recurrent-network applications of minitorch_rnn.",
    )
    from . import __version__

    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    subparsers.required = True
    for application in (
        dinos,
        sample,
        subtract,
        sentiment,
        charlm,
        adding,
        gradflow,
        sweep,
        seq2seq,
    ):
        application.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code = int(args.func(args))
        # flush here, inside the try, so that a closed pipe surfaces as BrokenPipeError below
        sys.stdout.flush()
        return code
    except CLIError as error:
        print(f"{PROG} {args.command}: error: {error}", file=sys.stderr)
        return 2
    except Interrupted as error:
        print(f"{PROG} {args.command}: interrupted; {error}", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print(f"{PROG} {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (``... | head -1``): stop quietly, as Unix tools do.
        _silence_stdout()
        return 141  # 128 + SIGPIPE, what a shell reports for a tool ended by a closed pipe


def _silence_stdout() -> None:
    """Point stdout at /dev/null so that the interpreter's final flush cannot fail again."""
    with contextlib.suppress(OSError, ValueError, io.UnsupportedOperation):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


if __name__ == "__main__":
    sys.exit(main())
