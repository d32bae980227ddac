"""Optimisers, learning-rate schedulers and gradient clipping (``mt.optim``).

Update rules and learning-rate sequences equal :mod:`torch.optim`'s of the same name and arguments.
"""

from .adagrad import Adagrad
from .adam import Adam, AdamW
from .clip import clip_grad_norm, clip_grad_value
from .optimizer import NonFiniteStepError, Optimizer
from .rmsprop import RMSprop
from .schedulers import CosineAnnealingLR, ExponentialLR, LRScheduler, ReduceLROnPlateau, StepLR
from .sgd import SGD

__all__ = [
    "SGD",
    "Adagrad",
    "Adam",
    "AdamW",
    "CosineAnnealingLR",
    "ExponentialLR",
    "LRScheduler",
    "NonFiniteStepError",
    "Optimizer",
    "RMSprop",
    "ReduceLROnPlateau",
    "StepLR",
    "clip_grad_norm",
    "clip_grad_value",
]
