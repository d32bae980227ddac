"""The source documents' binary-subtraction task learned to 100% with the Trainer."""

from __future__ import annotations

from minitorch_rnn.datasets.subtraction import bits_to_int, subtraction_dataset
from minitorch_rnn.layers import Dense, Logistic
from minitorch_rnn.losses import BCELoss
from minitorch_rnn.module import Sequential
from minitorch_rnn.optim import Adam
from minitorch_rnn.recurrent import RNNCell, Unroll
from minitorch_rnn.training import EarlyStopping, Trainer

MAX_EPOCHS = 200


def test_rnn_learns_4_bit_subtraction_exactly_and_stops_early_at_the_target() -> None:
    x, y, a, b = subtraction_dataset(4)
    hidden = 16
    model = Sequential(
        Unroll(RNNCell(2, hidden, nonlinearity="tanh", seed=0)),
        Dense(hidden, 1, seed=1),
        Logistic(),
    )
    # As in the source documents, training stops once every one of the 136 pairs is right,
    # judged on the weights at the end of the epoch (the validation pass).
    stopper = EarlyStopping(
        monitor="val_sequence_accuracy", mode="max", target=1.0, patience=MAX_EPOCHS
    )
    trainer = Trainer(
        model,
        BCELoss(),
        Adam(model.parameters(), lr=0.05),
        metrics=("accuracy", "sequence_accuracy"),
        callbacks=[stopper],
        seed=0,
    )
    history = trainer.fit(
        x, y, epochs=MAX_EPOCHS, batch_size=16, validation_data=(x, y), progress=False
    )
    assert history.epochs < MAX_EPOCHS
    assert stopper.stopped_epoch == history.epochs - 1
    assert history["val_sequence_accuracy"][-1] == 1.0
    assert trainer.evaluate(x, y)["sequence_accuracy"] == 1.0
    predicted_bits = trainer.predict(x)[..., 0] > 0.5
    assert (bits_to_int(predicted_bits) == a - b).all()
