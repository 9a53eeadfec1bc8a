"""examples/addition_rnn.py, Keras's sequence-to-sequence adder: a short seeded run learns; the full run reaches 0.95."""

import importlib.util
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).parents[1] / "examples" / "addition_rnn.py"


def _example():
    spec = importlib.util.spec_from_file_location("addition_rnn", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_questions_are_unique_padded_and_reversed():
    example = _example()
    questions, answers = example.make_data(200, digits=2, reverse=True)
    assert len(set(questions)) == 200 and {len(q) for q in questions} == {5} and {len(a) for a in answers} == {3}
    a, b = questions[0][::-1].strip().split("+")
    assert int(answers[0]) == int(a) + int(b)
    table = example.CharacterTable("0123456789+ ")
    assert table.decode(table.encode("12+3 ", 5)) == "12+3 "


def test_a_short_seeded_run_learns_to_add_two_digit_numbers():
    # 4,000 two-digit questions, 8 epochs (~8 s): far above the ~0.1 of guessing a character.
    assert _example().main(epochs=8, training_size=4000, digits=2, verbose=0) > 0.4


@pytest.mark.slow
def test_keras_program_reaches_095_validation_accuracy():
    # Keras's settings (50,000 three-digit questions, batch 32), stopping at 0.95: 8 to 11 of its 30 epochs
    # in our runs (~9 s each on one core).
    assert _example().main(epochs=20, training_size=50000, verbose=0, stop_at=0.95) >= 0.95
