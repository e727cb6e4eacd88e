"""The composition root: the one place that knows every slice.

`slices.py` lists them; `assembly.py` reads their declarations; `web.py`, `worker.py`
and `cli.py` build the web application, the job worker and the command line from them.
Nothing else in Watchbill imports this package.
"""
