"""minitorch_rnn: a deep-learning framework for recurrent networks with explicit backward passes.

Every public name is re-exported here, flat::

    import minitorch_rnn as mt
    model = mt.Sequential(mt.Dense(2, 8), mt.Tanh(), mt.Dense(8, 1), mt.Logistic())
"""

from . import datasets, errors, functional, generate, init, interop, optim, recurrent, seq2seq
from .config import build, register_module
from .dtype import get_default_dtype, set_default_dtype
from .errors import (
    NonFiniteError,
    NonFiniteGradientError,
    NonFiniteInputError,
    NonFiniteLossError,
    NonFiniteOutputError,
    NonFiniteStepError,
    NonFiniteValueError,
)
from .gradcheck import gradcheck
from .layers import Dense, Dropout, Embedding, Logistic, MeanPool, ReLU, Sigmoid, Softmax, Tanh
from .losses import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, Loss, MSELoss
from .module import Module, Parameter, Sequential
from .optim import clip_grad_norm, clip_grad_value
from .recurrent import (
    GRU,
    LSTM,
    RNN,
    Bidirectional,
    GRUCell,
    LSTMCell,
    RecurrentCell,
    RecurrentStack,
    RNNCell,
    Unroll,
)
from .seq2seq import Attention, Seq2Seq
from .serialization import load, load_model, save
from .summary import summary
from .training import (
    StreamLoader,
    Trainer,
    batches,
    callbacks,
    metrics,
    pad_sequences,
)

__version__ = "0.1.0"

__all__ = [
    "GRU",
    "LSTM",
    "RNN",
    "Attention",
    "BCELoss",
    "BCEWithLogitsLoss",
    "Bidirectional",
    "CrossEntropyLoss",
    "Dense",
    "Dropout",
    "Embedding",
    "GRUCell",
    "LSTMCell",
    "Logistic",
    "Loss",
    "MSELoss",
    "MeanPool",
    "Module",
    "NonFiniteError",
    "NonFiniteGradientError",
    "NonFiniteInputError",
    "NonFiniteLossError",
    "NonFiniteOutputError",
    "NonFiniteStepError",
    "NonFiniteValueError",
    "Parameter",
    "RNNCell",
    "ReLU",
    "RecurrentCell",
    "RecurrentStack",
    "Seq2Seq",
    "Sequential",
    "Sigmoid",
    "Softmax",
    "StreamLoader",
    "Tanh",
    "Trainer",
    "Unroll",
    "__version__",
    "batches",
    "build",
    "callbacks",
    "clip_grad_norm",
    "clip_grad_value",
    "datasets",
    "errors",
    "functional",
    "generate",
    "get_default_dtype",
    "gradcheck",
    "init",
    "interop",
    "load",
    "load_model",
    "metrics",
    "optim",
    "pad_sequences",
    "recurrent",
    "register_module",
    "save",
    "seq2seq",
    "set_default_dtype",
    "summary",
]
