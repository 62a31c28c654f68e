"""Plain-Python domain code of jupyter-mlops.

Nothing under ``kernel_magics.core`` imports IPython, tornado or jupyter_server: the kernel side,
the server extension and the command line all build on it (a test enforces this).
"""
