"""Feed-forward layers."""

from .activations import Logistic, ReLU, Sigmoid, Softmax, Tanh
from .dense import Dense
from .dropout import Dropout
from .embedding import Embedding

__all__ = ["Dense", "Dropout", "Embedding", "Logistic", "ReLU", "Sigmoid", "Softmax", "Tanh"]
