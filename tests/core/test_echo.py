"""The echo check on a call: the other side's words coming back through the microphone."""

from earmark.core.echo import TimedWord, echo_indices, own_words


def words(text: str, start: int = 0, step: int = 300) -> list[TimedWord]:
    return [TimedWord(w, start + i * step, start + i * step + 250)
            for i, w in enumerate(text.split())]


def test_a_sentence_heard_back_a_moment_later_is_an_echo():
    system = words("We ship the new build on Friday.", 1000)
    mic = words("we ship the new build on friday", 1080)
    assert own_words(mic, system) is None


def test_the_users_own_words_around_an_echo_are_kept():
    system = words("the invoice is overdue", 5000)
    mic = words("okay so the invoice is overdue I will call them", 4400)
    kept = own_words(mic, system)
    assert [mic[i].text for i in kept] == ["okay", "so", "I", "will", "call", "them"]


def test_a_misheard_word_inside_the_echo_goes_with_it():
    system = words("please send the contract today", 0)
    mic = words("please send a contract today", 60)
    assert echo_indices(mic, system) == {0, 1, 2, 3, 4}


def test_common_words_alone_are_not_an_echo():
    system = words("the budget and the plan", 0)
    mic = words("I like the idea and the timing", 100)
    assert echo_indices(mic, system) == set()


def test_the_same_words_said_much_later_are_the_users():
    system = words("we ship on friday", 0)
    mic = words("we ship on friday", 20_000)
    assert own_words(mic, system) == [0, 1, 2, 3]


def test_a_short_turn_is_an_echo_only_when_all_of_it_is():
    system = words("yes exactly", 3000)
    assert own_words(words("yes exactly", 3100), system) is None
    assert own_words(words("yes please", 3100), system) == [0, 1]
