"""common.waiting: the one poll-until-deadline loop the cluster, the benches and the tests share."""

import itertools
import time

from common.waiting import wait_until


def test_the_first_truthy_answer_comes_back_and_a_deadline_gives_none():
    answers = itertools.chain([0, "", None], itertools.repeat("ready"))
    assert wait_until(lambda: next(answers), seconds=5, every=0.01) == "ready"
    started = time.monotonic()
    assert wait_until(lambda: False, seconds=0.2, every=0.05) is None
    assert 0.2 <= time.monotonic() - started < 2
