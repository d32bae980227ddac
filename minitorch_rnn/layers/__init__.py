"""Feed-forward layers."""

from .activations import Logistic, ReLU, Sigmoid, Softmax, Tanh
from .dense import Dense
from .dropout import Dropout
from .embedding import Embedding
from .pooling import MeanPool

__all__ = [
    "Dense",
    "Dropout",
    "Embedding",
    "Logistic",
    "MeanPool",
    "ReLU",
    "Sigmoid",
    "Softmax",
    "Tanh",
]
