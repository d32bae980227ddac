"""Training: the Trainer, callbacks, metrics, and batching/padding/stream utilities."""

from . import callbacks, metrics
from .callbacks import (
    Callback,
    CosineAnnealingOverTime,
    EarlyStopping,
    LearningRateScheduler,
    ModelCheckpoint,
    TimeBudget,
)
from .data import StreamLoader, batches, pad_sequences
from .history import History
from .metrics import Metric
from .strategy import LocalStrategy, Strategy
from .trainer import Trainer

__all__ = [
    "Callback",
    "CosineAnnealingOverTime",
    "EarlyStopping",
    "History",
    "LearningRateScheduler",
    "LocalStrategy",
    "Metric",
    "ModelCheckpoint",
    "Strategy",
    "StreamLoader",
    "TimeBudget",
    "Trainer",
    "batches",
    "callbacks",
    "metrics",
    "pad_sequences",
]
