"""jobext benchmarks: each one starts a real ``jupyter server`` with jobext and measures it over
HTTP. Run them all with ``python -m bench`` from the repository root; see ``bench/README.md``.
"""
