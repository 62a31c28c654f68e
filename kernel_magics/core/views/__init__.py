"""What the CLI and the magics show, built once: tables of display-ready rows.

A view function turns records from the store (through its repositories and the run search)
into a :class:`~.table.Table` or a :class:`~.table.Page`; ``kernel_magics.cli`` renders them
with rich, ``kernel_magics.kernel`` as HTML. One module per feature: :mod:`.runs`,
:mod:`.models`, :mod:`.deployments`, :mod:`.schedules`; :mod:`.formatting` holds how times,
durations and numbers read. No SQL here, and no pandas (the CLI imports these modules).
"""
