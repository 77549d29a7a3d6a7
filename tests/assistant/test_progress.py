"""The CLI's progress bar: silent off a terminal and at first, then a rate and an ETA."""

from __future__ import annotations

import io

from assistant.progress import ProgressBar


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _lines(stream: io.StringIO) -> list[str]:
    return [line.rstrip() for line in stream.getvalue().split("\r") if line]


def test_bar_shows_rate_and_eta_from_the_start_of_the_work() -> None:
    stream, clock = _Terminal(), _Clock()
    bar = ProgressBar("embedding", stream=stream, clock=clock)
    clock.now += 10
    bar(32, 320)  # 3.2 chunks/s; 288 to go -> 90 s
    clock.now += 10
    bar(64, 320)  # same rate; 256 to go -> 80 s
    clock.now += 60
    bar(320, 320)  # done: a rate, no ETA
    bar.close()
    first, second, last = _lines(stream)
    assert first == ("embedding [###---------------------------] 32/320 chunks, "
                     "3.2 chunks/s, ETA 1:30")
    assert second.endswith("64/320 chunks, 3.2 chunks/s, ETA 1:20")
    assert last == "embedding [##############################] 320/320 chunks, 4.0 chunks/s"
    assert stream.getvalue().endswith("\n")


def test_a_shorter_line_overwrites_all_of_the_longer_one_before_it() -> None:
    stream, clock = _Terminal(), _Clock()
    bar = ProgressBar("embedding", stream=stream, clock=clock)
    clock.now += 1
    bar(1, 10_000)  # ETA in hours
    clock.now += 9_999
    bar(10_000, 10_000)
    longer, shorter = stream.getvalue().split("\r")[1:]
    assert "ETA 2:46:39" in longer
    assert len(shorter) == len(longer) and "ETA" not in shorter


def test_bar_is_silent_off_a_terminal_and_during_the_delay() -> None:
    clock = _Clock()
    piped = io.StringIO()
    bar = ProgressBar("embedding", stream=piped, clock=clock)
    clock.now += 60
    bar(5, 10)
    bar.close()
    assert piped.getvalue() == ""

    terminal = _Terminal()
    quick = ProgressBar("embedding", stream=terminal, delay=0.5, clock=clock)
    clock.now += 0.2
    quick(10, 10)
    quick.close()
    assert terminal.getvalue() == ""  # fast work leaves no trace
