"""The optimisers in one namespace (each family lives in its own module).

Kept so that ``minitorch_rnn.optim.optimizers.Adam`` and friends keep working; new code imports
from :mod:`minitorch_rnn.optim`.
"""

from ..validation import check_keys
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .hyper import coerce_scalar
from .optimizer import NonFiniteStepError, Optimizer, parameter_list
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = [
    "SGD",
    "Adagrad",
    "Adam",
    "AdamW",
    "NonFiniteStepError",
    "Optimizer",
    "RMSprop",
    "check_keys",
    "coerce_scalar",
    "parameter_list",
]
