"""Speed and quality benchmarks: the project's engine against the textbook algorithm and a peer.

Run ``python -m benchmarks --help``; results go to ``benchmarks/RESULTS.md`` and images to
``benchmarks/out/``.
"""
