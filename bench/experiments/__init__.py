"""Experiments measured by the benchmarks: candidate designs, NOT product code.

They exist so that a recommendation in docs/performance.md can be reproduced with the same
storm (`yilian bench booking-storm --server-factory bench.experiments.<module>:<factory>`).
Nothing in src/ imports them.
"""
