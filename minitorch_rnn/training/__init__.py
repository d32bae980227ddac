"""Training: the Trainer, callbacks, metrics, and batching/padding/stream utilities."""

from . import callbacks, metrics
from .callbacks import (
    Callback,
    EarlyStopping,
    History,
    LearningRateScheduler,
    ModelCheckpoint,
)
from .data import StreamLoader, batches, pad_sequences
from .metrics import Metric
from .trainer import NonFiniteError, Trainer

__all__ = [
    "Callback",
    "EarlyStopping",
    "History",
    "LearningRateScheduler",
    "Metric",
    "ModelCheckpoint",
    "NonFiniteError",
    "StreamLoader",
    "Trainer",
    "batches",
    "callbacks",
    "metrics",
    "pad_sequences",
]
