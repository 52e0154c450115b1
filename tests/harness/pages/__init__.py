"""Pages driven once in Chromium and once in the harness (``tests.harness.test_parity``): each
shows, in ``#log``, every event its handlers received, so the two runs can be compared."""
