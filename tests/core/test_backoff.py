from earmark.core.backoff import Backoff


def test_waits_grow_then_give_up_at_the_bound():
    b = Backoff(give_up_after_s=30, first_s=1, max_s=8)
    delays = [b.next_delay(t) for t in (0, 1, 3, 7, 15, 23)]
    assert delays == [1, 2, 4, 8, 8, 7]  # the last one ends at the bound
    assert b.next_delay(30) is None


def test_a_success_starts_the_count_again():
    b = Backoff(give_up_after_s=30)
    b.next_delay(0)
    b.next_delay(1)
    b.reset()
    assert b.next_delay(100) == 1
