"""Runnable applications behind the ``minitorch-rnn`` command."""
