"""The exercise checks say what to do, never the answer, and name the exercise."""

from __future__ import annotations

import pytest

from mallbots.exercises import Exercise, ExerciseFailed


def unanswered(events: list[str]) -> int:
    raise NotImplementedError()


def answered(events: list[str]) -> int:
    return len(events)


def test_an_unanswered_exercise_says_which_function_to_write():
    with pytest.raises(ExerciseFailed, match=r"Exercise 1\.2 is not answered yet.*unanswered\(\)"):
        Exercise("Exercise 1.2").call(unanswered, ["a"])


def test_an_answered_exercise_returns_what_the_function_returns():
    assert Exercise("Exercise 1.2").call(answered, ["a", "b"]) == 2


def test_a_wrong_answer_shows_what_it_gave_and_the_hint_but_not_the_answer():
    with pytest.raises(ExerciseFailed) as refused:
        Exercise("Exercise 3.1").equal(5, 7, "count(events)", "Count only the enabling events.")
    message = str(refused.value)
    assert message.startswith("Exercise 3.1: count(events) gave 5")
    assert "Count only the enabling events." in message
    assert "7" not in message


def test_expect_fails_with_the_hint_and_passes_silently():
    Exercise("Exercise 2.1").expect(True, "never shown")
    with pytest.raises(ExerciseFailed, match=r"Exercise 2\.1: not yet\. Look at the version\."):
        Exercise("Exercise 2.1").expect(False, "Look at the version.")


def test_done_says_so(capsys):
    Exercise("Exercise 2.1").done()
    assert capsys.readouterr().out == "Exercise 2.1: correct, well done.\n"


def test_another_error_in_the_students_code_is_not_hidden():
    def broken(events: list[str]) -> int:
        return events[5]

    with pytest.raises(IndexError):
        Exercise("Exercise 1.1").call(broken, [])
