"""Code that runs inside the IPython kernel: the magics, their argument parsers and widgets."""
