"""Small datasets: the shipped dinosaur names and generated tasks: binary subtraction,
negation-aware sentiment, the adding problem (Hochreiter & Schmidhuber 1997).

- :mod:`.dinos`: 1,536 dinosaur names, a newline-led character vocabulary, a bigram baseline;
- :mod:`.subtraction`: every pair ``a >= b`` of N-bit numbers as bit sequences;
- :mod:`.sentiment`: negation-aware sentiment sentences where word order matters;
- :mod:`.adding`: the adding problem, a long-range memory task;
- :mod:`.addition`, :mod:`.dates`, :mod:`.vocabulary`: sequence-to-sequence pairs (sums written
  out, dates in many formats to ISO) and the token ↔ id map with pad, start and end ids.
"""

from .adding import adding_problem
from .addition import addition_pairs
from .dates import DATE_FORMATS, date_pairs
from .dinos import (
    CharVocabulary,
    bigram_cross_entropy,
    encode_names,
    load_dino_names,
    split_names,
)
from .sentiment import SentimentData, negation_sentiment_dataset
from .subtraction import bits_to_int, format_example, int_to_bits, subtraction_dataset
from .vocabulary import Vocabulary

__all__ = [
    "DATE_FORMATS",
    "CharVocabulary",
    "SentimentData",
    "Vocabulary",
    "adding_problem",
    "addition_pairs",
    "bigram_cross_entropy",
    "bits_to_int",
    "date_pairs",
    "encode_names",
    "format_example",
    "int_to_bits",
    "load_dino_names",
    "negation_sentiment_dataset",
    "split_names",
    "subtraction_dataset",
]
