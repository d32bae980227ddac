"""The ``minitorch-rnn`` console script: one subcommand per application.

User errors (missing files, bad values, unreadable checkpoints) end with one line on stderr and
exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import re
import sys
from typing import Any, NoReturn

from .examples import adding, charlm, dinos, gradflow, sample, sentiment, seq2seq, subtract, sweep
from .examples.common import CLIError, Interrupted

PROG = "minitorch-rnn"


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors and plain-text help."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")

    def format_help(self) -> str:
        # the descriptions are the modules' docstrings, written for the API pages: their reST
        # literals (``name``) read as plain names on a terminal
        return _REST_LITERAL.sub(r"\1", super().format_help())


_REST_LITERAL = re.compile(r"``([^`]+)``")


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
    _line_buffered(sys.stdout)
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


def _line_buffered(stream: Any) -> None:
    """Write ``stream`` line by line, so that redirected (``> log 2>&1``) stdout and stderr
    (progress lines, warnings) interleave in the order they were printed."""
    reconfigure = getattr(stream, "reconfigure", None)
    if callable(reconfigure):
        with contextlib.suppress(ValueError, io.UnsupportedOperation):
            reconfigure(line_buffering=True)


def _silence_stdout() -> None:
    """Point stdout at /dev/null so that the interpreter's final flush cannot fail again."""
    with contextlib.suppress(OSError, ValueError, io.UnsupportedOperation):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


if __name__ == "__main__":
    sys.exit(main())
