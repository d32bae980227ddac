"""Sequence to sequence: attention, an encoder–decoder model, greedy and beam search."""

from .attention import Attention
from .decoder import Decoder
from .encoder import Encoder
from .model import Seq2Seq
from .search import generate

__all__ = ["Attention", "Decoder", "Encoder", "Seq2Seq", "generate"]
