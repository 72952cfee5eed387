"""`make bench`: a deterministic large data set and the timings of the hot pages and jobs.

`python -m bench --help` (bench/run.py) runs it; bench/data.py generates the data.
"""
