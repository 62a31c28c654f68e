"""The Jupyter server extension: REST endpoints under ``/mlops/api/`` for the side panel.

Importing this package imports tornado and jupyter_server; the kernel side never does.
"""
